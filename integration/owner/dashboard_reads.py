"""What the owner's dashboard shows, read from the database for one organization, and for one of
its companies when the owner chose one (`connection_id`; None: all of them).

Reads only, always through `integration.store.scoping.scoped`. Each part has its module: the
headline tiles (`headline`), the call list (`call_list`), the other lists (`dashboard_lists`),
connection health (`connection_health`) and cycle progress (`cycle_progress`); the figures are
pure functions in `dashboard_figures`. This module gathers them into one `Dashboard`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus
from integration.owner import headline
from integration.owner.call_list import (
    CallTask,
    UsualPayment,
    usual_payment_of_calls,
    weighed_calls,
    with_history,
    with_usual_payment,
)
from integration.owner.company_filter import of_company
from integration.owner.connection_health import ConnectionHealth, connection_health
from integration.owner.customer_names import CustomerNames
from integration.owner.cycle_progress import Progress, cycle_progress
from integration.owner.dashboard_figures import (
    DSO_WINDOW_DAYS,
    Applied,
    Billed,
    TrendPoint,
    aging_of,
    month_ends,
    trend_of,
)
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
from integration.policy.aging import local_today
from integration.store.models import (
    Action,
    ActionStatus,
    Letter,
    MirroredInvoice,
    MirroredPayment,
    Organization,
)
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
    calls: list[CallTask]  # by expected value (call_list), the first `calls_shown` unless all were asked for
    calls_total: int
    escalations: list[ActionLine]
    credits_to_apply: list[ActionLine]  # customers whose unapplied credit covers what they owe
    on_hold: list[AccountFlag]
    mid_month: list[AccountFlag]
    outbox: list[OutboxLine]
    invoices: list[InvoiceLine]
    progress: Progress
    awaiting_approval: int = 0  # steps in the owner's Approve list
    letters_to_post: int = 0  # letters the owner has not marked posted
    company: str | None = None  # the chosen company's name; None: all of them


CALLS_SHOWN = 25  # the day's most valuable calls; the page links to the others


def start_of_local_day(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(dt.UTC)


# Aging, the trend and what was collected in the last 30 days: all from the mirror alone.
Figures = tuple[dict[str, dict[str, Decimal]], dict[str, list[TrendPoint]], dict[str, Decimal]]
T = TypeVar("T")


class MirrorCache(Generic[T]):
    """What the dashboard last worked out per (organization, company, day, state of the mirror, ...).
    The trend walks every invoice of the last fifteen months (a second at 20,000 of them) and the
    calls' usual payment days read their customers' books, while the mirror changes only when a
    sync or a targeted refresh stores changed rows: `mirror_state` tells when."""

    SIZE = 256

    def __init__(self) -> None:
        self._found: OrderedDict[tuple[object, ...], T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], work_out: Callable[[], T]) -> T:
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        found = work_out()
        with self._lock:
            self._found[key] = found
            while len(self._found) > self.SIZE:
                self._found.popitem(last=False)
        return found


FIGURES: MirrorCache[Figures] = MirrorCache()
USUAL_PAYMENT: MirrorCache[UsualPayment] = MirrorCache()


def mirror_state(session: Session, organization_id: int, connection_id: int | None) -> tuple[object, ...]:
    """What changes whenever the invoices or payments the figures read change, and only then (a
    cycle that finds nothing new keeps the figures): per table the rows, the latest provider change
    time (an upsert keeps only a newer copy), the open balances and open invoices (a deletion or a
    void sets both), the payments' total (a deleted payment leaves it); and the database itself."""
    i, p = MirroredInvoice, MirroredPayment
    invoices = of_company(scoped(i, organization_id), i.connection_id, connection_id).with_only_columns(
        func.count(),
        func.max(i.provider_updated_at),
        func.sum(i.balance),
        func.sum(case((i.status == InvoiceStatus.OPEN.value, 1), else_=0)),
    )
    payments = of_company(scoped(p, organization_id), p.connection_id, connection_id).with_only_columns(
        func.count(), func.max(p.provider_updated_at), func.sum(case((p.deleted.is_(False), p.amount), else_=0))
    )
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    return (database, *session.execute(invoices).one(), *session.execute(payments).one())


def _figures(
    session: Session, organization_id: int, today: dt.date, connection_id: int | None, state: tuple[object, ...]
) -> Figures:
    key = (organization_id, connection_id, today, *state)
    return FIGURES.get(key, lambda: _work_out_figures(session, organization_id, today, connection_id))


