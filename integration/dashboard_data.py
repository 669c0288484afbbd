"""What the owner's dashboard and weekly digest show, read from the database for one organization.

Reads only, always through `integration.scoping.scoped`. The figures themselves are pure functions
in `integration.dashboard_figures`; this module gathers their inputs and the owner's to-do lists:
open call tasks, escalations, customers on credit hold and on mid-month terms (with the reason the
policy gave), the outbox, and the health of each connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from connectors.base import InvoiceStatus
from integration.call_outcomes import ACTIVITY_KIND as CALL_OUTCOME, CallOutcome
from integration.dashboard_figures import DSO_WINDOW_DAYS, TrendPoint, aging_totals, month_ends, trend
from integration.models import (
    Action,
    ActionStatus,
    ActivityEntry,
    Connection,
    ConnectionStatus,
    CycleRun,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
)
from integration.policy.actions import ActionKind
from integration.policy.aging import local_today
from integration.scoping import scoped
from integration.slots import next_run
from integration.snapshots import invoice_record, payment_record

CALL_LIST_DAYS = 30  # a call task older than this with no outcome has been overtaken by later stages
ESCALATION_DAYS = 30
OUTBOX_LIMIT = 20
OPEN_INVOICE_LIMIT = 200
HISTORY_LIMIT = 8
EMAIL_KINDS = (ActionKind.SEND_REMINDER.value, ActionKind.RESEND_INVOICE.value)
KIND_LABELS = {
    ActionKind.SEND_REMINDER.value: "Reminder email",
    ActionKind.CREATE_CALL_TASK.value: "Call task",
    ActionKind.ADD_NOTE.value: "Note on invoice",
    ActionKind.RESEND_INVOICE.value: "Invoice re-sent",
    ActionKind.SET_MID_MONTH_TERMS.value: "Moved to mid-month terms",
    ActionKind.CREDIT_HOLD_ON.value: "Credit hold on",
    ActionKind.CREDIT_HOLD_OFF.value: "Credit hold off",
    ActionKind.RECOMMEND_ESCALATION.value: "Escalation advised",
}
OUTBOX_STATUS = {
    ActionStatus.PLANNED: "queued", ActionStatus.IN_FLIGHT: "sending", ActionStatus.DONE: "sent",
    ActionStatus.SKIPPED: "skipped", ActionStatus.FAILED: "failed",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    id: int
    provider: str
    display_name: str
    status: ConnectionStatus
    status_reason: str | None
    last_sync_at: dt.datetime | None
    next_run_at: dt.datetime | None  # None unless active
    last_run_status: str | None
    last_run_detail: str | None

    @property
    def needs_reconnect(self) -> bool:
        return self.status is ConnectionStatus.NEEDS_RECONNECT


@dataclass(frozen=True, slots=True)
class HistoryLine:
    when: dt.datetime
    message: str


@dataclass(frozen=True, slots=True)
class CallTask:
    action_id: int
    customer_name: str
    phone: str | None
    stage: str
    reason: str
    talking_points: tuple[str, ...]
    invoices: tuple[str, ...]  # "invoice 1001, 450.00 USD": what is open now
    history: tuple[HistoryLine, ...]
    created_at: dt.datetime
    attempts: int  # earlier outcomes that left the call open ("no answer")
    customer_row: int | None  # the mirrored customer's id, for the customer's settings page


@dataclass(frozen=True, slots=True)
class ActionLine:
    id: int
    when: dt.datetime
    kind: str
    customer_name: str
    reason: str
    status: str


@dataclass(frozen=True, slots=True)
class AccountFlag:
    customer_name: str
    reason: str
    since: dt.datetime


@dataclass(frozen=True, slots=True)
class OutboxLine:
    when: dt.datetime
    customer_name: str
    stage: str
    recipients: str
    subject: str
    status: str
    not_before: dt.datetime | None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    number: str
    customer: str
    due_date: dt.date | None
    balance: Decimal
    currency: str


@dataclass(frozen=True)
class Dashboard:
    organization: Organization
    today: dt.date
    connections: list[ConnectionHealth]
    aging: dict[str, dict[str, Decimal]]
    trend: dict[str, list[TrendPoint]]
    today_actions: list[ActionLine]  # notes left out: they come with the email or call they record
    today_counts: dict[str, int]  # label -> how many, notes included
    observed: list[ActionLine]  # decided today in observe mode: shown, nothing done
    calls: list[CallTask]
    escalations: list[ActionLine]
    on_hold: list[AccountFlag]
    mid_month: list[AccountFlag]
    outbox: list[OutboxLine]
    invoices: list[InvoiceLine]


def start_of_local_day(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(dt.UTC)


class CustomerNames:
    """Customer names and phones of the organization, by (connection, provider id)."""

    def __init__(self, session: Session, organization_id: int) -> None:
        self.rows = {(c.connection_id, c.provider_id): c for c in session.scalars(scoped(MirroredCustomer, organization_id))}

    def name(self, connection_id: int, customer_id: str | None) -> str:
        row = self.rows.get((connection_id, customer_id or ""))
        return row.name if row else (customer_id or "—")

    def phone(self, connection_id: int, customer_id: str) -> str | None:
        row = self.rows.get((connection_id, customer_id))
        return row.phone if row else None

    def row_id(self, connection_id: int, customer_id: str) -> int | None:
        row = self.rows.get((connection_id, customer_id))
        return row.id if row else None


def _line(row: Action, names: CustomerNames) -> ActionLine:
    return ActionLine(row.id, row.completed_at or row.created_at, kind_label(row.kind),
                      names.name(row.connection_id, row.payload.get("customer_id")), row.reason, row.status.value)


def connection_health(session: Session, organization_id: int, interval: dt.timedelta, now: dt.datetime) -> list[ConnectionHealth]:
    health = []
    for connection in session.scalars(scoped(Connection, organization_id).order_by(Connection.id)):
        run = session.scalars(
            select(CycleRun).where(CycleRun.connection_id == connection.id).order_by(CycleRun.started_at.desc()).limit(1)
        ).first()
        active = connection.status is ConnectionStatus.ACTIVE
        health.append(ConnectionHealth(
            connection.id, connection.provider, connection.display_name, connection.status, connection.status_reason,
            connection.last_sync_at, next_run(connection.id, interval, now) if active else None,
            run.status if run else None, (run.summary or {}).get("detail") if run else None,
        ))
    return health


def open_call_tasks(session: Session, organization_id: int, now: dt.datetime, names: CustomerNames | None = None) -> list[CallTask]:
    """Call tasks from the last CALL_LIST_DAYS with no settling outcome and something still owed."""
    names = names or CustomerNames(session, organization_id)
    tasks = session.scalars(
        scoped(Action, organization_id).where(
            Action.kind == ActionKind.CREATE_CALL_TASK.value, Action.status == ActionStatus.DONE,
            Action.created_at >= now - dt.timedelta(days=CALL_LIST_DAYS),
        ).order_by(Action.created_at, Action.id)
    ).all()
    if not tasks:
        return []
    outcomes: dict[int, list[ActivityEntry]] = {}
    for entry in session.scalars(
        scoped(ActivityEntry, organization_id).where(
            ActivityEntry.kind == CALL_OUTCOME, ActivityEntry.action_id.in_([t.id for t in tasks])
        ).order_by(ActivityEntry.id)
    ):
        outcomes.setdefault(entry.action_id or 0, []).append(entry)
    calls = []
    for task in tasks:
        logged = outcomes.get(task.id, [])
        if any(CallOutcome(e.details["outcome"]).settles_task for e in logged):
            continue
        invoices = _owed(session, task.connection_id, task.payload.get("invoice_ids") or ())
        if not invoices:
            continue  # paid (or gone) since the task was made
        customer_id = task.payload["customer_id"]
        details = task.payload.get("payload") or {}
        calls.append(CallTask(
            action_id=task.id, customer_name=names.name(task.connection_id, customer_id),
            phone=details.get("phone") or names.phone(task.connection_id, customer_id),
            stage=(task.payload.get("stage") or "").replace("_", " "), reason=task.reason,
            talking_points=tuple(details.get("talking_points") or ()),
            invoices=tuple(f"invoice {i.number}, {i.balance:.2f} {i.currency}" for i in invoices),
            history=_customer_history(session, organization_id, task.connection_id, customer_id),
            created_at=task.created_at, attempts=len(logged), customer_row=names.row_id(task.connection_id, customer_id),
        ))
    return calls


def _owed(session: Session, connection_id: int, invoice_ids: Iterable[str]) -> list[MirroredInvoice]:
    return list(session.scalars(
        select(MirroredInvoice).where(
            MirroredInvoice.connection_id == connection_id, MirroredInvoice.provider_id.in_(list(invoice_ids)),
            MirroredInvoice.status == InvoiceStatus.OPEN.value, MirroredInvoice.balance > 0,
        ).order_by(MirroredInvoice.number)
    ))


def _customer_history(session: Session, organization_id: int, connection_id: int, customer_id: str) -> tuple[HistoryLine, ...]:
    entries = session.scalars(
        scoped(ActivityEntry, organization_id).where(
            ActivityEntry.connection_id == connection_id, ActivityEntry.customer_provider_id == customer_id,
        ).order_by(ActivityEntry.created_at.desc(), ActivityEntry.id.desc()).limit(HISTORY_LIMIT)
    )
    return tuple(HistoryLine(e.created_at, e.message) for e in entries)


def account_flags(session: Session, organization_id: int, names: CustomerNames | None = None) -> tuple[list[AccountFlag], list[AccountFlag]]:
    """Customers on credit hold now and customers moved to mid-month terms, with the policy's reason."""
    names = names or CustomerNames(session, organization_id)
    rows = session.scalars(
        scoped(Action, organization_id).where(
            Action.status == ActionStatus.DONE,
            Action.kind.in_((ActionKind.CREDIT_HOLD_ON.value, ActionKind.CREDIT_HOLD_OFF.value, ActionKind.SET_MID_MONTH_TERMS.value)),
        ).order_by(Action.completed_at, Action.id)
    )
    hold: dict[tuple[int, str], Action | None] = {}
    terms: dict[tuple[int, str], Action] = {}
    for row in rows:
        key = (row.connection_id, row.payload["customer_id"])
        if row.kind == ActionKind.SET_MID_MONTH_TERMS.value:
            terms[key] = row
        else:
            hold[key] = row if row.kind == ActionKind.CREDIT_HOLD_ON.value else None

    def flags(found: Iterable[tuple[tuple[int, str], Action | None]]) -> list[AccountFlag]:
        listed = [AccountFlag(names.name(*key), row.reason, row.completed_at or row.created_at) for key, row in found if row]
        return sorted(listed, key=lambda f: f.customer_name.lower())

    return flags(hold.items()), flags(terms.items())


