"""The accounting systems' own reminder schedules, replayed on the same invoices as arpilot's backtest.

An owner weighing arpilot asks one question: does it annoy my good customers less than the
reminders QuickBooks or Xero would send anyway, without reaching my late payers later? So the
backtest replays two fixed schedules beside the policy:

- QuickBooks-like: an email per open invoice 1, 15 and 30 days after its due date (QuickBooks
  Online's automatic invoice reminders, three of them, days counted from the due date).
- Xero-like: 7, 14, 21, 30 and 45 days after the due date (Xero's invoice reminders as owners set
  them up from its suggested schedule).

Both send one email per invoice, to the invoice's billing address, on the exact day, whether or
not the customer pays like clockwork: no habits, no consolidation, no pauses. An invoice is open on
a day until the day its payments and credit allocations cover its total.

Figures per policy, comparable across the three:
- overdue reminders: invoice-steps sent after the due date (for arpilot, from reminder_1 on);
- false alarms: those whose invoice was paid in full within `false_alarm_days` anyway;
- emails: the messages sent (a built-in schedule's one per invoice-step; arpilot's reminders, one
  email per customer however many invoices it names, check-ins and courtesy notes included);
- calls and holds: the owner's call tasks and credit holds placed (the built-in schedules make none);
- reminders to settled invoices: invoice-steps sent to an invoice already paid, or whose open
  balance the customer's unallocated credit covered that day. A built-in schedule emails such an
  invoice (it knows nothing of credit); arpilot asks the owner to apply the credit instead;
- days to pay: the average days from due date to payment in full of the invoices paid in full in
  the period. It is observed in the books, not simulated, so it is the same for every policy;
- late nudges: late invoices (paid more than `LATE_AFTER_DAYS` days after due, or still unpaid
  that long after due at the end of the period) whose first overdue reminder or call came later
  than the QuickBooks-like schedule's first one, or never. Only invoices that schedule would
  have emailed within the period count, so every policy is measured on the same set; a disputed
  invoice does not (the owner's pause, not lateness, keeps arpilot quiet on it), nor one the
  customer's unallocated credit covers on that day (they owe nothing: arpilot asks the owner to
  apply the credit instead).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.sandbox.scenario import Scenario, ScenarioInvoice

LATE_AFTER_DAYS = 30


@dataclass(frozen=True)
class FixedSchedule:
    """A built-in schedule: one email per open invoice on each of these days after its due date."""

    name: str
    days_after_due: tuple[int, ...]


QUICKBOOKS_LIKE = FixedSchedule("quickbooks_like", (1, 15, 30))
XERO_LIKE = FixedSchedule("xero_like", (7, 14, 21, 30, 45))
BUILT_IN_SCHEDULES = (QUICKBOOKS_LIKE, XERO_LIKE)
# How the command and the backtest page name each policy of a report.
POLICY_TITLES = {
    "arpilot": "arpilot",
    QUICKBOOKS_LIKE.name: "QuickBooks-like (1/15/30)",
    XERO_LIKE.name: "Xero-like (7/14/21/30/45)",
}


@dataclass
class PolicyFigures:
    """One policy's overdue reminders over a period, and how they landed."""

    name: str
    false_alarm_days: int
    overdue_reminders: int = 0
    false_alarms: int = 0
    late_invoices: int = 0
    late_nudges: int = 0
    emails: int = 0
    calls: int = 0
    holds: int = 0
    settled_reminders: int = 0
    days_to_pay: float | None = None
    first_nudge: dict[str, dt.date] = field(default_factory=dict, repr=False)  # invoice id -> first overdue step

    @property
    def false_alarm_pct(self) -> float:
        return 100.0 * self.false_alarms / self.overdue_reminders if self.overdue_reminders else 0.0

    @property
    def late_nudge_pct(self) -> float:
        return 100.0 * self.late_nudges / self.late_invoices if self.late_invoices else 0.0

    def overdue_step(self, invoice_id: str, day: dt.date, paid_on: dt.date | None) -> None:
        """Count one overdue reminder of `invoice_id` sent on `day`."""
        self.overdue_reminders += 1
        if paid_on is not None and day <= paid_on <= day + dt.timedelta(days=self.false_alarm_days):
            self.false_alarms += 1
        self.nudged(invoice_id, day)

    def nudged(self, invoice_id: str, day: dt.date) -> None:
        """The invoice heard from us on `day` (an overdue email or a call)."""
        if invoice_id not in self.first_nudge:
            self.first_nudge[invoice_id] = day

    def as_dict(self) -> dict[str, object]:
        return {
            "overdue_reminders": self.overdue_reminders,
            "false_alarms": self.false_alarms,
            "false_alarm_days": self.false_alarm_days,
            "false_alarm_pct": round(self.false_alarm_pct, 1),
            "late_invoices": self.late_invoices,
            "late_nudges": self.late_nudges,
            "late_nudge_pct": round(self.late_nudge_pct, 1),
            "emails": self.emails,
            "calls": self.calls,
            "holds": self.holds,
            "reminders_to_paid_or_credited": self.settled_reminders,
            "days_to_pay": None if self.days_to_pay is None else round(self.days_to_pay, 1),
        }


