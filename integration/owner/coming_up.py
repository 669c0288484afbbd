"""Coming up: what arpilot's policy would do over the next two weeks if nothing changes, day by day,
and the owner's three answers to one planned step: do it now, skip it, or pause the customer.

The calendar is the policy projected on each active connection's mirror (`integration.owner.projected`).
A step is named by its connection and its policy key, the key the cycle would plan it under, so an
answer about it is an answer about exactly that step:

- *now*: the step goes into the ledger as planned, for the executor to carry out with its send-time
  re-check (the owner's word, the send window, the invoices still owed) in the connection's next
  cycle, which the web view asks to start at once;
- *skip*: the step goes into the ledger as skipped, as a skip in the Approve list does; the cycle
  never plans a key that is already there, and the calendar leaves it out;
- *pause*: the customer's existing pause (`integration.owner.overrides`).

Each is written to the activity log. In observe mode nothing is put in the ledger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from integration.cycle.plan import ledger_key, plan
from integration.owner.overrides import customer_word, save_customer_word
from integration.owner.projected import Projection, projection
from integration.owner.records import RecordNotFound, find_customer
from integration.owner.timeline import step_label
from integration.policy.actions import PlannedAction
from integration.policy.aging import local_today
from integration.store.models import (
    Action,
    ActionStatus,
    ActivityEntry,
    Connection,
    ConnectionStatus,
    MirroredCustomer,
)
from integration.store.scoping import scoped

HORIZON_DAYS = 14


class StepGone(LookupError):
    """The step is no longer among those the policy would take (paid, paused or done since)."""


class ObserveMode(RuntimeError):
    """The organization observes: arpilot shows its steps and puts none in the ledger."""


@dataclass(frozen=True)
class ComingStep:
    connection_id: int
    key: str  # the policy's idempotency key
    day: dt.date
    customer_row: int | None  # the mirrored customer's id: the timeline link and the pause
    customer_name: str
    label: str
    reason: str
    invoices: str  # "1001, 1002"


@dataclass(frozen=True)
class ComingUp:
    today: dt.date
    days: list[tuple[dt.date, list[ComingStep]]]  # every day of the horizon, in order, with its steps
    observing: bool

    @property
    def count(self) -> int:
        return sum(len(steps) for _, steps in self.days)


def _active_connections(session: Session, organization_id: int) -> list[Connection]:
    return list(
        session.scalars(
            scoped(Connection, organization_id)
            .where(Connection.status == ConnectionStatus.ACTIVE)
            .order_by(Connection.id)
        )
    )


def _steps(session: Session, organization_id: int, connection_id: int, projected: Projection) -> list[ComingStep]:
    ids = {s.action.customer_id for s in projected.steps}
    rows = {
        c.provider_id: c
        for c in session.scalars(
            scoped(MirroredCustomer, organization_id).where(
                MirroredCustomer.connection_id == connection_id, MirroredCustomer.provider_id.in_(ids)
            )
        )
    }
    numbers = {i.provider_id: i.number for i in projected.snapshot.invoices}
    found = []
    for step in projected.steps:
        action = step.action
        customer = rows.get(action.customer_id)
        found.append(
            ComingStep(
                connection_id=connection_id,
                key=action.idempotency_key,
                day=step.day,
                customer_row=customer.id if customer is not None else None,
                customer_name=customer.name if customer is not None else action.customer_id,
                label=step_label(action.kind, action.stage),
                reason=action.reason,
                invoices=", ".join(numbers.get(i, i) for i in action.invoice_ids),
            )
        )
    return found


def coming_up(session: Session, organization_id: int, now: dt.datetime, days: int = HORIZON_DAYS) -> ComingUp:
    """Every active connection's projected steps, by day in each company's time zone."""
    by_day: dict[dt.date, list[ComingStep]] = {}
    today: dt.date | None = None
    observing = False
    for connection in _active_connections(session, organization_id):
        projected = projection(session, organization_id, connection.id, now, days)
        observing = observing or projected.rules.mode != "live"
        local = local_today(now, projected.snapshot.company.timezone)
        today = local if today is None else min(today, local)
        for step in _steps(session, organization_id, connection.id, projected):
            by_day.setdefault(step.day, []).append(step)
    if today is None:
        return ComingUp(dt.date.min, [], observing)
    calendar = [(today + dt.timedelta(days=n), by_day.get(today + dt.timedelta(days=n), [])) for n in range(days)]
    return ComingUp(today, calendar, observing)


def _find(
    session: Session, organization_id: int, connection_id: int, key: str, now: dt.datetime
) -> tuple[Projection, PlannedAction, dt.date]:
    if session.scalar(scoped(Connection, organization_id).where(Connection.id == connection_id)) is None:
        raise RecordNotFound(f"connection {connection_id}")  # another organization's looks like a missing one
    projected = projection(session, organization_id, connection_id, now, HORIZON_DAYS)
    for step in projected.steps:
        if step.action.idempotency_key == key:
            return projected, step.action, step.day
    raise StepGone("This step is no longer planned: it was paid, paused or done since the page was shown.")


def _log(
    session: Session, organization_id: int, connection_id: int, action: PlannedAction, kind: str, message: str
) -> None:
    row_id = session.scalar(
        scoped(Action, organization_id)
        .with_only_columns(Action.id)
        .where(Action.idempotency_key == ledger_key(connection_id, action.idempotency_key))
    )
    session.add(
        ActivityEntry(
            organization_id=organization_id,
            connection_id=connection_id,
            action_id=row_id,
            kind=kind,
            message=message,
            customer_provider_id=action.customer_id,
            invoice_provider_id=action.invoice_ids[0] if len(action.invoice_ids) == 1 else None,
            details={"kind": action.kind.value, "invoice_ids": list(action.invoice_ids), "stage": action.stage},
        )
    )


def _into_ledger(
    session: Session, organization_id: int, connection_id: int, projected: Projection, action: PlannedAction
) -> bool:
    balances = {
        i.provider_id: i.balance.amount for i in projected.snapshot.invoices if i.provider_id in action.invoice_ids
    }
    return plan(session, organization_id, connection_id, [action], balances) == 1


def do_now(session: Session, organization_id: int, connection_id: int, key: str, now: dt.datetime) -> str:
    """Plan the step for the executor now; the caller starts the connection's cycle. Returns what was done."""
    projected, action, day = _find(session, organization_id, connection_id, key, now)
    if projected.rules.mode != "live":
        raise ObserveMode("Observe mode: arpilot sends and writes nothing. Switch to live mode in Settings first.")
    label = step_label(action.kind, action.stage)
    # The send window is the executor's to apply as the step goes out; the step's own day is brought forward.
    _into_ledger(session, organization_id, connection_id, projected, dataclasses.replace(action, not_before=None))
    _log(
        session,
        organization_id,
        connection_id,
        action,
        "owner_did_now",
        f"You asked for {label} now, planned for {day.isoformat()}: {action.reason}",
    )
    return label


