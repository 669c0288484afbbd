"""Aging and payment profiles: buckets, summaries per currency, and every customer class."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import InvoiceStatus
from integration.policy.aging import aging, bucket, local_today
from integration.policy.profiles import payment_profiles
from integration.policy.rules import Rules
from integration.policy.snapshot import Company, Snapshot
from tests.policy.builders import NOW, customer, history_of, invoice

COMPANY = Company("Harbor & Pine", "America/Denver", "USD")


@pytest.mark.parametrize(
    ("days", "name"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (400, "90+"),
    ],
)
def test_buckets(days: int, name: str) -> None:
    assert bucket(days) == name


def test_today_is_the_company_date_not_utc() -> None:
    late_evening = dt.datetime(2026, 6, 11, 3, 0, tzinfo=dt.UTC)  # 21:00 on the 10th in Denver
    assert local_today(late_evening, "America/Denver") == dt.date(2026, 6, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        local_today(dt.datetime(2026, 6, 10), "UTC")


def test_aging_sums_open_balances_per_bucket_and_customer_skipping_paid_and_voided() -> None:
    snap = Snapshot(
        COMPANY,
        (customer("c1"), customer("c2", name="Birch")),
        (
            invoice("inv-1", 10, balance="40.00"),
            invoice("inv-2", 45),
            invoice("inv-3", 95, cid="c2"),
            invoice("inv-4", 20, status=InvoiceStatus.VOIDED),
            invoice("inv-5", 20, balance="0.00", status=InvoiceStatus.PAID),
            invoice("inv-6", -3),
        ),
    )
    result = aging(snap, NOW)
    assert result.company["USD"] == {
        "current": Decimal("100.00"),
        "1-30": Decimal("40.00"),
        "31-60": Decimal("100.00"),
        "61-90": Decimal(0),
        "90+": Decimal("100.00"),
    }
    assert result.by_customer["c2"]["USD"]["90+"] == Decimal("100.00")
    assert result.by_customer["c1"]["USD"]["90+"] == Decimal(0)


def _profile(late: list[int], *open_invoices, rules: Rules = Rules.default()):  # type: ignore[no-untyped-def]
    invoices, payments = history_of(late)
    snap = Snapshot(COMPANY, (customer(),), (*invoices, *open_invoices), tuple(payments))
    return payment_profiles(snap, rules, NOW)["c1"]


CLASSES = [
    ("reliable", [-3, -2, 0, 1, -5, 0, 2, -1], ()),
    ("good_but_slipping", [-3, -2, 0, 15, -5, 18, 2, 20], ()),
    ("good_but_slipping", [-3, -2, 0, 1, -5, 0, 2, -1], (invoice("inv-9", 35),)),  # reliable, slipping now
    ("slow_but_steady", [15, 20, 18, 22, 25, 19], ()),
    ("habitually_late", [30, 45, 60, 38, 70, 52], ()),
    ("unresponsive", [80], (invoice("inv-9", 120),)),
    ("new", [0], ()),
    ("new", [], (invoice("inv-9", 5),)),
]


@pytest.mark.parametrize(
    ("expected", "late", "open_invoices"), CLASSES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CLASSES)]
)
def test_classification(expected: str, late: list[int], open_invoices: tuple) -> None:  # type: ignore[type-arg]
    assert _profile(late, *open_invoices).classification == expected


def test_profile_figures() -> None:
    profile = _profile([0, 10, 20, 30, 40], invoice("inv-9", 12, balance="60.00"))
    assert profile.paid_invoices == 5
    assert profile.median_days_late == 20
    assert profile.p80_days_late == 30
    assert profile.median_days_from_issue == 50
    assert profile.late_payments == 4
    assert profile.on_time_pct == 20
    assert profile.overdue_balance == {"USD": Decimal("60.00")}
    assert profile.oldest_overdue_days == 12


def test_thresholds_are_rules_the_owner_can_change() -> None:
    late = [15, 20, 18, 22, 25, 19]
    strict = Rules.from_json({"profiles": {"slow_max_p80_days_late": 10}})
    assert _profile(late).classification == "slow_but_steady"
    assert _profile(late, rules=strict).classification == "habitually_late"


def test_month_end_clustering() -> None:
    invoices, payments = history_of([12, 14, 11, 0, -2], due_day=28)
    snap = Snapshot(COMPANY, (customer(),), tuple(invoices), tuple(payments))
    profile = payment_profiles(snap, Rules.default(), NOW)["c1"]
    assert profile.month_end_late_payments == 3
    assert profile.month_end_clustered


def test_demo_company_habits_classify_sensibly() -> None:
    from connectors.sandbox.scenario import generate_demo_company
    from integration.policy.scenario_snapshot import snapshot_from_scenario

    scenario = generate_demo_company()
    snap = snapshot_from_scenario(scenario, scenario.as_of)
    profiles = payment_profiles(snap, Rules.default(), dt.datetime(2026, 11, 23, 16, tzinfo=dt.UTC))
    expected = {
        "reliable": {"reliable", "good_but_slipping"},
        "month_end_slipper": {"good_but_slipping", "reliable"},
        "slow_but_steady": {"slow_but_steady"},
        "habitually_late": {"habitually_late"},
        "unresponsive": {"unresponsive", "habitually_late"},
        "new": {"new", "reliable"},
        "in_credit": {"new"},  # the demo's customer in credit (issue #13): one open invoice, no paid history
    }
    for c in scenario.customers:
        assert profiles[c.id].classification in expected[c.habit], (c.id, c.habit, profiles[c.id])
    by_habit = {h: [profiles[c.id] for c in scenario.customers if c.habit == h] for h in expected}
    assert sum(p.classification == "reliable" for p in by_habit["reliable"]) >= 10
    assert sum(p.month_end_clustered for p in by_habit["month_end_slipper"]) >= 3
    assert sum(p.classification == "unresponsive" for p in by_habit["unresponsive"]) >= 2
    assert sum(p.classification == "new" for p in by_habit["new"]) >= 3
