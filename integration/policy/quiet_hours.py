"""When customer-facing actions may go out: the send window on business days, local time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from integration.policy.rules import Schedule


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
