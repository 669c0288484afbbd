"""One customer's story in one list: invoices, payments, credits, emails, replies, calls, notes, the
owner's word and account moves, newest first in plain words; above it what they owe by age, when they
usually pay each open invoice, and the next step arpilot will take and why.

The records come from `integration.owner.records.customer_record` (scoped to the organization);
the next step from the policy projected over the customer's books (`integration.owner.projected`),
or from a step already in the ledger and not yet done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus
from integration.cycle.gather import invoice_record
from integration.owner.call_outcomes import ACTIVITY_KIND as CALL_OUTCOME
from integration.owner.dashboard_lists import kind_label
from integration.owner.outbox import EMAIL_KINDS, stage_words, status_word
from integration.owner.projected import projection
from integration.owner.records import CustomerRecord, customer_record
from integration.owner.usual_payment import usual_payment_dates
from integration.policy.actions import ActionKind
from integration.policy.aging import Totals, aging_totals, bucket, local_today
from integration.policy.recheck import LADDER_KINDS
from integration.policy.snapshot import CustomerOverride
from integration.store.models import Action, ActionStatus, InvoicePause, MirroredCredit
from integration.store.scoping import scoped

NEXT_STEP_DAYS = 60  # how far ahead the customer's next step is looked for
PENDING = (ActionStatus.PLANNED, ActionStatus.IN_FLIGHT, ActionStatus.AWAITING_APPROVAL)
ACTION_STATUS = {
    ActionStatus.PLANNED: "planned",
    ActionStatus.IN_FLIGHT: "in progress",
    ActionStatus.DONE: "done",
    ActionStatus.SKIPPED: "skipped",
    ActionStatus.FAILED: "failed",
    ActionStatus.AWAITING_APPROVAL: "waiting for your approval",
}
ENTRY_LABELS = {
    CALL_OUTCOME: "Call outcome",
    "owner_customer_settings": "Your settings for this customer",
    "owner_invoice_settings": "Dispute, promise or payment plan",
    "account_plan": "Payment plan",
}
# The reply itself is in the timeline (InboundReply); an action's outcome shows on the action.
FOLDED_ENTRIES = ("customer_replied", "automatic_reply")
CREDIT_LABELS = {
    "credit_note": "Credit note",
    "credit_memo": "Credit memo",
    "overpayment": "Overpayment",
    "prepayment": "Prepayment",
    "unapplied_payment": "Unapplied payment",
}


@dataclass(frozen=True)
class Moment:
    when: dt.datetime  # UTC; a dated event sorts at the start of its day in the company's zone
    label: str
    text: str
    day: dt.date | None = None  # set when only the day is known (invoices, payments, credits)
    status: str = ""
    amount: Decimal | None = None
    currency: str = ""
    email_id: int | None = None  # opens the email in the outbox
    quote: str = ""  # what the customer wrote, or the owner's comment


@dataclass(frozen=True)
class OpenInvoice:
    number: str
    due_date: dt.date | None
    balance: Decimal
    currency: str
    bucket: str
    pays_around: dt.date | None  # from the customer's own history; None with too little of it


@dataclass(frozen=True)
class NextStep:
    label: str
    reason: str
    day: dt.date | None = None  # None: already in the ledger, waiting to be carried out
    status: str = ""


@dataclass(frozen=True)
class Timeline:
    record: CustomerRecord
    moments: list[Moment]
    aging: Totals
    open_invoices: list[OpenInvoice]
    next_step: NextStep | None
    no_step_why: str  # when there is no next step, why
    observing: bool  # observe mode: the next step is shown, never taken
    today: dt.date


def customer_timeline(session: Session, organization_id: int, customer_id: int, now: dt.datetime) -> Timeline:
    """Raises RecordNotFound for a customer the organization does not have."""
    record = customer_record(session, organization_id, customer_id)
    customer = record.customer
    projected = projection(session, organization_id, customer.connection_id, now, NEXT_STEP_DAYS, customer.provider_id)
    zone = projected.snapshot.company.timezone
    today = local_today(now, zone)
    credits = list(
        session.scalars(
            scoped(MirroredCredit, organization_id).where(
                MirroredCredit.connection_id == customer.connection_id,
                MirroredCredit.customer_provider_id == customer.provider_id,
                MirroredCredit.deleted.is_(False),
            )
        )
    )
    around = usual_payment_dates(projected.snapshot, projected.rules, today, [customer.provider_id])[
        customer.provider_id
    ]
    open_rows = [i for i in record.invoices if i.status == InvoiceStatus.OPEN.value and i.balance > 0]
    pending = [a for a in record.emails + record.calls + record.other_actions if a.status in PENDING]
    if pending:
        first = min(pending, key=lambda a: (a.not_before or a.created_at, a.id))
        step: NextStep | None = NextStep(_action_label(first), first.reason, None, ACTION_STATUS[first.status])
    elif projected.steps:
        soonest = projected.steps[0]
        action = soonest.action
        step = NextStep(step_label(action.kind, action.stage), action.reason, soonest.day)
    else:
        step = None
    return Timeline(
        record=record,
        moments=moments(record, credits, zone, today),
        aging=aging_totals((invoice_record(i) for i in open_rows), today),
        open_invoices=[
            OpenInvoice(
                i.number,
                i.due_date,
                i.balance,
                i.currency,
                bucket((today - (i.due_date or i.issue_date)).days),
                around.get(i.provider_id),
            )
            for i in sorted(open_rows, key=lambda i: (i.due_date or i.issue_date, i.number))
        ],
        next_step=step,
        no_step_why="" if step else _why_nothing(record, projected.snapshot.overrides.get(customer.provider_id)),
        observing=projected.rules.mode != "live",
        today=today,
    )


def _why_nothing(record: CustomerRecord, override: CustomerOverride | None) -> str:
    if override is not None and override.excluded:
        return "This customer is excluded from arpilot: nothing is sent or written for them."
    if override is not None and override.paused:
        return "Reminders are paused for this customer (by you, or because they replied)."
    if not record.open_balance:
        return "Nothing is owed: arpilot has nothing to do for this customer."
    return f"No step falls due in the next {NEXT_STEP_DAYS} days: open invoices are paused or not yet due for one."


def _action_label(action: Action) -> str:
    return step_label(ActionKind(action.kind), action.payload.get("stage"))


def step_label(kind: ActionKind, stage: str | None) -> str:
    """The label of a step, such as "Reminder email (second reminder)": ladder steps name their stage."""
    return kind_label(kind.value) + (f" ({stage_words(stage)})" if stage and kind in LADDER_KINDS else "")


def _action_status(action: Action) -> str:
    if action.kind in EMAIL_KINDS:
        return status_word(action)
    if action.status is ActionStatus.DONE and action.warning:
        return "done; the note could not be written"
    return ACTION_STATUS[action.status]


def moments(record: CustomerRecord, credits: Iterable[MirroredCredit], timezone: str, today: dt.date) -> list[Moment]:
    """Everything in the record as one list, newest first."""
    zone = ZoneInfo(timezone)

    def on(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)

    numbers = record.invoice_numbers
    found: list[Moment] = []
    for invoice in record.invoices:
        found.append(
            Moment(
                on(invoice.issue_date),
                "Invoice issued",
                f"Invoice {invoice.number}",
                invoice.issue_date,
                amount=invoice.total,
                currency=invoice.currency,
            )
        )
        if invoice.due_date and invoice.due_date <= today:
            paid = invoice.status != InvoiceStatus.OPEN.value or invoice.balance == 0
            found.append(
                Moment(
                    on(invoice.due_date),
                    "Invoice due",
                    f"Invoice {invoice.number}" + (" (paid since)" if paid else ""),
                    invoice.due_date,
                )
            )
    for payment in record.payments:
        applied = ", ".join(numbers.get(a["invoice_id"], a["invoice_id"]) for a in payment.applied_to)
        found.append(
            Moment(
                on(payment.date),
                "Payment received",
                f"Applied to invoice {applied}" if applied else "Not applied to an invoice yet",
                payment.date,
                status="deleted in the books" if payment.deleted else "",
                amount=payment.amount,
                currency=payment.currency,
            )
        )
    for credit in credits:
        found.append(
            Moment(
                on(credit.date),
                CREDIT_LABELS.get(credit.kind, "Credit"),
                f"{credit.number}: {credit.remaining} {credit.currency} not yet used",
                credit.date,
                amount=credit.total,
                currency=credit.currency,
            )
        )
    for action in record.emails + record.calls + record.other_actions:
        found.append(
            Moment(
                action.completed_at or action.created_at,
                _action_label(action),
                action.payload.get("subject") or action.reason,
                status=_action_status(action),
                email_id=action.id if action.kind in EMAIL_KINDS else None,
            )
        )
    for reply in record.replies:
        if reply.status == "automatic":
            did = "an automatic reply: reminders continue"
        elif reply.paused_until:
            did = f"reminders paused until {reply.paused_until.astimezone(zone).date().isoformat()}"
        else:
            did = "recorded"
        found.append(
            Moment(reply.received_at, "Reply from the customer", f"“{reply.subject}” ({did})", quote=reply.text)
        )
    said = {e.invoice_provider_id for e in record.activity if e.kind == "owner_invoice_settings"}
    for pause in record.pauses:
        invoice_id = pause.invoice_provider_id
        if invoice_id not in said:  # its history is in the activity entries otherwise
            found.append(
                Moment(
                    pause.updated_at,
                    ENTRY_LABELS["owner_invoice_settings"],
                    f"Invoice {numbers.get(invoice_id, invoice_id)}: {_pause_words(pause)}",
                    quote=pause.note or "",
                )
            )
    for entry in record.activity:
        if entry.action_id is not None or entry.kind in FOLDED_ENTRIES:
            continue
        found.append(
            Moment(
                entry.created_at,
                ENTRY_LABELS.get(entry.kind, entry.kind.replace("_", " ").capitalize()),
                entry.message,
                status=entry.level if entry.level != "info" else "",
                quote=str((entry.details or {}).get("comment") or ""),
            )
        )
    found.sort(key=lambda m: m.when, reverse=True)
    return found


def _pause_words(pause: InvoicePause) -> str:
    said = []
    if pause.disputed:
        said.append("disputed")
    if pause.promise_to_pay:
        said.append(f"promised to pay by {pause.promise_to_pay.isoformat()}")
    if pause.plan:
        said.append("on a payment plan")
    return ", ".join(said) or "paused"
