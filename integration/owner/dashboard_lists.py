"""The dashboard's lists beside the calls: today's actions and what observe mode decided, escalations
and credits to apply, customers on hold and on mid-month terms, the outbox and the open invoices.

Reads only, each through `integration.store.scoping.scoped`, and each of one company only when
given a `connection_id` (the company the owner chose; None: all of them).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus
from integration.owner.company_filter import of_company
from integration.owner.customer_names import CustomerNames, customers_of
from integration.policy.actions import ActionKind
from integration.store.models import Action, ActionStatus, Connection, CycleRun, MirroredCustomer, MirroredInvoice
from integration.store.scoping import scoped

ESCALATION_DAYS = 30
OUTBOX_LIMIT = 20
OPEN_INVOICE_LIMIT = 200

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
    ActionKind.SEND_STATEMENT.value: "Statement email",
    ActionKind.INSTALMENT_REMINDER.value: "Instalment reminder",
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


def _line(row: Action, names: CustomerNames) -> ActionLine:
    return ActionLine(
        row.id,
        row.completed_at or row.created_at,
        kind_label(row.kind),
        names.name(row.connection_id, row.payload.get("customer_id")),
        row.reason,
        status_word(row),
    )


def account_flags(
    session: Session, organization_id: int, names: CustomerNames | None = None, connection_id: int | None = None
) -> tuple[list[AccountFlag], list[AccountFlag]]:
    """Customers on credit hold now and customers moved to mid-month terms, with the policy's reason."""
    names = names or CustomerNames(session, organization_id)
    rows = session.scalars(
        of_company(scoped(Action, organization_id), Action.connection_id, connection_id)
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


def owner_tasks(
    session: Session,
    organization_id: int,
    now: dt.datetime,
    names: CustomerNames,
    kind: ActionKind,
    connection_id: int | None = None,
) -> list[ActionLine]:
    """Escalations to decide and credits to apply: owner tasks of one kind from the last weeks."""
    rows = session.scalars(
        of_company(scoped(Action, organization_id), Action.connection_id, connection_id)
        .where(
            Action.kind == kind.value,
            Action.status == ActionStatus.DONE,
            Action.created_at >= now - dt.timedelta(days=ESCALATION_DAYS),
        )
        .order_by(Action.created_at.desc(), Action.id.desc())
    ).all()
    names.load(customers_of(rows))
    return [_line(row, names) for row in rows]


def outbox(
    session: Session, organization_id: int, names: CustomerNames, connection_id: int | None = None
) -> list[OutboxLine]:
    rows = session.scalars(
        of_company(scoped(Action, organization_id), Action.connection_id, connection_id)
        .where(Action.kind.in_(EMAIL_KINDS))
        .order_by(Action.updated_at.desc(), Action.id.desc())
        .limit(OUTBOX_LIMIT)
    ).all()
    names.load(customers_of(rows))
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


def today_actions(
    session: Session, organization_id: int, since: dt.datetime, names: CustomerNames, connection_id: int | None = None
) -> tuple[list[ActionLine], int, dict[str, int]]:
    """The first TODAY_LIMIT of today's actions but the notes that accompany them, how many such
    actions there were, and how many of each kind (notes too). A first live day can plan thousands:
    the activity log pages through them all."""
    today = of_company(scoped(Action, organization_id), Action.connection_id, connection_id).where(
        or_(Action.created_at >= since, Action.completed_at >= since)
    )
    counts = Counter(
        {
            kind_label(kind): n
            for kind, n in session.execute(today.with_only_columns(Action.kind, func.count()).group_by(Action.kind))
        }
    )
    listed = today.where(Action.kind != ActionKind.ADD_NOTE.value)
    rows = session.scalars(listed.order_by(Action.id).limit(TODAY_LIMIT)).all()
    total = session.scalar(listed.with_only_columns(func.count())) or 0
    names.load(customers_of(rows))
    return [_line(row, names) for row in rows], total, dict(counts.most_common())


def observed(
    session: Session, organization_id: int, since: dt.datetime, names: CustomerNames, connection_id: int | None = None
) -> list[ActionLine]:
    """What the latest observe-mode cycle of each connection decided today (nothing was done)."""
    lines: list[ActionLine] = []
    connections = scoped(Connection, organization_id).with_only_columns(Connection.id)
    for company in session.scalars(of_company(connections, Connection.id, connection_id)):
        run = session.scalars(
            select(CycleRun)
            .where(CycleRun.connection_id == company, CycleRun.started_at >= since)
            .order_by(CycleRun.started_at.desc())
            .limit(1)
        ).first()
        if run is None or run.status != "observed":
            continue
        decided: Sequence[dict[str, Any]] = (run.summary or {}).get("decided") or ()
        names.load((company, a.get("customer_id")) for a in decided)
        lines.extend(
            ActionLine(
                0,
                run.started_at,
                kind_label(a["kind"]),
                names.name(company, a.get("customer_id")),
                a["reason"],
                "observed",
            )
            for a in decided
        )
    return lines


def open_invoices(session: Session, organization_id: int, connection_id: int | None = None) -> list[InvoiceLine]:
    rows = session.execute(
        of_company(scoped(MirroredInvoice, organization_id), MirroredInvoice.connection_id, connection_id)
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
