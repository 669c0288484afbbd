"""The executor of the action ledger: perform each planned effect at most once, record it once.

Planning is `integration.cycle.plan.plan`. Execute walks the planned rows, re-deciding each at that
moment (`integration.cycle.send_check`): the row goes in_flight (committed) before any effect, the
precondition is re-checked against the provider, the effect carries the action's key (QuickBooks
requestid, Xero Idempotency-Key, the outbox key), and the outcome is committed last. The note
written back carries the action's reference, so a row found in_flight after a crash is reconciled
from that evidence before anything is repeated.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import (
    AuthExpired,
    Connector,
    ConnectorError,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Note,
    NotFound,
    ProviderValidationError,
    RateLimited,
    Transient,
)
from integration.cycle import late_fee
from integration.cycle.credit_recheck import effective_credit, uncovered
from integration.cycle.letters import keep_letter, wants_letter
from integration.cycle.precondition_reads import PreconditionReads
from integration.cycle.send_check import apply_verdict
from integration.cycle.sync import store_invoices
from integration.owner.stored_rules import load_rules
from integration.policy.actions import ActionKind
from integration.policy.recheck import Verdict
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, ActivityEntry
from oauth.redact import redact
from reminders.delivery import (
    DeliveryError,
    DeliveryRejected,
    DeliveryTransient,
    EmailMessage,
    EmailSender,
    InvalidMessage,
)
from reminders.errors import ContentError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # across cycles; then the action fails for the owner to see
RETRIES_PER_RUN = 3  # transient failures retried inside one execution, with doubling back-off
BASE_BACKOFF_SECONDS = 1.0
NOTE_PREFIX = "arp-"


class StopCycle(Exception):
    """Nothing more can be done for this connection this cycle (grant gone, daily limit reached)."""

    def __init__(self, message: str, *, needs_reconnect: bool = False) -> None:
        super().__init__(message)
        self.needs_reconnect = needs_reconnect


class Outcome(str, enum.Enum):
    DONE = "done"
    WARNED = "done_with_warning"  # the effect happened; its note could not be written (Action.warning says why)
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRY = "retry"  # left planned for the next cycle


def action_ref(row: Action) -> str:
    """The short reference written into notes; it finds the action's evidence after a crash."""
    return NOTE_PREFIX + row.idempotency_key.rsplit(":", 1)[-1][:16]


# --- execute ----------------------------------------------------------------------------------


ComposeReminder = Callable[[Action, Customer, Sequence[Invoice], Mapping[str, Money]], EmailMessage]
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


@dataclass
class ExecutionReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)  # done actions per kind
    emails_sent: int = 0
    notes_written: int = 0
    skipped_reasons: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Attempt:
    """One try at one action. `recovering`: found in_flight after a crash, so its effect may have
    happened; `retry`: a later try in this run after an error that may have come after the effect."""

    sessions: sessionmaker[Session]
    effects: Effects
    report: ExecutionReport
    recovering: bool
    retry: bool
    reads: PreconditionReads