def skip_step(session: Session, organization_id: int, connection_id: int, key: str, now: dt.datetime) -> str:
    """Record the step as skipped by the owner: the cycle never plans it again."""
    projected, action, day = _find(session, organization_id, connection_id, key, now)
    if projected.rules.mode != "live":
        raise ObserveMode("Observe mode: arpilot plans nothing, so there is nothing to skip yet.")
    label = step_label(action.kind, action.stage)
    _into_ledger(session, organization_id, connection_id, projected, action)
    session.execute(
        update(Action)
        .where(
            Action.organization_id == organization_id,
            Action.idempotency_key == ledger_key(connection_id, action.idempotency_key),
            Action.status == ActionStatus.PLANNED,
        )
        .values(status=ActionStatus.SKIPPED, last_error="skipped by the owner", completed_at=now)
    )
    _log(
        session,
        organization_id,
        connection_id,
        action,
        "action_skipped",
        f"You skipped {label}, planned for {day.isoformat()}: {action.reason}",
    )
    return label


def pause_customer(session: Session, organization_id: int, customer_id: int) -> MirroredCustomer:
    """The customer's pause, as the customer's settings set it (logged there)."""
    customer = find_customer(session, organization_id, customer_id)
    word = customer_word(session, customer)
    save_customer_word(session, organization_id, customer, dataclasses.replace(word, paused=True))
    return customer
