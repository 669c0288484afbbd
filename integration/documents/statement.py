"""A customer's account statement: open invoices aged into the usual buckets, the payments and
credits of the last days, and totals per currency, as of a date in the company's zone.

Pure: the caller reads the mirror and passes one customer's records; nothing here converts
currencies, so a customer owing in two currencies gets two totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from connectors.contract import Credit, Customer, Invoice, Money, Payment
from integration.policy.aging import BUCKETS, ZERO, aging_totals, bucket, days_overdue, is_open, local_today
from integration.policy.snapshot import Company

RECENT_DAYS = 30


class StatementError(ValueError):
    """Records that cannot make one customer's statement (another customer's invoice, a bad window)."""


@dataclass(frozen=True, slots=True)
class OpenLine:
    number: str
    issue_date: dt.date
    due_date: dt.date | None
    days_overdue: int
    bucket: str
    total: Money
    balance: Money


@dataclass(frozen=True, slots=True)
class ReceivedLine:
    """A payment or a credit note of the recent window; `reference` is the credit's number or the
    payment's id, as the books name them."""

    kind: str  # "payment" or "credit"
    date: dt.date
    reference: str
    amount: Money


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    currency: str
    open: Money
    buckets: tuple[tuple[str, Money], ...]  # every bucket of BUCKETS, in order
    received: Money  # payments and credits of the window
    credit_available: Money  # unapplied credit the customer holds (credit notes, unapplied payments)


@dataclass(frozen=True, slots=True)
class Statement:
    company: Company
    customer: Customer
    as_of: dt.date
    since: dt.date  # the first day of the recent window
    open_invoices: tuple[OpenLine, ...]
    received: tuple[ReceivedLine, ...]
    totals: tuple[CurrencyTotals, ...]  # sorted by currency

    @property
    def owes_anything(self) -> bool:
        return any(t.open.amount > 0 for t in self.totals)


def build_statement(
    company: Company,
    customer: Customer,
    invoices: Iterable[Invoice],
    payments: Iterable[Payment],
    credits: Iterable[Credit],
    now: dt.datetime,
    recent_days: int = RECENT_DAYS,
) -> Statement:
    if recent_days < 1:
        raise StatementError(f"recent_days must be at least 1, not {recent_days}")
    invoices, payments, credits = list(invoices), list(payments), list(credits)
    records: list[Invoice | Payment | Credit] = [*invoices, *payments, *credits]
    for record in records:
        if record.customer_id != customer.provider_id:
            raise StatementError(
                f"{type(record).__name__} {record.provider_id!r} belongs to customer {record.customer_id!r},"
                f" not {customer.provider_id!r}"
            )
    today = local_today(now, company.timezone)
    since = today - dt.timedelta(days=recent_days - 1)
    open_lines = tuple(
        OpenLine(i.number, i.issue_date, i.due_date, days, bucket(days), i.total, i.balance)
        for i in sorted((i for i in invoices if is_open(i)), key=lambda i: (i.due_date or i.issue_date, i.number))
        for days in (days_overdue(i, today),)
    )
    received = tuple(
        sorted(
            [
                ReceivedLine("payment", p.date, p.provider_id, p.amount)
                for p in payments
                if not p.deleted and since <= p.date <= today
            ]
            + [
                ReceivedLine("credit", c.date, c.number or c.provider_id, c.total)
                for c in credits
                if not c.deleted and since <= c.date <= today
            ],
            key=lambda line: (line.date, line.kind, line.reference),
        )
    )
    return Statement(
        company=company,
        customer=customer,
        as_of=today,
        since=since,
        open_invoices=open_lines,
        received=received,
        totals=_totals(invoices, received, _held(payments, credits), today),
    )


def _held(payments: list[Payment], credits: list[Credit]) -> list[Credit]:
    """The credit the customer holds: credit notes, and payments received but applied to nothing yet
    (QuickBooks' UnappliedAmt), which the policy also counts as credit (`cycle.gather.credits_of`)."""
    unapplied = (p.unapplied_credit() for p in payments)
    return [c for c in credits if not c.deleted] + [c for c in unapplied if c is not None]


def _totals(
    invoices: list[Invoice], received: tuple[ReceivedLine, ...], credits: list[Credit], today: dt.date
) -> tuple[CurrencyTotals, ...]:
    aged = aging_totals(invoices, today)
    currencies = {line.amount.currency for line in received} | {c.remaining.currency for c in credits}
    return tuple(
        CurrencyTotals(
            currency=currency,
            open=_summed((Money(amount, currency) for amount in buckets.values()), currency),
            buckets=tuple((name, Money(buckets[name], currency)) for name in BUCKETS),
            received=_summed((line.amount for line in received), currency),
            credit_available=_summed((c.remaining for c in credits), currency),
        )
        for currency in sorted(currencies | set(aged))
        for buckets in (aged.get(currency) or dict.fromkeys(BUCKETS, ZERO),)
    )


def _summed(amounts: Iterable[Money], currency: str) -> Money:
    return sum((m for m in amounts if m.currency == currency), Money.zero(currency))
