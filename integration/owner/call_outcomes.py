"""What came of a call the policy asked the owner to make, recorded three ways.

1. An activity entry (kind `call_outcome`, tied to the call task's ledger row), committed first:
   the owner's word is never lost, even when the accounting system cannot be reached.
2. The matching invoice pause for a promise to pay (by a date) or a dispute, stored through the
   settings page's path (`integration.owner.overrides.save_invoice_word`), so the next decide holds
   the ladder exactly as if the owner had set it on the invoice.
3. A note on each of the task's invoices at the provider, through the executor's note path
   (`integration.cycle.book_writes.write_invoice_notes`), keyed by the entry so a retry writes it once.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Connector, ConnectorError, Note
from integration.config import ConfigError
from integration.cycle.attempt import NOTE_PREFIX
from integration.cycle.book_writes import write_invoice_notes
from integration.owner.overrides import OwnerWordError, invoice_pauses, save_invoice_word, stored_invoice_word
from integration.policy.actions import ActionKind
from integration.store.db import transaction
from integration.store.models import Action, ActivityEntry, Connection, MirroredInvoice, Organization
from integration.store.scoping import scoped
from oauth.redact import redact

ACTIVITY_KIND = "call_outcome"


class CallOutcome(str, enum.Enum):
    PROMISED = "promised"
    DISPUTED = "disputed"
    PAID = "paid"
    NO_ANSWER = "no_answer"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def settles_task(self) -> bool:
        """Whether the call is over: only "no answer" leaves it on the list to try again."""
        return self is not CallOutcome.NO_ANSWER


_LABELS = {
    CallOutcome.PROMISED: "Promised to pay",
    CallOutcome.DISPUTED: "Disputed",
    CallOutcome.PAID: "Paid",
    CallOutcome.NO_ANSWER: "No answer",
}


class OutcomeError(ValueError):
    """The outcome cannot be recorded as given; the text says which field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CallTaskNotFound(LookupError):
    """No call task with this id in the organization (another organization's looks the same)."""


class CallAlreadyLogged(Exception):
    """The call already has an outcome that settles it (a double submit, or a stale page)."""

    def __init__(self, outcome: CallOutcome) -> None:
        super().__init__(f"this call was already recorded as {outcome.label!r}")
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class LoggedOutcome:
    entry_id: int
    note_error: str | None  # why the note could not be written at the provider
    note_written: bool


def parse_outcome(
    outcome: str, promised_on: str, comment: str, today: dt.date
) -> tuple[CallOutcome, dt.date | None, str]:
    """The form's fields checked: a known outcome, a promise date (today or later) for a promise only."""
    try:
        kind = CallOutcome(outcome)
    except ValueError:
        raise OutcomeError("outcome", "Choose what came of the call.") from None
    comment = " ".join(comment.split())
    if len(comment) > 500:
        raise OutcomeError("comment", "Keep the comment under 500 characters.")
    if kind is not CallOutcome.PROMISED:
        return kind, None, comment
    if not promised_on:
        raise OutcomeError("promised_on", "Enter the date the customer promised to pay by.")
    try:
        day = dt.date.fromisoformat(promised_on)
    except ValueError:
        raise OutcomeError("promised_on", "Enter the promised date as YYYY-MM-DD.") from None
    if day < today:
        raise OutcomeError("promised_on", "The promised date cannot be in the past.")
    return kind, day, comment


def note_text(outcome: CallOutcome, promised_on: dt.date | None, comment: str) -> str:
    """The sentence written on the invoice at the provider."""
    said = {
        CallOutcome.PROMISED: f"customer promised to pay by {promised_on.isoformat() if promised_on else ''}",
        CallOutcome.DISPUTED: "customer disputes the invoice; reminders paused",
        CallOutcome.PAID: "customer says the invoice has been paid",
        CallOutcome.NO_ANSWER: "no answer",
    }[outcome]
    return f"arpilot: call to customer: {said}." + (f" {comment}" if comment else "")


def find_call_task(session: Session, organization_id: int, action_id: int, *, lock: bool = False) -> Action | None:
    """The organization's call task `action_id`; `lock` holds its row (PostgreSQL) so that two
    outcomes posted at once for one call are recorded one after the other."""
    statement = scoped(Action, organization_id).where(
        Action.id == action_id, Action.kind == ActionKind.CREATE_CALL_TASK.value
    )
    return session.scalars(statement.with_for_update(of=Action) if lock else statement).one_or_none()


