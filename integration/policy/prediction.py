"""When a customer will probably pay an open invoice, from their own history.

The prediction is the customer's lateness on comparable invoices: those that fell due at a month's
end when this one does (month-end closers pay then), the others when it does not; all of them when
too few are comparable. `typical_late` is their median; `likely_late` their latest so far plus a
margin (a few paid invoices understate the spread); `opens_late` the earliest they have paid any
invoice, comparable or not (a few comparable ones would overstate it). A customer is slipping when
the median of their latest payments is later than nine in ten of their earlier ones by more than
SLIPPING_DAYS: then nothing waits for the habit, since the habit is changing. (Without that margin
a steady customer's ordinary spread, a few late-end payments in a row, reads as a slip.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from integration.policy.profiles import CustomerFacts

MIN_HISTORY = 4  # paid invoices before a habit is trusted
MIN_COMPARABLE = 2  # month-end (or not) invoices enough to judge this one by
MARGIN_DAYS = 3  # past their latest payment so far
RECENT = 3  # the latest payments that show a trend
SLIPPING_DAYS = 5  # later than usual by more than this: slipping


@dataclass(frozen=True, slots=True)
class Prediction:
    typical_late: int  # days after the due date: the median of comparable invoices
    likely_late: int  # ... the latest comparable payment so far, plus MARGIN_DAYS
    opens_late: int  # the earliest payment so far, of any invoice
    basis: int  # how many paid invoices it rests on
    slipping: bool

    def paid_around(self, due: dt.date) -> dt.date:
        return due + dt.timedelta(days=self.typical_late)


def _nearest_rank(values: list[int], pct: int) -> int:
    return values[max(-(-len(values) * pct // 100), 1) - 1]


class Habit:
    """A customer's paid history, read once per decide; the prediction for each kind of due date
    (mid-month, month-end) is worked out the first time an invoice of that kind asks."""

    __slots__ = ("_paid", "_slipping", "_predictions", "_earliest")

    def __init__(self, paid: list[tuple[int, int, bool]]) -> None:
        self._paid = paid  # (day paid, days late, due at a month's end), the latest payment last
        history = [late for _, late, _ in paid]
        self._earliest = min(history)
        recent, earlier = sorted(history[-RECENT:]), sorted(history[:-RECENT])
        self._slipping = (
            len(earlier) >= MIN_HISTORY and _nearest_rank(recent, 50) > _nearest_rank(earlier, 90) + SLIPPING_DAYS
        )
        self._predictions: dict[bool, Prediction] = {}

    def for_due(self, due: dt.date, month_end_days: int) -> Prediction:
        return self.for_kind((due + dt.timedelta(days=month_end_days)).month != due.month)

    def for_kind(self, at_month_end: bool) -> Prediction:
        """The prediction for an invoice due at a month's end, or not."""
        found = self._predictions.get(at_month_end)
        if found is None:
            comparable = [late for _, late, month_end in self._paid if month_end == at_month_end]
            if len(comparable) < MIN_COMPARABLE:
                comparable = [late for _, late, _ in self._paid]
            comparable.sort()
            found = self._predictions[at_month_end] = Prediction(
                _nearest_rank(comparable, 50),
                comparable[-1] + MARGIN_DAYS,
                self._earliest,
                len(comparable),
                self._slipping,
            )
        return found


class Span(NamedTuple):
    """The soonest a customer has paid and the furthest any prediction of theirs reaches (their
    latest plus the margin), over every paid invoice: known without working out their habit, which
    decide asks of every customer and few need more of."""

    opens_late: int
    latest_likely: int


def span_of(facts: CustomerFacts) -> Span | None:
    """None with too little history."""
    if len(facts.paid_history) < MIN_HISTORY:
        return None
    return Span(min(facts.late_days), max(facts.late_days) + MARGIN_DAYS)


def habit_of(facts: CustomerFacts) -> Habit | None:
    """None for a customer with too little history: the ladder as it stands."""
    if len(facts.paid_history) < MIN_HISTORY:
        return None
    return Habit(sorted(facts.paid_history))


def predict(facts: CustomerFacts, due: dt.date, month_end_days: int) -> Prediction | None:
    """When the customer will probably pay an invoice due on `due`; None with too little history."""
    habit = habit_of(facts)
    return habit.for_due(due, month_end_days) if habit is not None else None