def _escalations(session: Session, organization_id: int, now: dt.datetime, names: CustomerNames) -> list[ActionLine]:
    rows = session.scalars(
        scoped(Action, organization_id).where(
            Action.kind == ActionKind.RECOMMEND_ESCALATION.value, Action.status == ActionStatus.DONE,
            Action.created_at >= now - dt.timedelta(days=ESCALATION_DAYS),
        ).order_by(Action.created_at.desc(), Action.id.desc())
    )
    return [_line(row, names) for row in rows]


def _outbox(session: Session, organization_id: int, names: CustomerNames) -> list[OutboxLine]:
    rows = session.scalars(
        scoped(Action, organization_id).where(Action.kind.in_(EMAIL_KINDS))
        .order_by(Action.updated_at.desc(), Action.id.desc()).limit(OUTBOX_LIMIT)
    )
    return [
        OutboxLine(
            when=row.completed_at or row.created_at, customer_name=names.name(row.connection_id, row.payload.get("customer_id")),
            stage=(row.payload.get("stage") or "").replace("_", " "), recipients=", ".join(row.payload.get("recipients") or ()),
            subject=row.payload.get("subject") or ("sent by the accounting system" if row.kind == ActionKind.RESEND_INVOICE.value else ""),
            status=OUTBOX_STATUS[row.status], not_before=row.not_before if row.status is ActionStatus.PLANNED else None,
        )
        for row in rows
    ]