def settling_outcome(session: Session, organization_id: int, action_id: int) -> CallOutcome | None:
    """The outcome that ended this call task, if one did."""
    for entry in session.scalars(
        scoped(ActivityEntry, organization_id).where(
            ActivityEntry.kind == ACTIVITY_KIND,
            ActivityEntry.action_id == action_id,
        )
    ):
        outcome = CallOutcome(entry.details["outcome"])
        if outcome.settles_task:
            return outcome
    return None


ConnectorFor = Callable[[Connection, Organization], Connector]


def log_call_outcome(
    sessions: sessionmaker[Session],
    organization_id: int,
    action_id: int,
    outcome: CallOutcome,
    promised_on: dt.date | None,
    comment: str,
    connector_for: ConnectorFor,
    today: dt.date,
    *,
    write_note: bool = True,
) -> LoggedOutcome:
    """Record the outcome; `write_note` False (observe mode: arpilot writes nothing in the books)
    records it and its pause without the note."""
    text = note_text(outcome, promised_on, comment)
    with transaction(sessions) as session:
        task = find_call_task(session, organization_id, action_id, lock=True)
        if task is None:
            raise CallTaskNotFound(f"no call task {action_id}")
        settled = settling_outcome(session, organization_id, task.id)
        if settled is not None:
            raise CallAlreadyLogged(settled)
        invoice_ids = list(task.payload.get("invoice_ids") or ())
        entry = ActivityEntry(
            organization_id=organization_id,
            connection_id=task.connection_id,
            action_id=task.id,
            kind=ACTIVITY_KIND,
            message=f"Call outcome: {outcome.label}" + (f" by {promised_on.isoformat()}" if promised_on else "") + ".",
            customer_provider_id=task.payload.get("customer_id"),
            invoice_provider_id=invoice_ids[0] if len(invoice_ids) == 1 else None,
            details={
                "outcome": outcome.value,
                "promised_on": promised_on.isoformat() if promised_on else None,
                "comment": comment,
                "invoice_ids": invoice_ids,
                "note": "pending",
            },
        )
        session.add(entry)
        if outcome in (CallOutcome.PROMISED, CallOutcome.DISPUTED):
            _pause(session, organization_id, task.connection_id, invoice_ids, outcome, promised_on, today)
        session.flush()
        entry_id, key = entry.id, f"{task.idempotency_key}:call:{entry.id}"
        connection = session.get(Connection, task.connection_id)
        organization = session.get(Organization, organization_id)
        session.expunge_all()
    if not write_note:
        _note_state(sessions, entry_id, "not written: observe mode")
        return LoggedOutcome(entry_id, None, note_written=False)
    error = None
    try:
        connector = connector_for(connection, organization)  # type: ignore[arg-type]
        write_invoice_notes(
            connector, invoice_ids, Note(text=text, action_id=f"{NOTE_PREFIX}call-{entry_id}", on=today), key
        )
    except (ConnectorError, ConfigError) as exc:
        error = redact(str(exc)) or type(exc).__name__
    _note_state(sessions, entry_id, "written" if error is None else "failed", error)
    return LoggedOutcome(entry_id, error, note_written=error is None)


def _note_state(sessions: sessionmaker[Session], entry_id: int, state: str, error: str | None = None) -> None:
    with transaction(sessions) as session:
        stored = session.get(ActivityEntry, entry_id)
        assert stored is not None
        stored.details = {**stored.details, "note": state, "note_error": error}
        if error is not None:
            stored.level = "warning"
            stored.message += f" The note could not be written at the provider: {error}"


def _pause(
    session: Session,
    organization_id: int,
    connection_id: int,
    invoice_ids: list[str],
    outcome: CallOutcome,
    promised_on: dt.date | None,
    today: dt.date,
) -> None:
    """The promise or dispute on each invoice, through the settings page's own path (checked, and
    recorded in the activity log like any change of the owner's word); what else stood stays."""
    invoices = session.scalars(
        scoped(MirroredInvoice, organization_id)
        .where(
            MirroredInvoice.connection_id == connection_id,
            MirroredInvoice.provider_id.in_(invoice_ids),
        )
        .order_by(MirroredInvoice.number)
    ).all()
    pauses = invoice_pauses(session, list(invoices))
    for invoice in invoices:
        stood = stored_invoice_word(pauses.get(invoice.id))
        word = (
            replace(stood, promise_to_pay=promised_on)
            if outcome is CallOutcome.PROMISED
            else replace(stood, disputed=True)
        )
        try:
            save_invoice_word(session, organization_id, invoice, word, today)
        except OwnerWordError as exc:
            field = "promised_on" if exc.field == "promise_to_pay" else "outcome"  # shown beside the date typed
            raise OutcomeError(field, f"Invoice {invoice.number}: {exc.message}") from exc
