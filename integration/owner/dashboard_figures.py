"""The dashboard's figures from the mirror: receivables, overdue and DSO at each month-end (pure
functions, no I/O, no clock reads). Aging per currency is `integration.policy.aging.aging_totals`.

What was owed on a past day is worked out backwards from today's balance: an invoice's balance
then is its balance now plus what was paid on it after that day (capped at its total). Payments
come from the mirrored payment history; a settlement the mirror holds no payment for (a credit
note, a write-off, a payment older than the mirror) is dated on the invoice's last change.

DSO uses the standard formula: receivables at the day / sales invoiced in the 90
days up to it × 90. Amounts are per currency, never converted.

The work is done on plain tuples (`Billed`, `Applied`), which the dashboard reads straight from the
database's columns: building 40,000 records for a large company took most of a second. `trend`
and `aging_totals` take the connector's records and give the same figures (tests/test_dashboard_figures.py).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from connectors.contract import Invoice, InvoiceStatus, Payment
from integration.policy.aging import BUCKETS, Totals, bucket

ZERO = Decimal(0)
DSO_WINDOW_DAYS = 90
TREND_MONTHS = 12
# Statuses that were ever owed; drafts, voids and deletions never were.
_BILLED = (InvoiceStatus.OPEN, InvoiceStatus.PAID)


# --- trend -------------------------------------------------------------------------------------


def month_ends(today: dt.date, months: int = TREND_MONTHS) -> list[dt.date]:
    """The last day of each of the `months` months before today's, oldest first, then today."""
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")
    ends = []
    end = today.replace(day=1) - dt.timedelta(days=1)
    for _ in range(months):
        ends.append(end)
        end = end.replace(day=1) - dt.timedelta(days=1)
    return [*reversed(ends), today]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    day: dt.date
    receivable: Decimal
    overdue: Decimal
    dso: int | None  # days; None when nothing was invoiced in the window before `day`


class Billed(NamedTuple):
    """An invoice that was owed (open or paid), as the figures need it."""

    provider_id: str
    currency: str
    total: Decimal
    balance: Decimal
    open: bool  # open with something left to pay
    issued: dt.date
    due: dt.date  # the issue date when it has none: due on receipt
    changed: dt.date  # the day of its last change at the provider


class Applied(NamedTuple):
    """Part of a payment applied to one invoice (deleted payments left out)."""

    invoice_id: str
    day: dt.date
    amount: Decimal


def billed(invoice: Invoice) -> Billed:
    return Billed(
        invoice.provider_id,
        invoice.total.currency,
        invoice.total.amount,
        invoice.balance.amount,
        invoice.status is InvoiceStatus.OPEN and invoice.balance.amount > ZERO,
        invoice.issue_date,
        invoice.due_date or invoice.issue_date,
        invoice.updated_at.date(),
    )


def applied(payments: Iterable[Payment]) -> list[Applied]:
    return [
        Applied(application.invoice_id, payment.date, application.amount.amount)
        for payment in payments
        if not payment.deleted
        for application in payment.applied_to
    ]


def aging_of(invoices: Iterable[Billed], today: dt.date) -> Totals:
    """`integration.policy.aging.aging_totals` over `Billed` tuples."""
    totals: Totals = {}
    for invoice in invoices:
        if invoice.open:
            buckets = totals.setdefault(invoice.currency, dict.fromkeys(BUCKETS, ZERO))
            buckets[bucket((today - invoice.due).days)] += invoice.balance
    return dict(sorted(totals.items()))


def _settlements(invoices: Sequence[Billed], payments: Iterable[Applied]) -> dict[str, list[tuple[dt.date, Decimal]]]:
    """Per invoice, the (day, amount) of each payment applied to it, plus any unexplained rest."""
    paid: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for application in payments:
        paid[application.invoice_id].append((application.day, application.amount))
    for invoice in invoices:
        explained = sum((amount for _, amount in paid[invoice.provider_id]), ZERO)
        rest = invoice.total - invoice.balance - explained
        if rest > ZERO:
            paid[invoice.provider_id].append((invoice.changed, rest))
    return paid


Book = tuple[Iterable[Invoice], Iterable[Payment]]  # one company's (connection's) invoices and payments
BilledBook = tuple[Sequence[Billed], Iterable[Applied]]  # the same as the figures read it


def trend(books: Iterable[Book], days: Sequence[dt.date]) -> dict[str, list[TrendPoint]]:
    """`trend_of` the connector's records: drafts, voids and deletions were never owed."""
    return trend_of(
        (([billed(i) for i in invoices if i.status in _BILLED], applied(payments)) for invoices, payments in books),
        days,
    )


