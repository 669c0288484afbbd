"""The client-side throttle: per-tenant minute and concurrency limits, the app-wide minute limit."""

from __future__ import annotations

import threading
from contextlib import ExitStack

from connectors.xero.limiter import XeroLimiter
from tests.xero.conftest import FakeClock


def calls(limiter: XeroLimiter, tenant: str, n: int) -> None:
    for _ in range(n):
        with limiter.call(tenant):
            pass


def test_the_61st_call_in_a_minute_waits_for_the_window() -> None:
    clock = FakeClock()
    limiter = XeroLimiter(clock=clock)
    calls(limiter, "t1", 60)
    assert clock.sleeps == []
    clock.t += 10
    calls(limiter, "t1", 1)
    assert clock.sleeps == [50.0]


def test_tenants_have_their_own_minute_windows() -> None:
    clock = FakeClock()
    limiter = XeroLimiter(per_tenant_minute=2, clock=clock)
    calls(limiter, "t1", 2)
    calls(limiter, "t2", 2)
    assert clock.sleeps == []


def test_the_app_wide_window_spans_tenants() -> None:
    clock = FakeClock()
    limiter = XeroLimiter(per_tenant_minute=60, app_minute=3, clock=clock)
    calls(limiter, "t1", 2)
    calls(limiter, "t2", 2)
    assert clock.sleeps == [60.0]


def test_a_tenant_gets_at_most_its_concurrent_slots() -> None:
    limiter = XeroLimiter(per_tenant_concurrent=2, clock=FakeClock())
    entered = threading.Event()

    def third() -> None:
        with limiter.call("t1"):
            entered.set()

    with ExitStack() as stack:
        stack.enter_context(limiter.call("t1"))
        stack.enter_context(limiter.call("t1"))
        with limiter.call("t2"):  # another tenant is not held up
            pass
        worker = threading.Thread(target=third)
        worker.start()
        assert not entered.wait(0.2)
    worker.join(5)
    assert entered.is_set()
