"""Payment profiles: how each customer has paid over the history window, and their class.

`gather` walks the snapshot once and collects, per customer, the paid history and the open
invoices; `classify` turns those facts into a `PaymentProfile` with the thresholds from the rules.
Both are on decide's hot path, so they work on date ordinals and plain lists.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from connectors.contract import Customer, Invoice, InvoiceStatus
from integration.policy.aging import local_today
from integration.policy.pauses import PauseState, pause_state
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot

ZERO = Decimal(0)
_OPEN, _PAID = InvoiceStatus.OPEN, InvoiceStatus.PAID


class CustomerFacts:
    """What one pass over the snapshot learns about one customer (mutable while gathering).

    Open invoices are kept as two parallel lists, the invoices and their due-date ordinals, so
    that the hot path allocates nothing per invoice; pause states exist only for paused invoices."""

    __slots__ = ("customer", "late_days", "issue_days", "month_end_late", "open_count", "open", "due", "pauses",
                 "overdue", "oldest_overdue", "last_payment")

    def __init__(self, customer: Customer) -> None:
        self.customer = customer
        self.late_days: list[int] = []  # paid invoices: days from due date to full payment
        self.issue_days: list[int] = []  # paid invoices: days from issue date to full payment
        self.month_end_late = 0  # late payments of invoices due in the last days of a month
        self.open_count = 0  # open invoices with a balance
        self.open: list[Invoice] = []  # those of them the screen let through (all without one), in snapshot order
        self.due: list[int] = []  # ordinal of each open invoice's due date (issue date if none)
        # id() of an open invoice object -> its pause, for paused invoices only (the object, not the
        # provider id, so that two records with one id keep their own states, as they always did)
        self.pauses: dict[int, PauseState] = {}
        self.overdue: dict[str, Decimal] = {}  # currency -> past-due balance, paused invoices excluded
        self.oldest_overdue = 0  # days, paused invoices excluded
        self.last_payment: int | None = None  # ordinal


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
class Screen:
    """Lets gather leave out of `CustomerFacts.open` the invoices on which decide surely has
    nothing to do today, so that decide does not walk them a second time. `done` packs each
    invoice's last step as `day << bits | stage`; an invoice with a step done, not yet
    `next_at[stage]` days past due, and no payment since that step is left out. `next_at` must
    hold for the least grace any screened customer can get (decide passes grace 0 and names the
    customers whose override may give less in `unscreened`)."""

    done: Mapping[str, int]
    next_at: Sequence[float]
    bits: int
    unscreened: frozenset[str]


@dataclass(frozen=True, slots=True)
class Ledger:
    """The gathered facts plus what decide needs about payments."""

    today: dt.date
    facts: dict[str, CustomerFacts]
    last_applied: dict[str, int]  # invoice id -> ordinal of the latest payment applied to it


def gather(snapshot: Snapshot, rules: Rules, today: dt.date, screen: Screen | None = None) -> Ledger:
    today_ord = today.toordinal()
    window_start = today_ord - rules.profiles.history_days
    tolerance = rules.profiles.on_time_tolerance_days
    month_end = _MonthEnd(rules.mid_month.month_end_days)
    facts = {c.provider_id: CustomerFacts(c) for c in snapshot.customers}
    last_applied: dict[str, int] = {}
    first_applied = last_applied.setdefault
    customer_id: str | None = None
    entry: CustomerFacts | None = None
    for payment in snapshot.payments:
        if payment.deleted or not payment.amount.amount:
            continue  # a zero total applies credit (QuickBooks): no money came, so no payment date
        day = payment.date.toordinal()
        for application in payment.applied_to:
            if first_applied(application.invoice_id, day) < day:  # one lookup for a first payment
                last_applied[application.invoice_id] = day
        if payment.customer_id != customer_id:  # payments usually come grouped by customer too
            customer_id = payment.customer_id
            entry = facts.get(customer_id)
        if entry is not None and (entry.last_payment is None or entry.last_payment < day):
            entry.last_payment = day
    get_applied = last_applied.get
    pauses, pause_rules = snapshot.pauses, rules.pauses
    has_pauses = bool(pauses)
    screened = False
    if screen is not None:
        done_get, next_at, bits = screen.done.get, screen.next_at, screen.bits
        mask = (1 << bits) - 1
        # Invoices paid since their last step, found once from the (fewer) payments rather than
        # looked up for every open invoice; the ids both paid and stepped are found at C speed
        # (key views intersect), since most paid invoices have no step in the history.
        done = screen.done
        paid_since = {i for i in last_applied.keys() & done.keys() if last_applied[i] > done[i] >> bits}
    customer_id = None  # afresh: the invoices' loop looks customers up the same way
    for invoice in snapshot.invoices:
        # Invoices usually come grouped by customer: look the customer up only when it changes.
        if invoice.customer_id != customer_id:
            customer_id = invoice.customer_id
            entry = facts[customer_id]
            add_open, add_due, overdue = entry.open.append, entry.due.append, entry.overdue
            add_late, add_issue = entry.late_days.append, entry.issue_days.append
            screened = screen is not None and customer_id not in screen.unscreened
        status = invoice.status
        if status is _OPEN:
            balance = invoice.balance
            amount = balance.amount
            if amount > ZERO:
                due = (invoice.due_date or invoice.issue_date).toordinal()
                entry.open_count += 1
                state = None
                if has_pauses and invoice.provider_id in pauses:
                    state = pause_state(pauses[invoice.provider_id], invoice.total.amount - amount, today_ord, pause_rules)
                    entry.pauses[id(invoice)] = state
                if state is None or not state.active:
                    if due < today_ord:
                        currency = balance.currency
                        overdue[currency] = overdue[currency] + amount if currency in overdue else amount
                        if today_ord - due > entry.oldest_overdue:
                            entry.oldest_overdue = today_ord - due
                    if screened and (state is None or state.broken_on is None):
                        code = done_get(invoice.provider_id)
                        if code is not None and today_ord - due < next_at[code & mask] and (
                                not paid_since or invoice.provider_id not in paid_since):
                            continue  # nothing due since the last step, nothing paid since
                add_open(invoice)
                add_due(due)
                continue
        elif status is not _PAID:
            continue  # voided, deleted and draft invoices are neither history nor collectable
        # Paid (or open with nothing left): part of the payment history when paid inside the window.
        paid_on = get_applied(invoice.provider_id)
        if paid_on is None or paid_on < window_start or paid_on > today_ord:
            continue
        due_date = invoice.due_date or invoice.issue_date
        late = paid_on - due_date.toordinal()
        add_late(late)
        add_issue(paid_on - invoice.issue_date.toordinal())
        if late > tolerance and month_end[due_date]:
            entry.month_end_late += 1
    return Ledger(today, facts, last_applied)


class _MonthEnd(dict[dt.date, bool]):
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
        silent_days is None or silent_days >= thresholds.unresponsive_silence_days or paid < thresholds.min_paid_invoices
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
    clustered = entry.month_end_late >= mid.min_occurrences and 100 * entry.month_end_late >= mid.min_share_pct * late_count
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
