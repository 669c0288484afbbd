"""The dashboard's figures: aging per currency, the month-end trend, and the chart geometry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import Invoice, InvoiceStatus, Money, Payment, PaymentApplication
from integration.owner.dashboard_figures import (
    TrendPoint,
    aging_of,
    applied,
    bars,
    billed,
    line_points,
    month_ends,
    polyline,
    trend,
    trend_of,
)
from integration.policy.aging import aging_totals

UPDATED = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def invoice(
    provider_id: str,
    issued: str,
    due: str | None,
    total: str,
    balance: str,
    *,
    currency: str = "USD",
    status: InvoiceStatus = InvoiceStatus.OPEN,
    updated: dt.datetime = UPDATED,
) -> Invoice:
    return Invoice(
        provider_id,
        f"INV-{provider_id}",
        "c1",
        dt.date.fromisoformat(issued),
        dt.date.fromisoformat(due) if due else None,
        Money(Decimal(total), currency),
        Money(Decimal(balance), currency),
        status,
        updated,
    )


def payment(day: str, *applied: tuple[str, str], currency: str = "USD", deleted: bool = False) -> Payment:
    amount = sum((Decimal(a) for _, a in applied), Decimal(0))
    return Payment(
        f"p-{day}",
        "c1",
        dt.date.fromisoformat(day),
        Money(amount, currency),
        tuple(PaymentApplication(i, Money(Decimal(a), currency)) for i, a in applied),
        UPDATED,
        deleted,
    )


def test_aging_totals_sum_open_balances_per_currency_and_bucket() -> None:
    today = dt.date(2026, 11, 23)
    totals = aging_totals(
        [
            invoice("1", "2026-11-01", "2026-12-01", "100", "100"),  # current
            invoice("2", "2026-10-01", "2026-11-01", "200", "150"),  # 22 days: 1-30
            invoice("3", "2026-07-01", "2026-08-01", "300", "300"),  # 114 days: 90+
            invoice("4", "2026-07-01", "2026-08-01", "300", "0", status=InvoiceStatus.PAID),
            invoice("5", "2026-09-01", "2026-09-30", "80", "80", currency="EUR"),  # 54 days: 31-60
        ],
        today,
    )
    assert list(totals) == ["EUR", "USD"]
    assert totals["USD"] == {"current": Decimal(100), "1-30": Decimal(150), "31-60": 0, "61-90": 0, "90+": Decimal(300)}
    assert totals["EUR"]["31-60"] == Decimal(80) and sum(totals["EUR"].values()) == Decimal(80)


def test_month_ends_are_the_last_twelve_then_today() -> None:
    ends = month_ends(dt.date(2026, 3, 15))
    assert ends[0] == dt.date(2025, 3, 31) and ends[-2] == dt.date(2026, 2, 28) and ends[-1] == dt.date(2026, 3, 15)
    assert len(ends) == 13 and ends == sorted(ends)
    assert month_ends(dt.date(2024, 3, 1), 1) == [dt.date(2024, 2, 29), dt.date(2024, 3, 1)]
    with pytest.raises(ValueError, match="at least 1"):
        month_ends(dt.date(2026, 3, 1), 0)


def test_trend_rebuilds_past_balances_from_the_payment_history() -> None:
    invoices = [
        invoice("1", "2026-08-10", "2026-09-09", "1000", "0", status=InvoiceStatus.PAID),
        invoice("2", "2026-09-15", "2026-10-15", "500", "200"),
        invoice("3", "2026-10-20", "2026-11-19", "300", "300", status=InvoiceStatus.VOIDED),
    ]
    payments = [payment("2026-10-05", ("1", "600")), payment("2026-11-02", ("1", "400"), ("2", "300"))]
    days = [dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 23)]
    series = trend([(invoices, payments)], days)
    assert list(series) == ["USD"]
    usd = series["USD"]
    # Aug 31: invoice 1 owed in full, not yet due; sales 1000 in the window.
    assert usd[0] == TrendPoint(days[0], Decimal(1000), Decimal(0), 90)
    # Sep 30: 1 overdue (due Sep 9) 1000 + 2 current 500; sales 1500 -> 1500/1500*90.
    assert usd[1] == TrendPoint(days[1], Decimal(1500), Decimal(1000), 90)
    # Oct 31: 1 has 400 left, 2 is overdue with 500; the void never counts.
    assert usd[2] == TrendPoint(days[2], Decimal(900), Decimal(900), 54)
    # Today: only invoice 2's 200 is open and overdue; sales in the window: invoices 1 (Aug 10 is
    # 105 days back, outside) and 2.
    assert usd[3] == TrendPoint(days[3], Decimal(200), Decimal(200), 36)


def test_a_settlement_without_a_payment_is_dated_on_the_invoices_last_change() -> None:
    credited = invoice(
        "1",
        "2026-09-01",
        "2026-09-30",
        "400",
        "0",
        status=InvoiceStatus.PAID,
        updated=dt.datetime(2026, 10, 15, 9, 0, tzinfo=dt.UTC),
    )
    series = trend(
        [([credited], [payment("2026-10-01", ("1", "100"), deleted=True)])],
        [dt.date(2026, 10, 14), dt.date(2026, 10, 15)],
    )
    assert [p.receivable for p in series["USD"]] == [Decimal(400), Decimal(0)]


def test_trend_keeps_currencies_apart_and_has_no_dso_without_sales() -> None:
    invoices = [
        invoice("1", "2026-01-05", "2026-02-04", "70", "70", currency="EUR"),
        invoice("2", "2026-11-01", "2026-12-01", "10", "10"),
    ]
    series = trend([(invoices, [])], [dt.date(2026, 10, 31), dt.date(2026, 11, 23)])
    assert list(series) == ["EUR", "USD"]
    assert series["EUR"][1] == TrendPoint(dt.date(2026, 11, 23), Decimal(70), Decimal(70), None)
    assert series["USD"][0] == TrendPoint(dt.date(2026, 10, 31), Decimal(0), Decimal(0), None)


def test_bars_scale_to_the_largest_value() -> None:
    drawn = bars({"current": Decimal(50), "1-30": Decimal(100), "90+": Decimal(0)}, width=300, height=100, gap=10)
    assert [(b.label, b.x, b.width) for b in drawn] == [("current", 5, 90), ("1-30", 105, 90), ("90+", 205, 90)]
    assert [(b.y, b.height) for b in drawn] == [(50, 50), (0, 100), (100, 0)]
    assert all(b.height == 0 for b in bars({"a": Decimal(0)}, width=10, height=10))
    assert bars({}, width=10, height=10) == []


def test_line_points_leave_gaps_for_unknown_values() -> None:
    points = line_points([Decimal(10), None, 20, Decimal(5)], width=300, height=100)
    assert points == [(0, 50), None, (200, 0), (300, 75)]
    assert polyline(points) == ["0,50", "200,0 300,75"]
    assert line_points([None], width=10, height=10) == [None] and polyline([None]) == []
    assert line_points([Decimal(0), Decimal(0)], width=10, height=10) == [(0, 10), (10, 10)]
    assert line_points([Decimal(5)] * 2, width=10, height=10, top=Decimal(20)) == [(0, 7.5), (10, 7.5)]


def test_the_figures_over_plain_tuples_are_those_over_records() -> None:
    """The dashboard reads `Billed` and `Applied` tuples from the database's columns; they must give
    exactly the figures `trend` and `aging_totals` give over the connector's records."""
    from bench.dashboard_figures import TODAY, build

    invoices, payments = build(3_000, seed=11)
    invoices.append(invoice("draft", "2026-10-01", None, "50.00", "50.00", status=InvoiceStatus.DRAFT))
    days = month_ends(TODAY)
    owed = [billed(i) for i in invoices if i.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID)]
    assert trend_of([(owed, applied(payments))], days) == trend([(invoices, payments)], days)
    assert aging_of(owed, TODAY) == aging_totals(invoices, TODAY)
