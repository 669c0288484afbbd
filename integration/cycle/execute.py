"""The executor of the action ledger: perform each planned effect at most once, record it once.

Planning is `integration.cycle.plan.plan`. Execute walks the planned rows, re-deciding each at that
moment (`integration.cycle.send_check`): the row goes in_flight (committed) before any effect, the
precondition is re-checked against the provider, the effect carries the action's key (QuickBooks
requestid, Xero Idempotency-Key, the outbox key), and the outcome is committed last. The note
written back carries the action's reference, so a row found in_flight after a crash is reconciled
from that evidence before anything is repeated.

Here: which rows to act on, the claim, and the retries. The handlers are in `email_send` (emails)
and `book_writes` (notes, terms, holds, late fees, the owner's tasks), with what they share in
`attempt` and the invoices' re-check in `invoice_recheck`; outcomes are recorded by `outcomes`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import AuthExpired, ConnectorError, NotFound, ProviderValidationError, RateLimited, Transient
from integration.cycle.attempt import Attempt, Effects, Handler, Skip
from integration.cycle.book_writes import add_note, charge_late_fee, hold, owner_task, set_terms
from integration.cycle.email_send import send_reminder, send_statement, send_through_provider
from integration.cycle.outcomes import ExecutionReport, Outcome, ambiguous_send, error_text, finish
from integration.cycle.precondition_reads import PreconditionReads
from integration.cycle.send_check import apply_verdict
from integration.policy.actions import ActionKind
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus
from reminders.delivery import DeliveryError, DeliveryRejected, DeliveryTransient, InvalidMessage
from reminders.errors import ContentError

log = logging.getLogger(__name__)

RETRIES_PER_RUN = 3  # transient failures retried inside one execution, with doubling back-off
BASE_BACKOFF_SECONDS = 1.0


class StopCycle(Exception):
    """Nothing more can be done for this connection this cycle (grant gone, daily limit reached)."""

    def __init__(self, message: str, *, needs_reconnect: bool = False) -> None:
        super().__init__(message)
        self.needs_reconnect = needs_reconnect


def execute(sessions: sessionmaker[Session], connection_id: int, effects: Effects, now: dt.datetime) -> ExecutionReport:
    """Perform every planned action that is due; raises StopCycle when the connection must stop."""
    report = ExecutionReport()
    with transaction(sessions) as session:
        due = session.execute(
            select(Action.id, Action.kind, Action.payload, Action.status, Action.not_before)
            .where(
                Action.connection_id == connection_id,
                Action.status.in_((ActionStatus.PLANNED, ActionStatus.IN_FLIGHT, ActionStatus.AWAITING_APPROVAL)),
            )
            .order_by(Action.id)
        ).all()
    reads = PreconditionReads(
        effects.connector,
        [
            (a.id, a.payload.get("invoice_ids") or [], _emails_pay_links(a.kind, a.payload))
            for a in due
            if ActionKind(a.kind) in INVOICE_CHECKED_KINDS
            and a.status is not ActionStatus.AWAITING_APPROVAL
            and not _waiting(a.status, a.not_before, now)
        ],
    )
    for action_id in (a.id for a in due if not requested(a.payload)):
        skip = None
        with transaction(sessions) as session:
            row = session.get(Action, action_id)
            assert row is not None
            if row.status not in (ActionStatus.PLANNED, ActionStatus.IN_FLIGHT, ActionStatus.AWAITING_APPROVAL):
                continue  # skipped since it was listed (a payment webhook's targeted refresh)
            recovering = row.status == ActionStatus.IN_FLIGHT
            if not recovering and not _started(row):
                # Re-decided now: a promise logged, a pause, a changed send window or rule since planning.
                verdict = effects.recheck(session, row, now)
                skip = verdict.skip
                if skip is None and not apply_verdict(session, row, verdict):
                    continue  # waits for its send window, tomorrow, or the owner's approval
            elif _waiting(row.status, row.not_before, now):
                continue
            if skip is None:
                session.flush()  # what the re-check changed (an approved step is planned again)
                if not _claim(session, action_id, row.status):
                    continue
            else:
                session.flush()
                session.expunge(row)  # unchanged: kept for finish to record the skip
        if skip is not None:
            finish(sessions, row, Outcome.SKIPPED, skip, report, now)
            continue
        _perform(sessions, action_id, effects, report, recovering, reads)
    return report


def requested(payload: Mapping[str, Any]) -> bool:
    """Whether the row is an email the owner asked for on a page (`integration.cycle.requested_statement`).
    The request that claimed it sends it and records how it went; the executor leaves it alone: the
    owner's own click has no send-time re-check to pass, and a second sender could send it twice."""
    return "requested_at" in payload


