"""A statement the owner emails from a customer's page: sent once however often, and by however many
people at once, the button is pressed.

The request claims the statement in the action ledger before it sends anything: one row per customer
and statement date (`integration.cycle.plan.claim`), inserted already in flight and marked sending
(subject, recipients, text: as the executor marks an email before handing it over), so of two
simultaneous requests exactly one inserts the row and sends; the other reads the row and says where
the statement went, or that it is going out. A send that fails marks the row failed with the reason,
and a later request claims it again (a conditional UPDATE on the attempt it read: again only one).
A request killed mid-send leaves its row in flight; once that is older than any send can take, the
next request marks it failed, saying that arpilot cannot tell whether it went out, and the one after
sends it again: the owner decides, knowing that. The executor leaves these rows to the request
(`integration.cycle.execute.requested`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from integration.cycle.email_send import sending_facts
from integration.cycle.outcomes import Outcome, ambiguous_send, error_text, outcome_entry
from integration.cycle.plan import claim, ledger_key
from integration.documents.statement import Statement
from integration.documents.statement_email import statement_key
from integration.policy.actions import ActionKind, PlannedAction
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, ActivityEntry, Organization
from reminders.delivery import DeliveryError, DeliveryTransient, EmailMessage, EmailSender, InvalidMessage

EMAILED = "statement_emailed"  # the activity entry of a statement sent on request
# Far longer than one send can take (SendGrid's client gives up after 30 seconds): a row in flight
# for longer belongs to a request that was killed.
STALE_AFTER = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Sent:
    to: tuple[str, ...]
    earlier: bool  # sent by an earlier request: this one sent nothing


@dataclass(frozen=True)
class Sending:
    """Another request is sending it right now."""

    to: tuple[str, ...]


@dataclass(frozen=True)
class _Failed:
    reason: str


class StatementNotSent(Exception):
    """The statement did not go out (or arpilot cannot tell); the message says why and that pressing
    again sends it. The row is failed, ready to be claimed by the next request."""


def requested_key(connection_id: int, statement: Statement) -> str:
    """The ledger key of the customer's statement of that date (also the email's key)."""
    return ledger_key(connection_id, statement_key(connection_id, statement))


def email_statement(
    sessions: sessionmaker[Session],
    organization_id: int,
    connection_id: int,
    statement: Statement,
    message: EmailMessage,
    sender: EmailSender,
    now: dt.datetime,
) -> Sent | Sending:
    """Send `message` (keyed `requested_key`) unless this statement was sent or is being sent."""
    action = PlannedAction(
        kind=ActionKind.SEND_STATEMENT,
        customer_id=statement.customer.provider_id,
        invoice_ids=(),
        stage=None,
        recipients=tuple(a.email for a in message.to),
        reason="statement of account, emailed at your request",
        idempotency_key=statement_key(connection_id, statement),
    )
    key = ledger_key(connection_id, action.idempotency_key)
    facts = {**sending_facts(message), "requested_at": now.isoformat()}
    with transaction(sessions) as session:
        action_id = claim(session, organization_id, connection_id, action, facts) or _claim_again(
            session, key, facts, now
        )
        found = _where_it_is(session, key) if action_id is None else None
        timezone = session.get_one(Organization, organization_id).timezone
    if isinstance(found, _Failed):
        raise StatementNotSent(_press_again(found.reason))
    if found is not None:
        return found
    assert action_id is not None
    try:
        receipt = sender.send(message)
    except (DeliveryError, InvalidMessage) as exc:
        unsure = isinstance(exc, DeliveryTransient) and exc.ambiguous and not sender.idempotent
        reason = ambiguous_send(exc) if unsure else error_text(exc)
        _fail(sessions, action_id, reason, now)
        raise StatementNotSent(_press_again(reason)) from exc
    with transaction(sessions) as session:
        row = session.get_one(Action, action_id)
        row.payload = {
            **row.payload,
            "delivered": [],
            "sent_at": now.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M"),
        }
        row.status, row.completed_at = ActionStatus.DONE, now
        row.external_ref = f"email:{receipt.message_id or receipt.provider}"
        session.add(
            ActivityEntry(
                organization_id=organization_id,
                connection_id=connection_id,
                action_id=action_id,
                kind=EMAILED,
                message=f"Statement of account emailed to {', '.join(action.recipients)}",
                customer_provider_id=action.customer_id,
                details={"key": key, "to": list(action.recipients), "as_of": statement.as_of.isoformat()},
            )
        )
    return Sent(action.recipients, earlier=False)


def _claim_again(session: Session, key: str, facts: dict[str, object], now: dt.datetime) -> int | None:
    """The row of an earlier try, claimed for this one if it failed; one left in flight by a killed
    request is marked failed first (nothing is sent: it may have gone out)."""
    row = session.scalars(select(Action).where(Action.idempotency_key == key)).one()
    if row.status is ActionStatus.IN_FLIGHT and _stale(row, now):
        _fail_if(
            session,
            row,
            ActionStatus.IN_FLIGHT,
            "arpilot stopped while this statement was being handed to the email provider and cannot tell "
            "whether it went out; it was not sent again so the customer cannot get it twice",
            now,
        )
        return None
    if row.status is not ActionStatus.FAILED:
        return None
    claimed = session.execute(
        update(Action)
        .where(Action.id == row.id, Action.status == ActionStatus.FAILED, Action.attempts == row.attempts)
        .values(
            status=ActionStatus.IN_FLIGHT,
            attempts=row.attempts + 1,
            payload={**row.payload, **facts},
            last_error=None,
            completed_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return row.id if claimed.rowcount else None  # type: ignore[attr-defined]


def _stale(row: Action, now: dt.datetime) -> bool:
    return now - dt.datetime.fromisoformat(row.payload["requested_at"]) > STALE_AFTER


def _where_it_is(session: Session, key: str) -> Sent | Sending | _Failed:
    """Where the statement another request claimed stands: sent, being sent, or why it failed."""
    row = session.scalars(select(Action).where(Action.idempotency_key == key)).one()
    session.refresh(row)  # as committed by whichever request claimed it
    to = tuple(row.payload.get("sent_to") or ())
    if row.status is ActionStatus.DONE:
        return Sent(to, earlier=True)
    if row.status is ActionStatus.IN_FLIGHT:
        return Sending(to)
    return _Failed(row.last_error or "it failed")


def _fail(sessions: sessionmaker[Session], action_id: int, reason: str, now: dt.datetime) -> None:
    with transaction(sessions) as session:
        _fail_if(session, session.get_one(Action, action_id), ActionStatus.IN_FLIGHT, reason, now)


def _fail_if(session: Session, row: Action, seen: ActionStatus, reason: str, now: dt.datetime) -> None:
    """The row failed with `reason`, if it is still as read (another request may have moved it)."""
    failed = session.execute(
        update(Action)
        .where(Action.id == row.id, Action.status == seen, Action.attempts == row.attempts)
        .values(status=ActionStatus.FAILED, last_error=reason, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if failed.rowcount:  # type: ignore[attr-defined]
        session.add(outcome_entry(row, Outcome.FAILED, f"Failed: {reason}"))


def _press_again(reason: str) -> str:
    return f"The statement was not sent: {reason}. Press Email a statement now to send it again."
