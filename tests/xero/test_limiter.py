"""The client-side throttle: per-tenant minute, day and concurrency limits, the app-wide minute limit."""

from __future__ import annotations

import pytest

from connectors.contract import RateLimited
from connectors.xero.limiter import XeroLimiter
from tests.ratelimit.windows import assert_one_more_waits, most_in_any_window
from tests.xero.conftest import FakeClock


def calls(limiter: XeroLimiter, tenant: str, n: int) -> None:
    for _ in range(n):
        with limiter.call(tenant):
            pass


def test_a_tenant_never_has_more_than_60_calls_in_any_minute() -> None:
    clock = FakeClock()
    limiter = XeroLimiter(clock=clock)
    times = []
    for _ in range(200):
        with limiter.call("t1"):
            times.append(clock.t)
    assert times[:60] == [1000.0] * 60  # the whole minute at once (the concurrent slots pace it in practice)
    assert most_in_any_window(times, 60.0) <= 60
    assert most_in_any_window(times, 61.0) <= 60  # a second of slack for the calls' travel to Xero
    assert times[-1] - times[0] == pytest.approx(3 * 61.0)  # four windows' worth, no slower


def test_tenants_have_their_own_minute_windows() -> None:
    clock = FakeClock()
    limiter = XeroLimiter(clock=clock)
    calls(limiter, "t1", 5)
    calls(limiter, "t2", 5)
    assert clock.sleeps == []


def test_the_app_wide_window_spans_tenants() -> None:
    clock = FakeClock()
    limiter = XeroLimiter(per_tenant_minute=60, app_minute=3, clock=clock)
    calls(limiter, "t1", 1)
    calls(limiter, "t2", 1)
    assert clock.sleeps == [30.0]  # a burst of one, then 2 more a minute


def test_the_day_used_up_raises_at_once_with_the_wait_until_the_next_utc_day() -> None:
    clock = FakeClock()  # 2026-03-10 12:00 UTC
    limiter = XeroLimiter(per_tenant_day=3, clock=clock)
    calls(limiter, "t1", 3)
    with pytest.raises(RateLimited) as raised:
        calls(limiter, "t1", 1)
    assert raised.value.daily and raised.value.retry_after == pytest.approx(12 * 3600)
    calls(limiter, "t2", 1)  # another organisation has its own day
    clock.sleep(12 * 3600)
    calls(limiter, "t1", 3)


def test_a_long_retry_after_raises_a_short_one_is_waited() -> None:
    clock = FakeClock()
    limiter = XeroLimiter(clock=clock)
    limiter.pause("t1", 30)
    calls(limiter, "t1", 1)
    assert clock.sleeps == [30.0]
    limiter.pause("t1", 3600)
    with pytest.raises(RateLimited) as raised:
        calls(limiter, "t1", 1)
    assert raised.value.daily and raised.value.retry_after == pytest.approx(3600)


def test_a_tenant_gets_at_most_its_concurrent_slots() -> None:
    limiter = XeroLimiter(per_tenant_concurrent=2, clock=FakeClock())
    assert_one_more_waits(limiter.call, 2)
