"""Payment profiles: how each customer has paid over the history window, and their class.

`gather` walks the snapshot once and collects, per customer, the paid history and the open
invoices; `classify` turns those facts into a `PaymentProfile` with the thresholds from the rules.
Both are on decide's hot path, so they work on date ordinals and allocate per open invoice only
for the invoices decide will walk again.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from connectors.contract import Customer, Invoice, InvoiceStatus
from integration.policy.account_plans import covered_pauses, standings
from integration.policy.aging import local_today
from integration.policy.ladder import Screen
from integration.policy.pauses import NOT_PAUSED, PauseState, pause_state
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot

ZERO = Decimal(0)
# An enum member read through its class costs an attribute lookup; gather compares every invoice's status.
OPEN, PAID = InvoiceStatus.OPEN, InvoiceStatus.PAID


class OpenInvoice(NamedTuple):
    """An open invoice with a balance, as decide walks it: its due date (the issue date if it has
    none) and its pause state (NOT_PAUSED when the owner set no pause). Each record keeps its own
    state, so two records with one provider id keep their own."""

    invoice: Invoice
    due: int  # ordinal
    pause: PauseState


@dataclass(slots=True, eq=False)
class CustomerFacts:
    """What one pass over the snapshot learns about one customer (mutable while gathering)."""

    customer: Customer
    late_days: list[int] = field(default_factory=list)  # paid invoices: days from due date to full payment
    # ... each as (day paid, days late, whether it fell due at a month's end), for the prediction
    paid_history: list[tuple[int, int, bool]] = field(default_factory=list)
    issue_days: list[int] = field(default_factory=list)  # paid invoices: days from issue date to full payment
    month_end_late: int = 0  # late payments of invoices due in the last days of a month
    open_count: int = 0  # open invoices with a balance
    open: list[OpenInvoice] = field(
        default_factory=list
    )  # those of them the screen let through (all without one), in snapshot order
    early: list[Invoice] = field(default_factory=list)  # ... those it set apart: see ladder.Screen.early_from
    overdue: dict[str, Decimal] = field(default_factory=dict)  # currency -> past-due balance, paused invoices excluded
    oldest_overdue: int = 0  # days, paused invoices excluded
    last_payment: int | None = None  # ordinal


@dataclass(frozen=True, slots=True)
class PaymentProfile:
    customer_id: str
    classification: str
    paid_invoices: int
    median_days_from_issue: int | None
    p80_days_from_issue: int | None
    median_days_late: int | None  # from the due date; negative means early
    p80_days_late: int | None
    on_time_pct: int | None
    late_payments: int
    month_end_late_payments: int
    month_end_clustered: bool
    overdue_balance: Mapping[str, Decimal]
    oldest_overdue_days: int
    last_payment: dt.date | None


def _percentile(values: list[int], pct: int) -> int | None:
    """Nearest-rank percentile of an already sorted list."""
    if not values:
        return None
    rank = -(-len(values) * pct // 100)  # ceiling
    return values[max(rank, 1) - 1]


@dataclass(frozen=True, slots=True)
class Ledger:
    """The gathered facts plus what decide needs about payments."""

    today: dt.date
    facts: dict[str, CustomerFacts]
    last_applied: dict[str, int]  # invoice id -> ordinal of the latest payment applied to it


def gather(snapshot: Snapshot, rules: Rules, today: dt.date, screen: Screen | None = None) -> Ledger:
    """One pass over the payments and one over the invoices. Every open invoice counts towards
    its customer's open and overdue figures; those the `screen` says wait are not kept in `open`."""
    today_ord = today.toordinal()
    window_start = today_ord - rules.profiles.history_days
    tolerance = rules.profiles.on_time_tolerance_days
    month_end = MonthEnd(rules.mid_month.month_end_days)
    pauses, pause_rules = snapshot.pauses, rules.pauses
    any_paused = bool(pauses)
    # An account plan's pause covers several invoices; worked out once, and only when one exists.
    planned = covered_pauses(standings(snapshot, today_ord, rules)) if snapshot.account_plans else None
    facts = {c.provider_id: CustomerFacts(c) for c in snapshot.customers}
    last_applied = _payments(snapshot, facts)
    if screen is not None:
        screen = screen.with_payments(last_applied)
        done, next_at, early_from, paid_since = screen.done, screen.next_at, screen.early_from, screen.paid_since
    screened = False
    customer_id: str | None = None
    for invoice in snapshot.invoices:
        # Invoices usually come grouped by customer: look the customer up only when it changes.
        if invoice.customer_id != customer_id:
            customer_id = invoice.customer_id
            entry = facts[customer_id]
            overdue = entry.overdue
            screened = screen is not None and customer_id not in screen.unscreened
        status = invoice.status
        balance = invoice.balance
        amount = balance.amount
        if status is OPEN and amount > ZERO:
            due = (invoice.due_date or invoice.issue_date).toordinal()
            entry.open_count += 1
            pause = None  # most invoices have none: no state to read
            if any_paused and invoice.provider_id in pauses:
                pause = pause_state(pauses[invoice.provider_id], invoice.total.amount - amount, today_ord, pause_rules)
            if planned and invoice.provider_id in planned and (pause is None or not pause.active):
                pause = planned[invoice.provider_id]  # the invoice's own dispute or promise comes first
            if pause is None or not pause.active:
                age = today_ord - due  # days past due
                if age > 0:
                    currency = balance.currency
                    overdue[currency] = overdue[currency] + amount if currency in overdue else amount
                    if age > entry.oldest_overdue:  # (not max(): a call costs more, per overdue invoice)
                        entry.oldest_overdue = age
                if screened and (pause is None or pause.broken_on is None):  # the screen (ladder.Screen)
                    last = done.get(invoice.provider_id)
                    if last is not None and age < next_at[last.stage] and invoice.provider_id not in paid_since:
                        if age >= early_from[last.stage]:
                            entry.early.append(invoice)
                        continue  # nothing due since the last step, nothing paid since
            entry.open.append(OpenInvoice(invoice, due, pause or NOT_PAUSED))
        elif status is OPEN or status is PAID:
            # Paid (or open with nothing left): part of the payment history when paid inside the window.
            paid_on = last_applied.get(invoice.provider_id)
            if paid_on is None or paid_on < window_start or paid_on > today_ord:
                continue
            due_date = invoice.due_date or invoice.issue_date
            late = paid_on - due_date.toordinal()
            entry.late_days.append(late)
            entry.issue_days.append(paid_on - invoice.issue_date.toordinal())
            at_month_end = month_end[due_date]
            entry.paid_history.append((paid_on, late, at_month_end))
            if late > tolerance and at_month_end:
                entry.month_end_late += 1
        # Voided, deleted and draft invoices are neither history nor collectable.
    return Ledger(today, facts, last_applied)


