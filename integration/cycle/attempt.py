"""One try at one planned action: what the executor's handlers act through (`Effects`, `Attempt`),
and what every handler shares: the action's reference in the books (its evidence after a crash),
`Skip` when the precondition no longer holds, and the facts saved on the row as they happen."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Connector, Customer, Invoice, Money
from integration.cycle.outcomes import ExecutionReport
from integration.cycle.precondition_reads import PreconditionReads
from integration.policy.recheck import Verdict
from integration.store.db import transaction
from integration.store.models import Action
from reminders.delivery import EmailMessage, EmailSender

NOTE_PREFIX = "arp-"


def action_ref(row: Action) -> str:
    """The short reference written into notes; it finds the action's evidence after a crash."""
    return NOTE_PREFIX + row.idempotency_key.rsplit(":", 1)[-1][:16]


class ComposeReminder(Protocol):
    """A reminder's email, or with `by_post` the same reminder in the words of a letter to post."""

    def __call__(
        self,
        row: Action,
        customer: Customer,
        invoices: Sequence[Invoice],
        credit: Mapping[str, Money],
        *,
        by_post: bool,
    ) -> EmailMessage: ...


ComposeStatement = Callable[[Session, Action, dt.datetime], EmailMessage]
Recheck = Callable[[Session, Action, dt.datetime], Verdict]


@dataclass
class Effects:
    """What execution acts through; each is an injectable seam for tests."""

    connector: Connector
    sender: EmailSender
    compose_reminder: ComposeReminder
    compose_statement: ComposeStatement
    recheck: Recheck  # the owner's word and the rules as they stand when the action is reached
    clock: Callable[[], dt.datetime]
    timezone: str  # the company's: notes say when, in its local time
    sleep: Callable[[float], None] = time.sleep

    def local_now(self) -> dt.datetime:
        return self.clock().astimezone(ZoneInfo(self.timezone))


@dataclass(frozen=True)
class Attempt:
    """One try at one action. `recovering`: found in_flight after a crash, so its effect may have
    happened; `retry`: a later try in this run after an error that may have come after the effect."""

    sessions: sessionmaker[Session]
    effects: Effects
    report: ExecutionReport
    recovering: bool
    retry: bool
    reads: PreconditionReads


class Skip(Exception):
    """The precondition no longer holds: the action is skipped with this reason."""


Handler = Callable[[Action, Attempt], str]


def save_payload(
    sessions: sessionmaker[Session], row: Action, *, external_ref: str | None = None, **facts: Any
) -> None:
    row.payload = {**row.payload, **facts}
    values: dict[str, Any] = {"payload": row.payload}
    if external_ref is not None:
        row.external_ref = values["external_ref"] = external_ref
    with transaction(sessions) as session:
        session.execute(update(Action).where(Action.id == row.id).values(**values))