class _Skip(Exception):
    """The precondition no longer holds: the action is skipped with this reason."""


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
                session.expunge(row)  # unchanged: kept for _finish to record the skip
        if skip is not None:
            _finish(sessions, row, Outcome.SKIPPED, skip, report, now)
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
            ref = handler(row, _Attempt(sessions, effects, report, recovering, retry=attempt > 0, reads=reads))
        except _Skip as skip:
            _finish(sessions, row, Outcome.SKIPPED, str(skip), report, effects.clock())
            return
        except (AuthExpired, RateLimited) as exc:
            daily = isinstance(exc, RateLimited) and exc.daily
            if isinstance(exc, RateLimited) and not daily and attempt + 1 < RETRIES_PER_RUN:
                effects.sleep(max(exc.retry_after, BASE_BACKOFF_SECONDS))
                continue
            _finish(sessions, row, Outcome.RETRY, error_text(exc), report, effects.clock())
            if isinstance(exc, AuthExpired) or daily:
                raise StopCycle(error_text(exc), needs_reconnect=isinstance(exc, AuthExpired)) from exc
            return
        except (Transient, DeliveryTransient) as exc:
            if attempt + 1 < RETRIES_PER_RUN and not getattr(exc, "ambiguous", False):
                effects.sleep(max(getattr(exc, "retry_after", None) or 0.0, BASE_BACKOFF_SECONDS * 2**attempt))
                continue
            if getattr(exc, "ambiguous", False) and not getattr(effects.sender, "idempotent", False):
                _finish(sessions, row, Outcome.FAILED, ambiguous_send(exc), report, effects.clock())
                return
            _finish(sessions, row, Outcome.RETRY, error_text(exc), report, effects.clock())
            return
        except NotFound as exc:
            _finish(
                sessions,
                row,
                Outcome.SKIPPED,
                f"no longer exists at the provider: {error_text(exc)}",
                report,
                effects.clock(),
            )
            return
        except (ProviderValidationError, DeliveryRejected, DeliveryError, ConnectorError) as exc:
            _finish(sessions, row, Outcome.FAILED, error_text(exc), report, effects.clock())
            return
        except (InvalidMessage, ContentError) as exc:
            # The customer's data cannot make a valid email (say, an address that is not one): this
            # action fails with the reason, and the rest of the cycle goes on.
            _finish(
                sessions,
                row,
                Outcome.FAILED,
                f"the reminder could not be made: {error_text(exc)}",
                report,
                effects.clock(),
            )
            return
        _finish(sessions, row, Outcome.DONE, ref, report, effects.clock())
        return


def error_text(exc: BaseException) -> str:
    """An error as the owner reads it: its words, any secret redacted."""
    return redact(str(exc)) or type(exc).__name__


def ambiguous_send(exc: BaseException) -> str:
    """Why an email that may have reached the provider was not sent again."""
    return (
        "the email provider did not confirm whether it accepted the message; it was not sent again "
        f"so the customer cannot get it twice ({error_text(exc)})"
    )


