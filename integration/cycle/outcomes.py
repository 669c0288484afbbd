"""How an action ended, recorded once: its row's final status, an activity-log line, and the run's
tally (`finish`, the executor's). A statement the owner emails from a page (`requested_statement`)
and the targeted refresh write their activity-log lines with the same `outcome_entry`."""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, ActivityEntry
from oauth.redact import redact

MAX_ATTEMPTS = 5  # across cycles; then the action fails for the owner to see


class Outcome(str, enum.Enum):
    DONE = "done"
    WARNED = "done_with_warning"  # the effect happened; its note could not be written (Action.warning says why)
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRY = "retry"  # left planned for the next cycle


@dataclass
class ExecutionReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)  # done actions per kind
    emails_sent: int = 0
    notes_written: int = 0
    skipped_reasons: Counter[str] = field(default_factory=Counter)


def error_text(exc: BaseException) -> str:
    """An error as the owner reads it: its words, any secret redacted."""
    return redact(str(exc)) or type(exc).__name__


def ambiguous_send(exc: BaseException) -> str:
    """Why an email that may have reached the provider was not sent again."""
    return (
        "the email provider did not confirm whether it accepted the message; it was not sent again "
        f"so the customer cannot get it twice ({error_text(exc)})"
    )


def finish(
    sessions: sessionmaker[Session],
    row: Action,
    outcome: Outcome,
    detail: str,
    report: ExecutionReport,
    now: dt.datetime,
) -> None:
    with transaction(sessions) as session:
        current = session.get(Action, row.id)
        assert current is not None
        if outcome is Outcome.RETRY and current.attempts >= MAX_ATTEMPTS:
            outcome = Outcome.FAILED
        if outcome is Outcome.FAILED and row.payload.get("delivered") is not None:
            # The email went out; only its note failed. Done, with the reason the books refused it.
            outcome, detail = Outcome.WARNED, f"delivered, but the note could not be written into the books: {detail}"
        if outcome is Outcome.DONE:
            current.status, current.external_ref, current.completed_at = ActionStatus.DONE, detail, now
            message = row.reason
        elif outcome is Outcome.WARNED:
            current.status, current.warning, current.completed_at = ActionStatus.DONE, detail, now
            current.external_ref = row.external_ref
            message = f"Done with a warning: {row.reason} ({detail})"
        elif outcome is Outcome.SKIPPED:
            current.status, current.last_error, current.completed_at = ActionStatus.SKIPPED, detail, now
            message = f"Skipped: {detail}"
            report.skipped_reasons[detail] += 1
        elif outcome is Outcome.RETRY:
            current.status, current.last_error = ActionStatus.PLANNED, detail
            message = f"Will retry (attempt {current.attempts} of {MAX_ATTEMPTS}): {detail}"
        else:
            current.status, current.last_error, current.completed_at = ActionStatus.FAILED, detail, now
            message = f"Failed: {detail}"
            outcome = Outcome.FAILED
        session.add(outcome_entry(row, outcome, message))
    report.outcomes[outcome.value] += 1
    if outcome in (Outcome.DONE, Outcome.WARNED):
        report.by_kind[row.kind] += 1


def outcome_entry(row: Action, outcome: Outcome, message: str) -> ActivityEntry:
    """The activity-log line of an action's outcome, on its customer and (when it has one) its invoice."""
    invoice_ids = row.payload.get("invoice_ids") or []
    return ActivityEntry(
        organization_id=row.organization_id,
        connection_id=row.connection_id,
        action_id=row.id,
        level="error"
        if outcome is Outcome.FAILED
        else "warning"
        if outcome in (Outcome.RETRY, Outcome.WARNED)
        else "info",
        kind=f"action_{outcome.value}",
        message=message,
        customer_provider_id=row.payload.get("customer_id"),
        invoice_provider_id=invoice_ids[0] if len(invoice_ids) == 1 else None,
        details={"kind": row.kind, "invoice_ids": invoice_ids, "stage": row.payload.get("stage")},
    )