def _today_actions(session: Session, organization_id: int, since: dt.datetime,
                   names: CustomerNames) -> tuple[list[ActionLine], dict[str, int]]:
    """Today's actions but the notes that accompany them, and how many of each kind (notes too)."""
    rows = session.scalars(
        scoped(Action, organization_id).where(or_(Action.created_at >= since, Action.completed_at >= since))
        .order_by(Action.id)
    ).all()
    counts = Counter(kind_label(row.kind) for row in rows)
    return [_line(row, names) for row in rows if row.kind != ActionKind.ADD_NOTE.value], dict(counts.most_common())


def _observed(session: Session, organization_id: int, since: dt.datetime, names: CustomerNames) -> list[ActionLine]:
    """What the latest observe-mode cycle of each connection decided today (nothing was done)."""
    lines = []
    for connection_id in session.scalars(scoped(Connection, organization_id).with_only_columns(Connection.id)):
        run = session.scalars(
            select(CycleRun).where(CycleRun.connection_id == connection_id, CycleRun.started_at >= since)
            .order_by(CycleRun.started_at.desc()).limit(1)
        ).first()
        if run is None or run.status != "observed":
            continue
        decided: Sequence[dict[str, Any]] = (run.summary or {}).get("decided") or ()
        lines.extend(
            ActionLine(0, run.started_at, kind_label(a["kind"]), names.name(connection_id, a.get("customer_id")), a["reason"], "observed")
            for a in decided
        )
    return lines


