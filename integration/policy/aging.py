"""Aging: how late each open invoice is, in the company's time zone, and totals per bucket.

Buckets follow the usual aged-receivables report: current (not yet past due), 1-30, 31-60,
61-90 and 90+ days past due. Amounts are summed per currency, never converted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.contract import Invoice, InvoiceStatus
from integration.policy.snapshot import Snapshot

BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")
ZERO = Decimal(0)


def local_today(now: dt.datetime, timezone: str) -> dt.date:
    """The calendar date at `now` in the given zone. A naive `now` is refused: it has no zone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware instant (UTC)")
    return now.astimezone(ZoneInfo(timezone)).date()


def is_open(invoice: Invoice) -> bool:
    """Open with something left to pay: the only invoices any action may concern."""
    return invoice.status is InvoiceStatus.OPEN and invoice.balance.amount > ZERO


def days_overdue(invoice: Invoice, today: dt.date) -> int:
    """Days past due (negative while not yet due). No due date means due on receipt."""
    return (today - (invoice.due_date or invoice.issue_date)).days


def bucket(days: int) -> str:
    if days <= 0:
        return "current"
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "90+"


Totals = dict[str, dict[str, Decimal]]  # currency -> bucket -> amount


@dataclass(frozen=True)
class Aging:
    today: dt.date
    company: Totals
    by_customer: dict[str, Totals]


def _empty() -> dict[str, Decimal]:
    return {name: ZERO for name in BUCKETS}


def aging_totals(invoices: Iterable[Invoice], today: dt.date) -> Totals:
    """Open balances per currency and bucket, every bucket present, currencies sorted."""
    totals: Totals = defaultdict(_empty)
    for invoice in invoices:
        if is_open(invoice):
            totals[invoice.balance.currency][bucket(days_overdue(invoice, today))] += invoice.balance.amount
    return dict(sorted(totals.items()))


def aging(snapshot: Snapshot, now: dt.datetime) -> Aging:
    today = local_today(now, snapshot.company.timezone)
    by_customer: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in snapshot.invoices:
        if is_open(invoice):
            by_customer[invoice.customer_id].append(invoice)
    return Aging(
        today=today,
        company=aging_totals(snapshot.invoices, today),
        by_customer={customer: aging_totals(invoices, today) for customer, invoices in sorted(by_customer.items())},
    )