def _payments(snapshot: Snapshot, facts: Mapping[str, CustomerFacts]) -> dict[str, int]:
    """Invoice id -> ordinal of the latest payment applied to it; sets each customer's last payment."""
    last_applied: dict[str, int] = {}
    customer_id: str | None = None
    entry: CustomerFacts | None = None
    for payment in snapshot.payments:
        if payment.deleted or not payment.amount.amount:
            continue  # a zero total applies credit (QuickBooks): no money came, so no payment date
        day = payment.date.toordinal()
        for application in payment.applied_to:
            if (
                last_applied.setdefault(application.invoice_id, day) < day
            ):  # one lookup for a first payment, the usual case
                last_applied[application.invoice_id] = day
        if payment.customer_id != customer_id:  # payments usually come grouped by customer too
            customer_id = payment.customer_id
            entry = facts.get(customer_id)
        if entry is not None and (entry.last_payment is None or entry.last_payment < day):
            entry.last_payment = day
    return last_applied


class MonthEnd(dict[dt.date, bool]):
    """`month_end[day]`: whether a date falls in the last `days` days of its month, remembered
    per date (a book has a few hundred distinct due dates, so a lookup beats date arithmetic per
    invoice; a dict subscript, worked out in `__missing__` the first time, beats a method call)."""

    def __init__(self, days: int) -> None:
        super().__init__()
        self.step = dt.timedelta(days=days)

    def __missing__(self, day: dt.date) -> bool:
        found = self[day] = (day + self.step).month != day.month
        return found


def classify(entry: CustomerFacts, rules: Rules, today: dt.date) -> PaymentProfile:
    thresholds = rules.profiles
    late = sorted(entry.late_days)
    from_issue = sorted(entry.issue_days)
    paid = len(late)
    late_count = paid - bisect_right(late, thresholds.on_time_tolerance_days)  # late is sorted
    on_time_pct = (100 * (paid - late_count)) // paid if paid else None
    median, p80 = _percentile(late, 50), _percentile(late, 80)
    silent_days = today.toordinal() - entry.last_payment if entry.last_payment is not None else None
    # Long overdue and either silent for long or barely ever paying: not "new", unresponsive.
    if entry.oldest_overdue >= thresholds.unresponsive_overdue_days and (
        silent_days is None
        or silent_days >= thresholds.unresponsive_silence_days
        or paid < thresholds.min_paid_invoices
    ):
        name = "unresponsive"
    elif paid < thresholds.min_paid_invoices:
        name = "new"
    elif on_time_pct >= thresholds.reliable_min_on_time_pct and p80 <= thresholds.reliable_max_p80_days_late:  # type: ignore[operator]
        name = "good_but_slipping" if entry.oldest_overdue >= thresholds.slipping_overdue_days else "reliable"
    elif median <= thresholds.good_max_median_days_late and on_time_pct >= thresholds.good_min_on_time_pct:  # type: ignore[operator]
        name = "good_but_slipping"
    elif p80 <= thresholds.slow_max_p80_days_late:  # type: ignore[operator]
        name = "slow_but_steady"
    else:
        name = "habitually_late"
    mid = rules.mid_month
    clustered = (
        entry.month_end_late >= mid.min_occurrences and 100 * entry.month_end_late >= mid.min_share_pct * late_count
    )
    return PaymentProfile(
        customer_id=entry.customer.provider_id,
        classification=name,
        paid_invoices=paid,
        median_days_from_issue=_percentile(from_issue, 50),
        p80_days_from_issue=_percentile(from_issue, 80),
        median_days_late=median,
        p80_days_late=p80,
        on_time_pct=on_time_pct,
        late_payments=late_count,
        month_end_late_payments=entry.month_end_late,
        month_end_clustered=clustered,
        overdue_balance=dict(entry.overdue),
        oldest_overdue_days=entry.oldest_overdue,
        last_payment=dt.date.fromordinal(entry.last_payment) if entry.last_payment is not None else None,
    )


def payment_profiles(snapshot: Snapshot, rules: Rules, now: dt.datetime) -> dict[str, PaymentProfile]:
    """Every customer's profile as of `now` (company time zone), by customer id."""
    today = local_today(now, snapshot.company.timezone)
    ledger = gather(snapshot, rules, today)
    return {customer_id: classify(entry, rules, today) for customer_id, entry in sorted(ledger.facts.items())}