def _figures(session: Session, organization_id: int, today: dt.date) -> tuple[dict[str, dict[str, Decimal]], dict[str, list[TrendPoint]]]:
    days = month_ends(today)
    earliest = days[0] - dt.timedelta(days=DSO_WINDOW_DAYS)
    since = dt.datetime.combine(days[0], dt.time(), dt.UTC)
    # Whatever could have been owed on the first day or invoiced in the DSO window before it.
    invoices = [invoice_record(row) for row in session.scalars(scoped(MirroredInvoice, organization_id).where(
        MirroredInvoice.status.in_((InvoiceStatus.OPEN.value, InvoiceStatus.PAID.value)),
        or_(MirroredInvoice.status == InvoiceStatus.OPEN.value, MirroredInvoice.issue_date > earliest,
            MirroredInvoice.provider_updated_at >= since),
    ))]
    payments = [payment_record(row) for row in session.scalars(
        scoped(MirroredPayment, organization_id).where(MirroredPayment.deleted.is_(False))
    )]
    return aging_totals(invoices, today), trend(invoices, payments, days)


def _open_invoices(session: Session, organization_id: int) -> list[InvoiceLine]:
    rows = session.execute(
        scoped(MirroredInvoice, organization_id)
        .add_columns(MirroredCustomer.name)
        .outerjoin(MirroredCustomer, and_(
            MirroredCustomer.connection_id == MirroredInvoice.connection_id,
            MirroredCustomer.provider_id == MirroredInvoice.customer_provider_id,
        ))
        .where(MirroredInvoice.status == InvoiceStatus.OPEN.value, MirroredInvoice.balance != 0)
        .order_by(MirroredInvoice.due_date.is_(None), MirroredInvoice.due_date, MirroredInvoice.number)
        .limit(OPEN_INVOICE_LIMIT)
    ).all()
    return [InvoiceLine(i.number, name or i.customer_provider_id, i.due_date, i.balance, i.currency) for i, name in rows]


def load_dashboard(session: Session, organization_id: int, now: dt.datetime, interval: dt.timedelta) -> Dashboard:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(f"organization {organization_id} does not exist")
    today = local_today(now, organization.timezone)
    since = start_of_local_day(today, organization.timezone)
    names = CustomerNames(session, organization_id)
    aging, trend_ = _figures(session, organization_id, today)
    on_hold, mid_month = account_flags(session, organization_id, names)
    today_actions, today_counts = _today_actions(session, organization_id, since, names)
    return Dashboard(
        organization=organization, today=today,
        connections=connection_health(session, organization_id, interval, now),
        aging=aging, trend=trend_,
        today_actions=today_actions, today_counts=today_counts,
        observed=_observed(session, organization_id, since, names),
        calls=open_call_tasks(session, organization_id, now, names),
        escalations=_escalations(session, organization_id, now, names),
        on_hold=on_hold, mid_month=mid_month,
        outbox=_outbox(session, organization_id, names),
        invoices=_open_invoices(session, organization_id),
    )
