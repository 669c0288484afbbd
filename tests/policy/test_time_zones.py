"""Each company judged on its own clock, across daylight-saving changes; each customer's quiet
hours on their own clock where their address says where they are."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from connectors.regions import customer_zones
from integration.policy.actions import ActionKind
from integration.policy.aging import days_overdue, local_today
from integration.policy.decide import decide
from integration.policy.quiet_hours import next_send_time, send_zone
from integration.policy.rules import Rules
from integration.policy.snapshot import Company, CustomerOverride, Snapshot
from tests.policy.builders import customer, invoice

RULES = Rules.default()  # send 08:00-18:00, Monday to Friday, on the customer's clock when known


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def facing(snapshot: Snapshot, now: dt.datetime) -> list:  # type: ignore[type-arg]
    actions = decide(snapshot, RULES, now)
    found = [a for a in actions if a.kind in (ActionKind.SEND_REMINDER, ActionKind.RESEND_INVOICE)]
    assert found, actions
    return found


def company_snapshot(zone: str, now: dt.datetime, *customers, zones=None) -> Snapshot:  # type: ignore[no-untyped-def]
    today = local_today(now, zone)
    people = customers or (customer(),)
    return Snapshot(
        Company("Co", zone, "USD"),
        tuple(people),
        tuple(invoice(f"inv-{c.provider_id}", 5, cid=c.provider_id, today=today) for c in people),
        customer_zones=zones if zones is not None else customer_zones(people),
    )


def test_the_issue_case_a_thursday_afternoon_in_denver_sends_at_once() -> None:
    now = utc(2026, 12, 3, 22, 19)  # Thursday 15:19 in Denver, 22:19 UTC
    assert all(a.not_before is None for a in facing(company_snapshot("America/Denver", now), now))
    # Judged in UTC (the old behaviour) it waited for 08:00 UTC: 01:00 in Denver.
    assert all(a.not_before == utc(2026, 12, 4, 8, 0) for a in facing(company_snapshot("UTC", now), now))


@pytest.mark.parametrize(
    ("zone", "now", "deferred_to"),
    [
        # Denver: DST ends Sunday 1 November 2026. 07:30 local is quiet on both sides; 08:00 local moves in UTC.
        ("America/Denver", utc(2026, 10, 30, 13, 30), utc(2026, 10, 30, 14, 0)),  # Fri 07:30 MDT -> 08:00 MDT
        ("America/Denver", utc(2026, 11, 2, 14, 30), utc(2026, 11, 2, 15, 0)),  # Mon 07:30 MST -> 08:00 MST
        ("America/Denver", utc(2026, 10, 31, 14, 30), utc(2026, 11, 2, 15, 0)),  # Saturday -> Monday, across the change
        # Auckland: DST ends Sunday 5 April 2026 (+13 -> +12).
        ("Pacific/Auckland", utc(2026, 4, 2, 18, 30), utc(2026, 4, 2, 19, 0)),  # Fri 07:30 NZDT -> 08:00 NZDT
        ("Pacific/Auckland", utc(2026, 4, 5, 19, 30), utc(2026, 4, 5, 20, 0)),  # Mon 07:30 NZST -> 08:00 NZST
        ("Pacific/Auckland", utc(2026, 4, 2, 21, 0), None),  # Fri 10:00 NZDT: Thursday in UTC, but Friday there
        # London: DST starts Sunday 29 March 2026 (+0 -> +1).
        ("Europe/London", utc(2026, 3, 27, 7, 30), utc(2026, 3, 27, 8, 0)),  # Fri 07:30 GMT -> 08:00 GMT
        ("Europe/London", utc(2026, 3, 30, 7, 30), None),  # Mon 08:30 BST: inside, though 07:30 UTC
        ("Europe/London", utc(2026, 3, 30, 17, 30), utc(2026, 3, 31, 7, 0)),  # Mon 18:30 BST -> Tue 08:00 BST
    ],
)
def test_quiet_hours_follow_each_company_across_daylight_saving(
    zone: str, now: dt.datetime, deferred_to: dt.datetime | None
) -> None:
    assert {a.not_before for a in facing(company_snapshot(zone, now), now)} == {deferred_to}


@pytest.mark.parametrize(
    ("zone", "local_day", "late"),
    [
        ("Pacific/Auckland", dt.date(2026, 4, 2), 1),  # 12:30 UTC on 1 April is 01:30 on 2 April in Auckland
        ("Europe/London", dt.date(2026, 4, 1), 0),
        ("America/Denver", dt.date(2026, 4, 1), 0),  # 06:30 in Denver
    ],
)
def test_days_overdue_turn_at_the_companys_midnight(zone: str, local_day: dt.date, late: int) -> None:
    now = utc(2026, 4, 1, 12, 30)
    today = local_today(now, zone)
    assert today == local_day
    assert days_overdue(invoice("inv-1", 0, today=dt.date(2026, 4, 1)), today) == late


def test_a_customer_whose_address_says_where_they_are_hears_from_us_in_their_own_day() -> None:
    now = utc(2026, 6, 10, 12, 30)  # Wednesday 06:30 in Denver, 08:30 in New York, 05:30 in Los Angeles
    denver = customer("c-denver", email="ap@denver.example")
    new_york = dataclasses.replace(customer("c-ny", email="ap@ny.example"), country="USA", region="NY")
    los_angeles = dataclasses.replace(
        customer("c-la", email="ap@la.example"), country="United States", region="California"
    )
    snapshot = company_snapshot("America/Denver", now, denver, new_york, los_angeles)
    by_customer = {a.customer_id: a.not_before for a in facing(snapshot, now)}
    assert by_customer == {
        "c-denver": utc(2026, 6, 10, 14, 0),  # no address: the company's 08:00
        "c-ny": None,  # 08:30 on their clock
        "c-la": utc(2026, 6, 10, 15, 0),  # 08:00 in Los Angeles
    }


def test_the_owners_word_beats_the_address_and_the_company_schedule_beats_both() -> None:
    schedule = RULES.schedule
    assert (
        send_zone(schedule, "America/Denver", owner_zone="Asia/Tokyo", address_zone="America/New_York") == "Asia/Tokyo"
    )
    assert send_zone(schedule, "America/Denver", address_zone="America/New_York") == "America/New_York"
    assert send_zone(schedule, "America/Denver") == "America/Denver"
    company_clock = dataclasses.replace(schedule, timezone_source="company")
    assert (
        send_zone(company_clock, "America/Denver", owner_zone="Asia/Tokyo", address_zone="Europe/London")
        == "America/Denver"
    )
    now = utc(2026, 6, 10, 12, 30)
    ny = dataclasses.replace(customer(), country="US", region="NY")
    overrides = {"c1": CustomerOverride("c1", timezone="America/Los_Angeles")}
    snapshot = dataclasses.replace(company_snapshot("America/Denver", now, ny), overrides=overrides)
    assert {a.not_before for a in facing(snapshot, now)} == {next_send_time(now, "America/Los_Angeles", schedule)}


def test_an_unknown_customer_zone_is_refused_by_the_snapshot() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        company_snapshot("America/Denver", utc(2026, 6, 10, 16), zones={"c1": "Mars/Olympus"})
