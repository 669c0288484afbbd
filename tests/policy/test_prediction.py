"""A customer's own habit: when they will probably pay an invoice like this one."""

from __future__ import annotations

import datetime as dt

from integration.policy.prediction import MARGIN_DAYS, predict
from integration.policy.profiles import CustomerFacts
from tests.policy.builders import customer

MONTH_END_DAYS = 10


def facts(history: list[tuple[int, bool]]) -> CustomerFacts:
    """Paid invoices as (days late, fell due at a month's end), oldest first."""
    entry = CustomerFacts(customer())
    for day, (late, at_month_end) in enumerate(history):
        entry.late_days.append(late)
        entry.paid_history.append((day, late, at_month_end))
    return entry


def test_too_little_history_predicts_nothing() -> None:
    assert predict(facts([(3, False)] * 3), dt.date(2026, 3, 10), MONTH_END_DAYS) is None


def test_the_latest_comparable_payment_plus_a_margin_is_the_likely_day() -> None:
    prediction = predict(facts([(16, False), (21, False), (18, False), (17, False)]), dt.date(2026, 3, 10), 10)
    assert prediction is not None
    assert (prediction.opens_late, prediction.typical_late, prediction.likely_late) == (16, 17, 21 + MARGIN_DAYS)
    assert prediction.paid_around(dt.date(2026, 3, 10)) == dt.date(2026, 3, 27)
    assert not prediction.slipping


def test_a_month_end_closer_is_judged_by_their_month_end_invoices() -> None:
    # On time mid-month; due at a month's end, paid after their own close, about two weeks on.
    history = [(0, False), (-1, False), (1, False), (0, False), (14, True), (12, True)]
    mid = predict(facts(history), dt.date(2026, 3, 10), MONTH_END_DAYS)
    end = predict(facts(history), dt.date(2026, 3, 28), MONTH_END_DAYS)
    assert mid is not None and end is not None
    assert mid.likely_late == 1 + MARGIN_DAYS and end.likely_late == 14 + MARGIN_DAYS
    # Two month-end invoices paid 12 and 14 days late do not say they never pay sooner: they have.
    assert mid.opens_late == end.opens_late == -1


def test_latest_payments_beyond_their_usual_worst_mean_slipping() -> None:
    steady = [(5, False)] * 6
    assert not predict(facts(steady), dt.date(2026, 3, 10), MONTH_END_DAYS).slipping  # type: ignore[union-attr]
    slipping = steady + [(30, False), (35, False)]
    assert predict(facts(slipping), dt.date(2026, 3, 10), MONTH_END_DAYS).slipping  # type: ignore[union-attr]


def test_a_steady_customers_ordinary_spread_is_not_a_slip() -> None:
    # Pays 14 to 26 days late, evenly: three payments near the late end of that range in a row are
    # their habit, not a change of it; the same three a week beyond it are.
    steady = [(14, False), (17, False), (19, False), (15, False), (22, False), (18, False), (23, False)]
    usual_late_end = steady + [(24, False), (25, False), (23, False)]
    beyond = steady + [(30, False), (31, False), (29, False)]
    assert not predict(facts(usual_late_end), dt.date(2026, 3, 10), MONTH_END_DAYS).slipping  # type: ignore[union-attr]
    assert predict(facts(beyond), dt.date(2026, 3, 10), MONTH_END_DAYS).slipping  # type: ignore[union-attr]