def trend_of(books: Iterable[BilledBook], days: Sequence[dt.date]) -> dict[str, list[TrendPoint]]:
    """Receivables, overdue and DSO at each of `days` (ascending), per currency (currencies sorted),
    summed over `books`. Payments meet invoices book by book: provider ids are unique only inside
    one company, and two QuickBooks companies both have an invoice "130"."""
    count = len(days)
    sums: dict[str, tuple[list[Decimal], list[Decimal], list[Decimal]]] = {}  # currency -> receivable, overdue, sales
    for invoices, payments in books:
        settled = _settlements(invoices, payments)
        for invoice in invoices:
            receivable, overdue, sales = sums.setdefault(
                invoice.currency, ([ZERO] * count, [ZERO] * count, [ZERO] * count)
            )
            _add(invoice, sorted(settled.get(invoice.provider_id, ())), days, receivable, overdue, sales)
    return {
        currency: [
            TrendPoint(day, receivable[k], overdue[k], _dso(receivable[k], sales[k])) for k, day in enumerate(days)
        ]
        for currency, (receivable, overdue, sales) in sorted(sums.items())
    }


def _add(
    invoice: Billed,
    paid: list[tuple[dt.date, Decimal]],
    days: Sequence[dt.date],
    receivable: list[Decimal],
    overdue: list[Decimal],
    sales: list[Decimal],
) -> None:
    """Add one invoice's part to each day's sums. The days ascend, so what was paid after each
    day only shrinks: one pass over the invoice's settlements serves every day, and the pass
    ends once the invoice is settled for good."""
    total, balance, issued, due = invoice.total, invoice.balance, invoice.issued, invoice.due
    first = bisect_left(days, issued)
    for k in range(first, bisect_left(days, issued + dt.timedelta(days=DSO_WINDOW_DAYS))):
        sales[k] += total
    paid_later = sum((amount for _, amount in paid), ZERO)
    settled = 0
    for k in range(first, len(days)):
        day = days[k]
        while settled < len(paid) and paid[settled][0] <= day:
            paid_later -= paid[settled][1]
            settled += 1
        owed = min(total, balance + paid_later)
        if owed <= ZERO:
            if settled == len(paid):
                return  # nothing more will be paid back in: owed stays nothing on every later day
            continue
        receivable[k] += owed
        if day > due:
            overdue[k] += owed


def _dso(receivable: Decimal, sales: Decimal) -> int | None:
    if sales <= ZERO:
        return None
    return int((receivable / sales * DSO_WINDOW_DAYS).to_integral_value(ROUND_HALF_UP))


# --- chart geometry (the SVG is drawn by the template from these numbers) -----------------------


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float


def bars(values: Mapping[str, Decimal], *, width: float, height: float, gap: float = 8.0) -> list[Bar]:
    """Vertical bars filling `width`, scaled so the largest value is `height` tall (y grows downwards)."""
    if not values:
        return []
    top = max(values.values())
    slot = width / len(values)
    bars_ = []
    for index, (label, value) in enumerate(values.items()):
        tall = float(value / top) * height if top > ZERO and value > ZERO else 0.0
        bars_.append(
            Bar(
                label,
                value,
                round(index * slot + gap / 2, 2),
                round(height - tall, 2),
                round(slot - gap, 2),
                round(tall, 2),
            )
        )
    return bars_


def line_points(
    values: Sequence[Decimal | int | None], *, width: float, height: float, top: Decimal | None = None
) -> list[tuple[float, float] | None]:
    """Each value's point on a line spanning `width`, scaled from zero so that `top` (default: the
    largest value) is `height` high; None stays None, a gap in the line."""
    if top is None:
        top = max((Decimal(v) for v in values if v is not None), default=ZERO)
    step = width / (len(values) - 1) if len(values) > 1 else 0.0
    points: list[tuple[float, float] | None] = []
    for index, value in enumerate(values):
        if value is None:
            points.append(None)
            continue
        share = float(Decimal(value) / top) if top > ZERO else 0.0
        points.append((round(index * step, 2), round(height - share * height, 2)))
    return points


def polyline(points: Sequence[tuple[float, float] | None]) -> list[str]:
    """SVG `points` strings, one per unbroken run of known points."""
    runs: list[list[str]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{point[0]:g},{point[1]:g}")
    return [" ".join(run) for run in runs if run]