def _claim(session: Session, action_id: int, seen: ActionStatus) -> bool:
    """In flight only if still as read: the targeted refresh may skip a planned action meanwhile (its
    own conditional UPDATE); exactly one of the two wins, so a cancelled action is never performed."""
    claimed = session.execute(
        update(Action)
        .where(Action.id == action_id, Action.status == seen)
        .values(status=ActionStatus.IN_FLIGHT, attempts=Action.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _started(row: Action) -> bool:
    """Whether the row's email was handed over already: only its note is left, whatever changed since."""
    return bool(row.payload.get("sending")) or row.payload.get("delivered") is not None


def _emails_pay_links(kind: str, payload: Mapping[str, Any]) -> bool:
    """Whether the action's email shows its invoices' pay links (arpilot's own reminder email)."""
    return (
        ActionKind(kind) in (ActionKind.SEND_REMINDER, ActionKind.INSTALMENT_REMINDER)
        and (payload.get("payload") or {}).get("channel") != "accounting_system_email"
    )


def _waiting(status: ActionStatus, not_before: dt.datetime | None, now: dt.datetime) -> bool:
    return status == ActionStatus.PLANNED and not_before is not None and not_before > now


def _perform(
    sessions: sessionmaker[Session],
    action_id: int,
    effects: Effects,
    report: ExecutionReport,
    recovering: bool,
    reads: PreconditionReads,
) -> None:
    with sessions() as session:
        row = session.get(Action, action_id)
        assert row is not None
        session.expunge(row)
    handler = _HANDLERS[ActionKind(row.kind)]
    for attempt in range(RETRIES_PER_RUN):
        try:
            ref = handler(row, Attempt(sessions, effects, report, recovering, retry=attempt > 0, reads=reads))
        except Skip as skip:
            finish(sessions, row, Outcome.SKIPPED, str(skip), report, effects.clock())
            return
        except (AuthExpired, RateLimited) as exc:
            daily = isinstance(exc, RateLimited) and exc.daily
            if isinstance(exc, RateLimited) and not daily and attempt + 1 < RETRIES_PER_RUN:
                effects.sleep(max(exc.retry_after, BASE_BACKOFF_SECONDS))
                continue
            finish(sessions, row, Outcome.RETRY, error_text(exc), report, effects.clock())
            if isinstance(exc, AuthExpired) or daily:
                raise StopCycle(error_text(exc), needs_reconnect=isinstance(exc, AuthExpired)) from exc
            return
        except (Transient, DeliveryTransient) as exc:
            if attempt + 1 < RETRIES_PER_RUN and not getattr(exc, "ambiguous", False):
                effects.sleep(max(getattr(exc, "retry_after", None) or 0.0, BASE_BACKOFF_SECONDS * 2**attempt))
                continue
            if getattr(exc, "ambiguous", False) and not getattr(effects.sender, "idempotent", False):
                finish(sessions, row, Outcome.FAILED, ambiguous_send(exc), report, effects.clock())
                return
            finish(sessions, row, Outcome.RETRY, error_text(exc), report, effects.clock())
            return
        except NotFound as exc:
            finish(
                sessions,
                row,
                Outcome.SKIPPED,
                f"no longer exists at the provider: {error_text(exc)}",
                report,
                effects.clock(),
            )
            return
        except (ProviderValidationError, DeliveryRejected, DeliveryError, ConnectorError) as exc:
            finish(sessions, row, Outcome.FAILED, error_text(exc), report, effects.clock())
            return
        except (InvalidMessage, ContentError) as exc:
            # The customer's data cannot make a valid email (say, an address that is not one): this
            # action fails with the reason, and the rest of the cycle goes on.
            finish(
                sessions,
                row,
                Outcome.FAILED,
                f"the reminder could not be made: {error_text(exc)}",
                report,
                effects.clock(),
            )
            return
        finish(sessions, row, Outcome.DONE, ref, report, effects.clock())
        return


# --- the effects, one handler per kind ----------------------------------------------------------

# The kinds whose handlers re-check their invoices (`still_owed`) before acting.
INVOICE_CHECKED_KINDS = frozenset(
    {
        ActionKind.SEND_REMINDER,
        ActionKind.RESEND_INVOICE,
        ActionKind.ADD_NOTE,
        ActionKind.CREATE_CALL_TASK,
        ActionKind.RECOMMEND_ESCALATION,
        ActionKind.CHARGE_LATE_FEE,
        ActionKind.INSTALMENT_REMINDER,
    }
)

_HANDLERS: dict[ActionKind, Handler] = {
    ActionKind.SEND_REMINDER: send_reminder,
    ActionKind.RESEND_INVOICE: send_through_provider,
    ActionKind.ADD_NOTE: add_note,
    ActionKind.SET_MID_MONTH_TERMS: set_terms,
    ActionKind.CREDIT_HOLD_ON: hold(True),
    ActionKind.CREDIT_HOLD_OFF: hold(False),
    ActionKind.CREATE_CALL_TASK: owner_task,
    ActionKind.RECOMMEND_ESCALATION: owner_task,
    ActionKind.APPLY_CREDIT: owner_task,  # the owner applies the credit in the books; nothing reaches the customer
    ActionKind.CHARGE_LATE_FEE: charge_late_fee,
    ActionKind.SEND_STATEMENT: send_statement,
    ActionKind.INSTALMENT_REMINDER: send_reminder,  # its invoices re-read by instalment_owed
}