def _finish(
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


# --- the effects, one handler per kind ----------------------------------------------------------

Handler = Callable[[Action, _Attempt], str]


def _still_owed(at: _Attempt, row: Action) -> list[Invoice]:
    """The action's invoices as they are now, keeping those still owed exactly as decided."""
    planned = {i: Decimal(b) for i, b in row.payload.get("balances", {}).items()}
    owed, gone = [], []
    left_out = row.payload.get("left_out") or {}
    gone.extend(f"invoice {why}" for why in dict.fromkeys(left_out.values()))
    for invoice_id, invoice in at.reads.take(
        row.id, [i for i in row.payload["invoice_ids"] if i not in left_out]
    ).items():
        if invoice is None:
            gone.append(f"invoice {invoice_id} no longer exists")
            continue
        if invoice.status is not InvoiceStatus.OPEN or invoice.balance.amount <= 0:
            gone.append(f"invoice {invoice.number} was paid or closed after this was decided")
        elif invoice_id in planned and invoice.balance.amount != planned[invoice_id]:
            gone.append(f"invoice {invoice.number}'s balance changed after this was decided")
        else:
            owed.append(invoice)
    if not owed:
        raise _Skip("; ".join(gone))
    return owed


def _net_of_credit(at: _Attempt, row: Action, invoices: list[Invoice]) -> tuple[list[Invoice], dict[str, Money]]:
    """Credit is re-checked too: one applied or created since planning may now cover these invoices."""
    planned = (row.payload.get("payload") or {}).get("credit") or {}
    kept, credit, why = uncovered(
        invoices, effective_credit(planned, at.reads.credits.take(row.payload["customer_id"]))
    )
    if not kept:
        raise _Skip(why)
    return kept, credit


def _note(row: Action, effects: Effects, text: str) -> Note:
    return Note(text=text, action_id=action_ref(row), on=effects.local_now().date())


def write_invoice_notes(connector: Connector, invoice_ids: Sequence[str], note: Note, key: str) -> None:
    """Write `note` on each invoice, keyed per invoice under `key` (the executor's and the call log's one path)."""
    for invoice_id in invoice_ids:
        # The key makes a prompt repeat harmless (QuickBooks also looks for the reference itself);
        # Xero honours a key for minutes only, so a late recovery checks the evidence first (_write_notes).
        connector.add_invoice_note(invoice_id, note, f"{key}:note:{invoice_id}")


def _write_notes(at: _Attempt, row: Action, invoice_ids: Sequence[str], text: str) -> None:
    if at.recovering or at.retry:  # the note may be there already: its reference is the evidence
        ref = action_ref(row)
        invoice_ids = [i for i in invoice_ids if not at.effects.connector.find_invoice_note(i, ref)]
    write_invoice_notes(at.effects.connector, invoice_ids, _note(row, at.effects, text), row.idempotency_key)
    at.report.notes_written += len(invoice_ids)


def _already_noted(at: _Attempt, row: Action) -> list[str]:
    ref = action_ref(row)
    return [i for i in row.payload["invoice_ids"] if at.effects.connector.find_invoice_note(i, ref)]


def _stage_words(row: Action) -> str:
    if row.kind == ActionKind.INSTALMENT_REMINDER.value:
        return "instalment reminder"
    return (row.payload.get("stage") or "reminder").replace("_", " ")


def _instalment_owed(at: _Attempt, row: Action) -> list[Invoice]:
    """An account plan's instalment reminder goes only while the instalment is still owed: what was
    paid on the plan's invoices since it was planned is taken off (kept in the payload for the email)."""
    planned = {i: Decimal(b) for i, b in row.payload.get("balances", {}).items()}
    now = {i: inv for i, inv in at.reads.take(row.id, row.payload["invoice_ids"]).items() if inv is not None}
    paid_since = sum(planned.values(), Decimal(0)) - sum(
        (inv.balance.amount for i, inv in now.items() if i in planned), Decimal(0)
    )
    owed = Decimal(row.payload["payload"]["amount"]) - paid_since
    still_open = [inv for inv in now.values() if inv.status is InvoiceStatus.OPEN and inv.balance.amount > 0]
    if owed <= 0 or not still_open:
        raise _Skip("the instalment was paid after this was planned")
    _save_payload(at.sessions, row, instalment_owed=str(owed))
    return still_open


def _send_reminder(row: Action, at: _Attempt) -> str:
    if row.payload["payload"].get("channel") == "accounting_system_email":
        return _send_through_provider(row, at)
    delivered = row.payload.get("delivered")
    if delivered is None:
        _refuse_unsure_resend(row, at)
        credit: dict[str, Money] = {}
        if row.kind == ActionKind.INSTALMENT_REMINDER.value:
            invoices = _instalment_owed(at, row)
        else:
            invoices, credit = _net_of_credit(at, row, _still_owed(at, row))
        customer = at.effects.connector.get_customer(row.payload["customer_id"])
        message = at.effects.compose_reminder(row, customer, invoices, credit)
        _mark_sending(at, row, message)
        receipt = at.effects.sender.send(message)
        delivered = [i.provider_id for i in invoices]
        # Committed before the notes: from here on a crash never sends the email again.
        _save_payload(
            at.sessions,
            row,
            delivered=delivered,
            sent_at=at.effects.local_now().strftime("%Y-%m-%d %H:%M"),
            external_ref=f"email:{receipt.message_id or receipt.provider}",
        )
        if not receipt.already_sent:
            at.report.emails_sent += 1
    if wants_letter(row):
        keep_letter(at.sessions, row)
    # Written after delivery and saying when: the books never claim a step before it happened.
    _write_notes(at, row, delivered, email_note(row))
    return row.external_ref or "email"


def _mark_sending(at: _Attempt, row: Action, message: EmailMessage) -> None:
    """Marked sending before the email is handed over. The note names exactly who it went to (the
    addresses still valid as it went out), and the text is kept as sent for the owner's outbox:
    what the customer read, word for word."""
    _save_payload(at.sessions, row, **sending_facts(message))


def sending_facts(message: EmailMessage) -> dict[str, Any]:
    """What a row carries from the moment its email is handed over: marked sending, with the subject,
    who it went to and its text."""
    return {
        "sending": True,
        "subject": message.subject,
        "sent_to": [a.email for a in message.to],
        "body_text": message.text,
    }


def _refuse_unsure_resend(row: Action, at: _Attempt) -> None:
    if at.recovering and row.payload.get("sending") and not getattr(at.effects.sender, "idempotent", False):
        raise DeliveryError(
            "arpilot stopped while this email was being handed to the email provider and cannot tell "
            "whether it went out; it was not sent again so the customer cannot get it twice"
        )


def _send_statement(row: Action, at: _Attempt) -> str:
    """The monthly statement: sent like a reminder (marked sending, sent under its key, delivery
    committed), with no invoice notes: a statement is about the account, not one invoice."""
    if row.payload.get("delivered") is None:
        _refuse_unsure_resend(row, at)
        with at.sessions() as session:
            message = at.effects.compose_statement(session, row, at.effects.clock())
        _mark_sending(at, row, message)
        receipt = at.effects.sender.send(message)
        _save_payload(
            at.sessions,
            row,
            delivered=[],
            sent_at=at.effects.local_now().strftime("%Y-%m-%d %H:%M"),
            external_ref=f"email:{receipt.message_id or receipt.provider}",
        )
        if not receipt.already_sent:
            at.report.emails_sent += 1
    return row.external_ref or "email"


def email_note(row: Action) -> str:
    """The note a delivered reminder writes on its invoices (also shown with the email in the outbox)."""
    recipients = ", ".join(row.payload.get("sent_to") or row.payload.get("recipients") or ())
    return (
        f"{_stage_words(row).capitalize()} emailed {row.payload.get('sent_at', '')} to {recipients}; "
        f'action {row.id}: "{row.payload.get("subject", "")}"'
    )


def _save_payload(
    sessions: sessionmaker[Session], row: Action, *, external_ref: str | None = None, **facts: Any
) -> None:
    row.payload = {**row.payload, **facts}
    values: dict[str, Any] = {"payload": row.payload}
    if external_ref is not None:
        row.external_ref = values["external_ref"] = external_ref
    with transaction(sessions) as session:
        session.execute(update(Action).where(Action.id == row.id).values(**values))


def _send_through_provider(row: Action, at: _Attempt) -> str:
    """The accounting system emails its own invoice; the per-invoice key makes a repeat harmless,
    and the note after each send marks it done."""
    connector = at.effects.connector
    done = set(_already_noted(at, row)) if at.recovering or at.retry else set()
    if done:  # partly carried out before a crash: finish it without re-judging the decision
        invoices = [connector.get_invoice(i) for i in row.payload["invoice_ids"] if i not in done]
    else:
        invoices, _ = _net_of_credit(at, row, _still_owed(at, row))
    refs = []
    for invoice in invoices:
        refs.append(connector.send_invoice(invoice.provider_id, f"{row.idempotency_key}:send:{invoice.provider_id}"))
        at.report.emails_sent += 1
        # Recorded before the note, like arpilot's own email: a refused note then leaves it done with a warning.
        sent_at = at.effects.local_now().strftime("%Y-%m-%d %H:%M")
        _save_payload(at.sessions, row, delivered=[*(row.payload.get("delivered") or ()), invoice.provider_id])
        _write_notes(
            at,
            row,
            [invoice.provider_id],
            f"{_stage_words(row).capitalize()}: invoice emailed by the accounting system {sent_at}; action {row.id}",
        )
    return ",".join(refs) or "sent before a restart"


def _add_note(row: Action, at: _Attempt) -> str:
    invoices = _still_owed(at, row)
    _write_notes(at, row, [i.provider_id for i in invoices], row.payload["payload"].get("text") or row.reason)
    return action_ref(row)


def _set_terms(row: Action, at: _Attempt) -> str:
    day = int(row.payload["payload"]["day_of_month"])
    return at.effects.connector.set_mid_month_terms(row.payload["customer_id"], day, row.idempotency_key)


def _hold(on: bool) -> Handler:
    def handler(row: Action, at: _Attempt) -> str:
        customer_id = row.payload["customer_id"]
        if at.effects.connector.customer_on_hold(customer_id) is on:
            if at.recovering or at.retry:
                return "already in place"  # our own earlier try got there
            raise _Skip("the customer is already on credit hold" if on else "the customer is not on credit hold")
        return at.effects.connector.set_credit_hold(
            customer_id, on, _note(row, at.effects, row.reason), row.idempotency_key
        )

    return handler


def _owner_task(row: Action, at: _Attempt) -> str:
    # Call tasks and escalation advice are for the owner: they live on the dashboard, not at the
    # provider; an invoice paid since is no call to make.
    if row.payload.get("invoice_ids"):
        _still_owed(at, row)
    return "owner task"


def _charge_late_fee(row: Action, at: _Attempt) -> str:
    """The fee goes into the books once, is recorded on the row at once, then noted on the overdue
    invoice (a note the books refuse leaves the fee done with a warning). After a crash the fee is
    looked for by its number first (cycle/late_fee.py), before the invoice is judged again."""
    connector = at.effects.connector
    if row.payload.get("fee_invoice_id") is None:
        number = late_fee.number_of(row.payload, row.idempotency_key)
        written = connector.find_late_fee(number) if at.recovering or at.retry else None
        if written is None:
            (invoice,) = _still_owed(at, row)
            with at.sessions() as session:
                rules = load_rules(session, row.organization_id).late_fees
            fee = late_fee.late_fee(
                row.payload, row.idempotency_key, invoice, connector.provider, rules, _note(row, at.effects, row.reason)
            )
            written = connector.charge_late_fee(fee, row.idempotency_key)
        # The fee is the customer's invoice from now on, in the mirror too, not from the next sync.
        with transaction(at.sessions) as session:
            store_invoices(session, row.connection_id, [written])
        _save_payload(
            at.sessions,
            row,
            fee_invoice_id=written.provider_id,
            fee_invoice_number=written.number,
            delivered=list(row.payload["invoice_ids"]),
            note_text=late_fee.charged_note(written, at.effects.local_now().date(), row.id),
            external_ref=f"late-fee:{written.provider_id}",
        )
    _write_notes(at, row, row.payload["invoice_ids"], row.payload["note_text"])
    return row.external_ref or f"late-fee:{row.payload['fee_invoice_id']}"


# The kinds whose handlers re-check their invoices (`_still_owed`) before acting.
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
    ActionKind.SEND_REMINDER: _send_reminder,
    ActionKind.RESEND_INVOICE: _send_through_provider,
    ActionKind.ADD_NOTE: _add_note,
    ActionKind.SET_MID_MONTH_TERMS: _set_terms,
    ActionKind.CREDIT_HOLD_ON: _hold(True),
    ActionKind.CREDIT_HOLD_OFF: _hold(False),
    ActionKind.CREATE_CALL_TASK: _owner_task,
    ActionKind.RECOMMEND_ESCALATION: _owner_task,
    ActionKind.APPLY_CREDIT: _owner_task,  # the owner applies the credit in the books; nothing reaches the customer
    ActionKind.CHARGE_LATE_FEE: _charge_late_fee,
    ActionKind.SEND_STATEMENT: _send_statement,
    ActionKind.INSTALMENT_REMINDER: _send_reminder,  # its invoices re-read by _instalment_owed
}