def _emailed_invoices(history: Scenario) -> Iterator[ScenarioInvoice]:
    """The invoices a built-in schedule reminds: owed, with a due date and a billing address."""
    for invoice in history.invoices:
        if invoice.owed and invoice.due_date is not None and history.bill_to(history.customer(invoice.customer_id)):
            yield invoice


def fixed_schedule(
    history: Scenario,
    schedule: FixedSchedule,
    start: dt.date,
    end: dt.date,
    paid_on: Mapping[str, dt.date],
    false_alarm_days: int,
) -> PolicyFigures:
    """Replay `schedule` on every invoice it would email between `start` and `end` (inclusive)."""
    figures = PolicyFigures(schedule.name, false_alarm_days)
    credit = _CreditBook(history)
    for invoice in _emailed_invoices(history):
        assert invoice.due_date is not None
        paid = paid_on.get(invoice.id)
        for offset in schedule.days_after_due:
            day = invoice.due_date + dt.timedelta(days=offset)
            if start <= day <= end and day >= invoice.issue_date and (paid is None or paid > day):
                figures.overdue_step(invoice.id, day, paid)
                figures.emails += 1
                if credit.covers(invoice, day):
                    figures.settled_reminders += 1
    return figures


def days_to_pay(history: Scenario, paid_on: Mapping[str, dt.date], start: dt.date, end: dt.date) -> float | None:
    """The average days from due date to payment in full (negative when early) of the invoices paid
    in full between `start` and `end`, as the books show them; None when none was."""
    waits = [
        (paid - invoice.due_date).days
        for invoice in history.invoices
        if invoice.owed
        and invoice.due_date is not None
        and (paid := paid_on.get(invoice.id)) is not None
        and start <= paid <= end
    ]
    return sum(waits) / len(waits) if waits else None


class _CreditBook:
    """What each invoice still owed on a day, and whether its customer's unallocated credit covered it."""

    def __init__(self, history: Scenario) -> None:
        self.history = history
        self.settled: dict[str, list[tuple[dt.date, Decimal]]] = {}
        for payment in history.payments:
            for invoice_id, amount in payment.applied:
                self.settled.setdefault(invoice_id, []).append((payment.date, amount))
        self.holders: set[tuple[str, str]] = set()
        for credit in history.credits:
            self.holders.add((credit.customer_id, credit.currency))
            for allocation in credit.allocations:
                self.settled.setdefault(allocation.invoice_id, []).append((allocation.date, allocation.amount))

    def covers(self, invoice: ScenarioInvoice, day: dt.date) -> bool:
        if (invoice.customer_id, invoice.currency) not in self.holders:
            return False  # the common case, without summing anything
        owed = invoice.total - sum((a for d, a in self.settled.get(invoice.id, ()) if d <= day), Decimal(0))
        return _unallocated_credit(self.history, invoice.customer_id, invoice.currency, day) >= owed


def late_invoices(
    history: Scenario, start: dt.date, end: dt.date, paid_on: Mapping[str, dt.date]
) -> dict[str, dt.date]:
    """Late invoices the QuickBooks-like schedule would have nudged within the period, each with
    the day of that first nudge (the day after its due date)."""
    first = min(QUICKBOOKS_LIKE.days_after_due)
    found: dict[str, dt.date] = {}
    for invoice in _emailed_invoices(history):
        assert invoice.due_date is not None
        nudge = invoice.due_date + dt.timedelta(days=first)
        late_from = invoice.due_date + dt.timedelta(days=LATE_AFTER_DAYS)
        paid = paid_on.get(invoice.id)
        if invoice.disputed or not start <= nudge <= end or (paid is not None and paid <= nudge):
            continue
        if _unallocated_credit(history, invoice.customer_id, invoice.currency, nudge) >= invoice.total:
            continue
        if (paid is not None and paid > late_from) or (paid is None and late_from < end):
            found[invoice.id] = nudge
    return found


def count_late_nudges(figures: PolicyFigures, late: Mapping[str, dt.date]) -> None:
    """How many late invoices this policy reached later than the QuickBooks-like schedule, or never."""
    figures.late_invoices = len(late)
    figures.late_nudges = sum(
        1 for invoice_id, first in late.items() if figures.first_nudge.get(invoice_id, dt.date.max) > first
    )


def _unallocated_credit(history: Scenario, customer_id: str, currency: str, day: dt.date) -> Decimal:
    """What the customer held in credit notes, overpayments and prepayments not yet allocated on `day`."""
    return sum(
        (
            credit.amount - sum((a.amount for a in credit.allocations if a.date <= day), Decimal(0))
            for credit in history.credits
            if credit.customer_id == customer_id and credit.currency == currency and credit.date <= day
        ),
        Decimal(0),
    )
