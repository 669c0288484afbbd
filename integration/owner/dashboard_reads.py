"""What the owner's dashboard shows, read from the database for one organization, and for one of
its companies when the owner chose one (`connection_id`; None: all of them).

Reads only, always through `integration.store.scoping.scoped`. Each part has its module: the
headline tiles (`headline`), the call list (`call_list`), the other lists (`dashboard_lists`),
connection health (`connection_health`) and cycle progress (`cycle_progress`); the figures are
pure functions in `dashboard_figures`. This module gathers them into one `Dashboard`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlalchemy.orm import Session

from connectors.contract import Invoice, InvoiceStatus, Payment
from integration.cycle.gather import invoice_record, payment_record
from integration.owner import headline
from integration.owner.call_list import CallTask, open_call_tasks
from integration.owner.company_filter import of_company
from integration.owner.connection_health import ConnectionHealth, connection_health
from integration.owner.customer_names import CustomerNames
from integration.owner.cycle_progress import Progress, cycle_progress
from integration.owner.dashboard_figures import DSO_WINDOW_DAYS, TrendPoint, month_ends, trend
from integration.owner.dashboard_lists import (
    AccountFlag,
    ActionLine,
    InvoiceLine,
    OutboxLine,
    account_flags,
    observed,
    open_invoices,
    outbox,
    owner_tasks,
    today_actions,
)
from integration.policy.actions import ActionKind
from integration.policy.aging import aging_totals, local_today
from integration.store.models import Action, ActionStatus, MirroredInvoice, MirroredPayment, Organization
from integration.store.scoping import scoped


@dataclass(frozen=True)
class Dashboard:
    organization: Organization
    today: dt.date
    connections: list[ConnectionHealth]
    tiles: list[headline.Tiles]
    aging: dict[str, dict[str, Decimal]]
    trend: dict[str, list[TrendPoint]]
    today_actions: list[
        ActionLine
    ]  # the first TODAY_LIMIT; notes left out: they come with the email or call they record
    today_total: int  # how many today_actions there were in all
    today_counts: dict[str, int]  # label -> how many, notes included
    observed: list[ActionLine]  # decided today in observe mode: shown, nothing done
    calls: list[CallTask]  # by expected value (call_list)
    escalations: list[ActionLine]
    credits_to_apply: list[ActionLine]  # customers whose unapplied credit covers what they owe
    on_hold: list[AccountFlag]
    mid_month: list[AccountFlag]
    outbox: list[OutboxLine]
    invoices: list[InvoiceLine]
    progress: Progress
    awaiting_approval: int = 0  # steps in the owner's Approve list
    company: str | None = None  # the chosen company's name; None: all of them


def start_of_local_day(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(dt.UTC)


def _figures(
    session: Session, organization_id: int, today: dt.date, connection_id: int | None
) -> tuple[dict[str, dict[str, Decimal]], dict[str, list[TrendPoint]]]:
    days = month_ends(today)
    earliest = days[0] - dt.timedelta(days=DSO_WINDOW_DAYS)
    since = dt.datetime.combine(days[0], dt.time(), dt.UTC)
    # Whatever could have been owed on the first day or invoiced in the DSO window before it.
    books: dict[int, tuple[list[Invoice], list[Payment]]] = defaultdict(lambda: ([], []))
    invoices = of_company(scoped(MirroredInvoice, organization_id), MirroredInvoice.connection_id, connection_id)
    for row in session.scalars(
        invoices.where(
            MirroredInvoice.status.in_((InvoiceStatus.OPEN.value, InvoiceStatus.PAID.value)),
            or_(
                MirroredInvoice.status == InvoiceStatus.OPEN.value,
                MirroredInvoice.issue_date > earliest,
                MirroredInvoice.provider_updated_at >= since,
            ),
        )
    ):
        books[row.connection_id][0].append(invoice_record(row))
    payments = of_company(scoped(MirroredPayment, organization_id), MirroredPayment.connection_id, connection_id)
    for payment in session.scalars(payments.where(MirroredPayment.deleted.is_(False))):
        books[payment.connection_id][1].append(payment_record(payment))
    every = [invoice for book, _ in books.values() for invoice in book]
    return aging_totals(every, today), trend(books.values(), days)


def load_dashboard(
    session: Session,
    organization_id: int,
    now: dt.datetime,
    interval: dt.timedelta,
    connection_id: int | None = None,
) -> Dashboard:
    """The dashboard of the organization; of one of its companies when `connection_id` is given
    (the caller checks that the company is the organization's: a stranger's shows nothing)."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(f"organization {organization_id} does not exist")
    today = local_today(now, organization.timezone)
    since = start_of_local_day(today, organization.timezone)
    names = CustomerNames(session, organization_id)
    aging, trend_ = _figures(session, organization_id, today, connection_id)
    on_hold, mid_month = account_flags(session, organization_id, names, connection_id)
    listed, listed_total, listed_counts = today_actions(session, organization_id, since, names, connection_id)
    connections = connection_health(session, organization_id, interval, now, connection_id)
    return Dashboard(
        organization=organization,
        today=today,
        connections=connections,
        tiles=headline.tiles(
            aging,
            trend_,
            headline.collected(session, organization_id, today, connection_id),
            headline.promised(session, organization_id, today, connection_id),
        ),
        aging=aging,
        trend=trend_,
        today_actions=listed,
        today_total=listed_total,
        today_counts=listed_counts,
        observed=observed(session, organization_id, since, names, connection_id),
        calls=open_call_tasks(session, organization_id, now, names, connection_id),
        escalations=owner_tasks(session, organization_id, now, names, ActionKind.RECOMMEND_ESCALATION, connection_id),
        credits_to_apply=owner_tasks(session, organization_id, now, names, ActionKind.APPLY_CREDIT, connection_id),
        on_hold=on_hold,
        mid_month=mid_month,
        outbox=outbox(session, organization_id, names, connection_id),
        invoices=open_invoices(session, organization_id, connection_id),
        progress=cycle_progress(session, organization_id, connection_id),
        awaiting_approval=session.scalar(
            of_company(scoped(Action, organization_id), Action.connection_id, connection_id)
            .where(Action.status == ActionStatus.AWAITING_APPROVAL)
            .with_only_columns(func.count())
        )
        or 0,
        company=connections[0].display_name if connection_id is not None and connections else None,
    )
