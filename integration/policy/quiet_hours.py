"""When customer-facing actions may go out: the send window on business days, local time.

The one place quiet hours are decided: decide calls it when planning and the executor again when
an email goes out. The window is the customer's local time when the schedule says so
(`timezone_source` "customer") and their zone is known (the owner's word, else their billing
address), else the company's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from integration.policy.rules import Schedule


def send_zone(
    schedule: Schedule, company_zone: str, *, owner_zone: str | None = None, address_zone: str | None = None
) -> str:
    """The zone whose clock the send window is read on, for one customer."""
    if schedule.timezone_source == "customer":
        return owner_zone or address_zone or company_zone
    return company_zone


def next_send_time(now: dt.datetime, timezone: str, schedule: Schedule) -> dt.datetime | None:
    """None when `now` is inside the send window; otherwise the UTC instant the window next opens."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    day = local.date()
    if _sending_day(day, schedule) and schedule.send_from_hour <= local.hour < schedule.send_until_hour:
        return None
    if local.hour >= schedule.send_from_hour:
        day += dt.timedelta(days=1)
    for _ in range(366):  # a schedule always names a business day, so a year always holds one
        if _sending_day(day, schedule):
            opens = dt.datetime(day.year, day.month, day.day, schedule.send_from_hour, tzinfo=zone)
            return opens.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
    raise ValueError("the schedule leaves no day to send on within a year (every business day a holiday)")


def _sending_day(day: dt.date, schedule: Schedule) -> bool:
    return day.isoweekday() in schedule.business_days and day not in schedule.holidays
