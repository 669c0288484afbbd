"""What the owner's dashboard and weekly digest show, read from the database for one organization.

Reads only, always through `integration.store.scoping.scoped`. The figures themselves are pure functions
in `integration.owner.dashboard_figures`; this module gathers their inputs and the owner's to-do lists:
open call tasks, escalations, customers on credit hold and on mid-month terms (with the reason the
policy gave), the outbox, and the health of each connection.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from connectors.contract import Invoice, InvoiceStatus, Payment, amount_text
from integration.clock.slots import next_run
from integration.cycle.gather import invoice_record, payment_record
from integration.cycle.leases import Failing, failing, retry_at
from integration.owner.call_outcomes import ACTIVITY_KIND as CALL_OUTCOME
from integration.owner.call_outcomes import CallOutcome
from integration.owner.dashboard_figures import DSO_WINDOW_DAYS, TrendPoint, month_ends, trend
from integration.policy.actions import ActionKind
from integration.policy.aging import aging_totals, local_today
from integration.store.connections import TAKEN_OVER
from integration.store.models import (
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
from integration.store.scoping import scoped

CALL_LIST_DAYS = 30  # a call task older than this with no outcome has been overtaken by later stages
ESCALATION_DAYS = 30
OUTBOX_LIMIT = 20
OPEN_INVOICE_LIMIT = 200
HISTORY_LIMIT = 8
TODAY_LIMIT = 100  # today's actions listed on the dashboard (all are counted)
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
    ActionKind.APPLY_CREDIT.value: "Credit to apply",
    ActionKind.CHARGE_LATE_FEE.value: "Late fee",
}
OUTBOX_STATUS = {
    ActionStatus.PLANNED: "queued",
    ActionStatus.IN_FLIGHT: "sending",
    ActionStatus.DONE: "sent",
    ActionStatus.SKIPPED: "skipped",
    ActionStatus.FAILED: "failed",
    ActionStatus.AWAITING_APPROVAL: "waiting for approval",
}
WARNED = "done_with_warning"  # done (delivered), its note refused by the books: nothing to redo by hand


def status_word(row: Action) -> str:
    """The action's status as the owner reads it: done, done with a warning, failed, ..."""
    return WARNED if row.status is ActionStatus.DONE and row.warning else row.status.value


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
    failing: Failing | None = None  # the latest cycles failed: since when, why, and when it is retried
    retry_at: dt.datetime | None = None

    @property
    def needs_reconnect(self) -> bool:
        return self.status is ConnectionStatus.NEEDS_RECONNECT

    @property
    def taken_over(self) -> bool:
        """Handed to another arpilot account by an administrator of the company (connect_company)."""
        return self.status is ConnectionStatus.DISCONNECTED and (self.status_reason or "").startswith(TAKEN_OVER)


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
    today_actions: list[
        ActionLine
    ]  # the first TODAY_LIMIT; notes left out: they come with the email or call they record
    today_total: int  # how many today_actions there were in all
    today_counts: dict[str, int]  # label -> how many, notes included
    observed: list[ActionLine]  # decided today in observe mode: shown, nothing done
    calls: list[CallTask]
    escalations: list[ActionLine]
    credits_to_apply: list[ActionLine]  # customers whose unapplied credit covers what they owe
    on_hold: list[AccountFlag]
    mid_month: list[AccountFlag]
    outbox: list[OutboxLine]
    invoices: list[InvoiceLine]
    awaiting_approval: int = 0  # steps in the owner's Approve list