def _with_usual_payment(
    session: Session,
    organization_id: int,
    calls: list[CallTask],
    now: dt.datetime,
    today: dt.date,
    state: tuple[object, ...],
) -> list[CallTask]:
    """`with_usual_payment`; the days are read again only when the mirror, the day or the customers
    called change (the calls themselves, their tries and histories, are always today's)."""
    customers = sorted({(c.connection_id, c.customer_id) for c in calls})
    key = (organization_id, today, *state, *customers)
    around = USUAL_PAYMENT.get(key, lambda: usual_payment_of_calls(session, organization_id, calls, now))
    return with_usual_payment(calls, around)


def _work_out_figures(session: Session, organization_id: int, today: dt.date, connection_id: int | None) -> Figures:
    """Aging, the trend and what was collected; the first two from the columns they need (no ORM
    objects: a large company has tens of thousands of rows, and building them took most of the
    page's time)."""
    days = month_ends(today)
    earliest = days[0] - dt.timedelta(days=DSO_WINDOW_DAYS)
    since = dt.datetime.combine(days[0], dt.time(), dt.UTC)
    # Whatever could have been owed on the first day or invoiced in the DSO window before it.
    books: dict[int, tuple[list[Billed], list[Applied]]] = defaultdict(lambda: ([], []))
    i = MirroredInvoice
    invoices = of_company(scoped(i, organization_id), i.connection_id, connection_id).with_only_columns(
        i.connection_id,
        i.provider_id,
        i.currency,
        i.total,
        i.balance,
        i.status,
        i.issue_date,
        i.due_date,
        i.provider_updated_at,
    )
    for row in session.execute(
        invoices.where(
            i.status.in_((InvoiceStatus.OPEN.value, InvoiceStatus.PAID.value)),
            or_(i.status == InvoiceStatus.OPEN.value, i.issue_date > earliest, i.provider_updated_at >= since),
        )
    ):
        books[row.connection_id][0].append(
            Billed(
                row.provider_id,
                row.currency,
                row.total,
                row.balance,
                row.status == InvoiceStatus.OPEN.value and row.balance > 0,
                row.issue_date,
                row.due_date or row.issue_date,
                row.provider_updated_at.date(),
            )
        )
    p = MirroredPayment
    payments = of_company(scoped(p, organization_id), p.connection_id, connection_id).with_only_columns(
        p.connection_id, p.date, p.applied_to
    )
    for paid in session.execute(payments.where(p.deleted.is_(False))):
        books[paid.connection_id][1].extend(
            Applied(a["invoice_id"], paid.date, Decimal(a["amount"])) for a in paid.applied_to
        )
    every = [invoice for invoices, _ in books.values() for invoice in invoices]
    collected = headline.collected(session, organization_id, today, connection_id)
    return aging_of(every, today), trend_of(books.values(), days), collected


def load_dashboard(
    session: Session,
    organization_id: int,
    now: dt.datetime,
    interval: dt.timedelta,
    connection_id: int | None = None,
    calls_shown: int | None = CALLS_SHOWN,
) -> Dashboard:
    """The dashboard of the organization; of one of its companies when `connection_id` is given
    (the caller checks that the company is the organization's: a stranger's shows nothing)."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(f"organization {organization_id} does not exist")
    today = local_today(now, organization.timezone)
    since = start_of_local_day(today, organization.timezone)
    names = CustomerNames(session, organization_id)
    state = mirror_state(session, organization_id, connection_id)
    aging, trend_, collected = _figures(session, organization_id, today, connection_id, state)
    on_hold, mid_month = account_flags(session, organization_id, names, connection_id)
    listed, listed_total, listed_counts = today_actions(session, organization_id, since, names, connection_id)
    connections = connection_health(session, organization_id, interval, now, connection_id)
    calls = weighed_calls(session, organization_id, now, names, connection_id)
    return Dashboard(
        organization=organization,
        today=today,
        connections=connections,
        tiles=headline.tiles(
            aging,
            trend_,
            collected,
            headline.promised(session, organization_id, today, connection_id),
        ),
        aging=aging,
        trend=trend_,
        today_actions=listed,
        today_total=listed_total,
        today_counts=listed_counts,
        observed=observed(session, organization_id, since, names, connection_id),
        calls=with_history(
            session,
            organization_id,
            _with_usual_payment(session, organization_id, calls[:calls_shown], now, today, state),
        ),
        calls_total=len(calls),
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
        letters_to_post=session.scalar(
            of_company(scoped(Letter, organization_id), Letter.connection_id, connection_id)
            .where(Letter.posted_at.is_(None))
            .with_only_columns(func.count())
        )
        or 0,
        company=connections[0].display_name if connection_id is not None and connections else None,
    )