def start_of_local_day(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(dt.UTC)


class CustomerNames:
    """Customer names and phones of the organization, by (connection, provider id), read only for the
    customers asked about: a company may have tens of thousands and a page names a few dozen. `load`
    reads a batch in one query; a lookup that was not loaded first reads its own row."""

    BATCH = 500  # pairs per query: two bound parameters each, well under SQLite's limit

    def __init__(self, session: Session, organization_id: int) -> None:
        self.session, self.organization_id = session, organization_id
        self.rows: dict[tuple[int, str], MirroredCustomer | None] = {}

    def load(self, keys: Iterable[tuple[int, str | None]]) -> None:
        missing = sorted({(c, p) for c, p in keys if p and (c, p) not in self.rows})
        self.rows.update(dict.fromkeys(missing))  # None until found: a customer gone from the mirror is asked once
        for start in range(0, len(missing), self.BATCH):
            for row in self.session.scalars(
                scoped(MirroredCustomer, self.organization_id).where(
                    tuple_(MirroredCustomer.connection_id, MirroredCustomer.provider_id).in_(
                        missing[start : start + self.BATCH]
                    )
                )
            ):
                self.rows[(row.connection_id, row.provider_id)] = row

    def _row(self, connection_id: int, customer_id: str | None) -> MirroredCustomer | None:
        if not customer_id:
            return None
        self.load([(connection_id, customer_id)])
        return self.rows[(connection_id, customer_id)]

    def name(self, connection_id: int, customer_id: str | None) -> str:
        row = self._row(connection_id, customer_id)
        return row.name if row else (customer_id or "—")

    def phone(self, connection_id: int, customer_id: str) -> str | None:
        row = self._row(connection_id, customer_id)
        return row.phone if row else None

    def row_id(self, connection_id: int, customer_id: str) -> int | None:
        row = self._row(connection_id, customer_id)
        return row.id if row else None


def _customers_of(rows: Iterable[Action]) -> Iterator[tuple[int, str | None]]:
    return ((row.connection_id, row.payload.get("customer_id")) for row in rows)


def _line(row: Action, names: CustomerNames) -> ActionLine:
    return ActionLine(
        row.id,
        row.completed_at or row.created_at,
        kind_label(row.kind),
        names.name(row.connection_id, row.payload.get("customer_id")),
        row.reason,
        status_word(row),
    )


def connection_health(
    session: Session, organization_id: int, interval: dt.timedelta, now: dt.datetime
) -> list[ConnectionHealth]:
    health = []
    for connection in session.scalars(scoped(Connection, organization_id).order_by(Connection.id)):
        run = session.scalars(
            select(CycleRun)
            .where(CycleRun.connection_id == connection.id)
            .order_by(CycleRun.started_at.desc())
            .limit(1)
        ).first()
        active = connection.status is ConnectionStatus.ACTIVE
        state = failing(session, connection.id) if active else None
        health.append(
            ConnectionHealth(
                connection.id,
                connection.provider,
                connection.display_name,
                connection.status,
                connection.status_reason,
                connection.last_sync_at,
                next_run(connection.id, interval, now) if active else None,
                run.status if run else None,
                (run.summary or {}).get("detail") if run else None,
                state,
                retry_at(state, interval) if state is not None else None,
            )
        )
    return health


def open_call_tasks(
    session: Session, organization_id: int, now: dt.datetime, names: CustomerNames | None = None
) -> list[CallTask]:
    """Call tasks from the last CALL_LIST_DAYS with no settling outcome and something still owed."""
    names = names or CustomerNames(session, organization_id)
    tasks = session.scalars(
        scoped(Action, organization_id)
        .where(
            Action.kind == ActionKind.CREATE_CALL_TASK.value,
            Action.status == ActionStatus.DONE,
            Action.created_at >= now - dt.timedelta(days=CALL_LIST_DAYS),
        )
        .order_by(Action.created_at, Action.id)
    ).all()
    if not tasks:
        return []
    outcomes: dict[int, list[ActivityEntry]] = {}
    for entry in session.scalars(
        scoped(ActivityEntry, organization_id)
        .where(ActivityEntry.kind == CALL_OUTCOME, ActivityEntry.action_id.in_([t.id for t in tasks]))
        .order_by(ActivityEntry.id)
    ):
        outcomes.setdefault(entry.action_id or 0, []).append(entry)
    tasks = [
        t for t in tasks if not any(CallOutcome(e.details["outcome"]).settles_task for e in outcomes.get(t.id, ()))
    ]
    owed = _owed(session, organization_id, tasks)
    names.load(_customers_of(tasks))
    histories = _histories(session, organization_id, {(t.connection_id, t.payload["customer_id"]) for t in tasks})
    calls = []
    for task in tasks:
        keys = {(task.connection_id, i) for i in task.payload.get("invoice_ids") or ()}
        invoices = sorted((owed[key] for key in keys & owed.keys()), key=lambda i: (i.number, i.id))
        if not invoices:
            continue  # paid (or gone) since the task was made
        customer_id = task.payload["customer_id"]
        details = task.payload.get("payload") or {}
        calls.append(
            CallTask(
                action_id=task.id,
                customer_name=names.name(task.connection_id, customer_id),
                phone=details.get("phone") or names.phone(task.connection_id, customer_id),
                stage=(task.payload.get("stage") or "").replace("_", " "),
                reason=task.reason,
                talking_points=tuple(details.get("talking_points") or ()),
                invoices=tuple(f"invoice {i.number}, {amount_text(i.balance, i.currency)}" for i in invoices),
                history=histories.get((task.connection_id, customer_id), ()),
                created_at=task.created_at,
                attempts=len(outcomes.get(task.id, ())),
                customer_row=names.row_id(task.connection_id, customer_id),
            )
        )
    return calls


def _owed(session: Session, organization_id: int, tasks: Sequence[Action]) -> dict[tuple[int, str], MirroredInvoice]:
    """The tasks' invoices still open with something owed, by (connection, provider id)."""
    wanted = {(t.connection_id, i) for t in tasks for i in t.payload.get("invoice_ids") or ()}
    if not wanted:
        return {}
    rows = session.scalars(
        scoped(MirroredInvoice, organization_id).where(
            tuple_(MirroredInvoice.connection_id, MirroredInvoice.provider_id).in_(wanted),
            MirroredInvoice.status == InvoiceStatus.OPEN.value,
            MirroredInvoice.balance > 0,
        )
    )
    return {(row.connection_id, row.provider_id): row for row in rows}


def _histories(
    session: Session, organization_id: int, customers: set[tuple[int, str]]
) -> dict[tuple[int, str], tuple[HistoryLine, ...]]:
    """Each customer's HISTORY_LIMIT latest activity lines, newest first, in one query for all."""
    if not customers:
        return {}
    newest_first = (
        func.row_number()
        .over(
            partition_by=(ActivityEntry.connection_id, ActivityEntry.customer_provider_id),
            order_by=(ActivityEntry.created_at.desc(), ActivityEntry.id.desc()),
        )
        .label("newest_first")
    )
    ranked = (
        scoped(ActivityEntry, organization_id)
        .with_only_columns(
            ActivityEntry.connection_id,
            ActivityEntry.customer_provider_id,
            ActivityEntry.created_at,
            ActivityEntry.message,
            newest_first,
        )
        .where(tuple_(ActivityEntry.connection_id, ActivityEntry.customer_provider_id).in_(customers))
        .subquery()
    )
    found: dict[tuple[int, str], list[HistoryLine]] = defaultdict(list)
    for row in session.execute(
        select(ranked).where(ranked.c.newest_first <= HISTORY_LIMIT).order_by(ranked.c.newest_first)
    ):
        found[(row.connection_id, row.customer_provider_id)].append(HistoryLine(row.created_at, row.message))
    return {key: tuple(lines) for key, lines in found.items()}


def account_flags(
    session: Session, organization_id: int, names: CustomerNames | None = None
) -> tuple[list[AccountFlag], list[AccountFlag]]:
    """Customers on credit hold now and customers moved to mid-month terms, with the policy's reason."""
    names = names or CustomerNames(session, organization_id)
    rows = session.scalars(
        scoped(Action, organization_id)
        .where(
            Action.status == ActionStatus.DONE,
            Action.kind.in_(
                (
                    ActionKind.CREDIT_HOLD_ON.value,
                    ActionKind.CREDIT_HOLD_OFF.value,
                    ActionKind.SET_MID_MONTH_TERMS.value,
                )
            ),
        )
        .order_by(Action.completed_at, Action.id)
    )
    hold: dict[tuple[int, str], Action | None] = {}
    terms: dict[tuple[int, str], Action] = {}
    for row in rows:
        key = (row.connection_id, row.payload["customer_id"])
        if row.kind == ActionKind.SET_MID_MONTH_TERMS.value:
            terms[key] = row
        else:
            hold[key] = row if row.kind == ActionKind.CREDIT_HOLD_ON.value else None

    names.load([*hold, *terms])

    def flags(found: Iterable[tuple[tuple[int, str], Action | None]]) -> list[AccountFlag]:
        listed = [
            AccountFlag(names.name(*key), row.reason, row.completed_at or row.created_at) for key, row in found if row
        ]
        return sorted(listed, key=lambda f: f.customer_name.lower())

    return flags(hold.items()), flags(terms.items())


def _owner_tasks(
    session: Session, organization_id: int, now: dt.datetime, names: CustomerNames, kind: ActionKind
) -> list[ActionLine]:
    """Escalations to decide and credits to apply: owner tasks of one kind from the last weeks."""
    rows = session.scalars(
        scoped(Action, organization_id)
        .where(
            Action.kind == kind.value,
            Action.status == ActionStatus.DONE,
            Action.created_at >= now - dt.timedelta(days=ESCALATION_DAYS),
        )
        .order_by(Action.created_at.desc(), Action.id.desc())
    ).all()
    names.load(_customers_of(rows))
    return [_line(row, names) for row in rows]


def _outbox(session: Session, organization_id: int, names: CustomerNames) -> list[OutboxLine]:
    rows = session.scalars(
        scoped(Action, organization_id)
        .where(Action.kind.in_(EMAIL_KINDS))
        .order_by(Action.updated_at.desc(), Action.id.desc())
        .limit(OUTBOX_LIMIT)
    ).all()
    names.load(_customers_of(rows))
    return [
        OutboxLine(
            when=row.completed_at or row.created_at,
            customer_name=names.name(row.connection_id, row.payload.get("customer_id")),
            stage=(row.payload.get("stage") or "").replace("_", " "),
            recipients=", ".join(row.payload.get("recipients") or ()),
            subject=row.payload.get("subject")
            or ("sent by the accounting system" if row.kind == ActionKind.RESEND_INVOICE.value else ""),
            status="sent, note not written" if row.warning else OUTBOX_STATUS[row.status],
            not_before=row.not_before if row.status is ActionStatus.PLANNED else None,
        )
        for row in rows
    ]


def _today_actions(
    session: Session, organization_id: int, since: dt.datetime, names: CustomerNames
) -> tuple[list[ActionLine], int, dict[str, int]]:
    """The first TODAY_LIMIT of today's actions but the notes that accompany them, how many such
    actions there were, and how many of each kind (notes too). A first live day can plan thousands:
    the activity log pages through them all."""
    today = scoped(Action, organization_id).where(or_(Action.created_at >= since, Action.completed_at >= since))
    counts = Counter(
        {
            kind_label(kind): n
            for kind, n in session.execute(today.with_only_columns(Action.kind, func.count()).group_by(Action.kind))
        }
    )
    listed = today.where(Action.kind != ActionKind.ADD_NOTE.value)
    rows = session.scalars(listed.order_by(Action.id).limit(TODAY_LIMIT)).all()
    total = session.scalar(listed.with_only_columns(func.count())) or 0
    names.load(_customers_of(rows))
    return [_line(row, names) for row in rows], total, dict(counts.most_common())


def _observed(session: Session, organization_id: int, since: dt.datetime, names: CustomerNames) -> list[ActionLine]:
    """What the latest observe-mode cycle of each connection decided today (nothing was done)."""
    lines = []
    for connection_id in session.scalars(scoped(Connection, organization_id).with_only_columns(Connection.id)):
        run = session.scalars(
            select(CycleRun)
            .where(CycleRun.connection_id == connection_id, CycleRun.started_at >= since)
            .order_by(CycleRun.started_at.desc())
            .limit(1)
        ).first()
        if run is None or run.status != "observed":
            continue
        decided: Sequence[dict[str, Any]] = (run.summary or {}).get("decided") or ()
        names.load((connection_id, a.get("customer_id")) for a in decided)
        lines.extend(
            ActionLine(
                0,
                run.started_at,
                kind_label(a["kind"]),
                names.name(connection_id, a.get("customer_id")),
                a["reason"],
                "observed",
            )
            for a in decided
        )
    return lines


def _figures(
    session: Session, organization_id: int, today: dt.date
) -> tuple[dict[str, dict[str, Decimal]], dict[str, list[TrendPoint]]]:
    days = month_ends(today)
    earliest = days[0] - dt.timedelta(days=DSO_WINDOW_DAYS)
    since = dt.datetime.combine(days[0], dt.time(), dt.UTC)
    # Whatever could have been owed on the first day or invoiced in the DSO window before it.
    books: dict[int, tuple[list[Invoice], list[Payment]]] = defaultdict(lambda: ([], []))
    for row in session.scalars(
        scoped(MirroredInvoice, organization_id).where(
            MirroredInvoice.status.in_((InvoiceStatus.OPEN.value, InvoiceStatus.PAID.value)),
            or_(
                MirroredInvoice.status == InvoiceStatus.OPEN.value,
                MirroredInvoice.issue_date > earliest,
                MirroredInvoice.provider_updated_at >= since,
            ),
        )
    ):
        books[row.connection_id][0].append(invoice_record(row))
    for payment in session.scalars(scoped(MirroredPayment, organization_id).where(MirroredPayment.deleted.is_(False))):
        books[payment.connection_id][1].append(payment_record(payment))
    invoices = [invoice for book, _ in books.values() for invoice in book]
    return aging_totals(invoices, today), trend(books.values(), days)


def _open_invoices(session: Session, organization_id: int) -> list[InvoiceLine]:
    rows = session.execute(
        scoped(MirroredInvoice, organization_id)
        .add_columns(MirroredCustomer.name)
        .outerjoin(
            MirroredCustomer,
            and_(
                MirroredCustomer.connection_id == MirroredInvoice.connection_id,
                MirroredCustomer.provider_id == MirroredInvoice.customer_provider_id,
            ),
        )
        .where(MirroredInvoice.status == InvoiceStatus.OPEN.value, MirroredInvoice.balance != 0)
        .order_by(MirroredInvoice.due_date.is_(None), MirroredInvoice.due_date, MirroredInvoice.number)
        .limit(OPEN_INVOICE_LIMIT)
    ).all()
    return [
        InvoiceLine(i.number, name or i.customer_provider_id, i.due_date, i.balance, i.currency) for i, name in rows
    ]


def load_dashboard(session: Session, organization_id: int, now: dt.datetime, interval: dt.timedelta) -> Dashboard:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(f"organization {organization_id} does not exist")
    today = local_today(now, organization.timezone)
    since = start_of_local_day(today, organization.timezone)
    names = CustomerNames(session, organization_id)
    aging, trend_ = _figures(session, organization_id, today)
    on_hold, mid_month = account_flags(session, organization_id, names)
    today_actions, today_total, today_counts = _today_actions(session, organization_id, since, names)
    return Dashboard(
        organization=organization,
        today=today,
        connections=connection_health(session, organization_id, interval, now),
        aging=aging,
        trend=trend_,
        today_actions=today_actions,
        today_total=today_total,
        today_counts=today_counts,
        observed=_observed(session, organization_id, since, names),
        calls=open_call_tasks(session, organization_id, now, names),
        escalations=_owner_tasks(session, organization_id, now, names, ActionKind.RECOMMEND_ESCALATION),
        credits_to_apply=_owner_tasks(session, organization_id, now, names, ActionKind.APPLY_CREDIT),
        on_hold=on_hold,
        mid_month=mid_month,
        outbox=_outbox(session, organization_id, names),
        invoices=_open_invoices(session, organization_id),
        awaiting_approval=session.scalar(
            scoped(Action, organization_id)
            .where(Action.status == ActionStatus.AWAITING_APPROVAL)
            .with_only_columns(func.count())
        )
        or 0,
    )
