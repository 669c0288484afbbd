"""Client-side throttle that keeps arpilot under Xero's published limits.

Per tenant: 5 concurrent calls, 60 calls in any minute and 5000 a day; per app across every tenant:
10,000 calls a minute (Xero's "OAuth 2.0 API limits" page). A tenant's minute is a sliding `Window` of its last
60 calls: a cycle may spend the minute's 60 calls as fast as the latency allows and then waits only
for the oldest to be a minute old (a bucket's steady 55 a minute after a burst of 5 made a small
cycle take several times what the limit allows). The app's minute is a `Rate` (a log of 10,000
calls would cost more than it saves); the day is a `Quota` counted per UTC day, the day the
provider counts. A wait this limiter will not sleep through (the day used up, or a Retry-After
pause longer than `max_wait`) raises RateLimited(daily=True) at once, so the cycle moves on.

The state lives in a `LimitStore` (connectors/ratelimit/): in this process by default, in Redis
when REDIS_URL is set (connectors/ratelimit/shared.py), so the limits hold across every worker.
The clock is injectable so tests never sleep.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from connectors.contract import RateLimited
from connectors.ratelimit import Charge, InProcessStore, LimitStore, Quota, Rate, Window

WINDOW_SECONDS = 60.0
# Xero counts a call when it arrives, a moment after the limiter counted it; a call that travelled
# slower than the one 60 calls later must still fall in an earlier minute at Xero.
TRAVEL_SLACK_SECONDS = 1.0
DAY_SECONDS = 86_400.0
APP_KEY = "xero:app"
# A minute bucket waits at most a minute; anything longer is a day limit or a long Retry-After.
MAX_WAIT_SECONDS = 120.0


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def now(self) -> dt.datetime:
        """The current UTC instant (timezone-aware)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class XeroLimiter:
    def __init__(
        self,
        *,
        per_tenant_minute: int = 60,
        per_tenant_concurrent: int = 5,
        per_tenant_day: int = 5000,
        app_minute: int = 10_000,
        clock: Clock | None = None,
        store: LimitStore | None = None,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.clock = clock or SystemClock()
        self._store = store or InProcessStore(lambda: self.clock.now().timestamp())
        self._per_tenant_concurrent = per_tenant_concurrent
        self._minute = Window("minute", per_tenant_minute, WINDOW_SECONDS + TRAVEL_SLACK_SECONDS)
        self._day = Quota("day", per_tenant_day, DAY_SECONDS)
        # The app bursts a hundredth of its minute.
        self._app = Rate("appminute", app_minute, WINDOW_SECONDS, burst=max(1, min(app_minute // 100, app_minute - 1)))
        self._max_wait = max_wait

    @staticmethod
    def _key(tenant_id: str) -> str:
        return f"xero:{tenant_id}"

    @contextmanager
    def call(self, tenant_id: str) -> Iterator[None]:
        """Hold one of the tenant's concurrent slots and a token from each of its limits and the app's."""
        with self._store.slot(self._key(tenant_id), self._per_tenant_concurrent):
            self._take(tenant_id)
            yield

    def _take(self, tenant_id: str) -> None:
        key = self._key(tenant_id)
        charges = [Charge(key, self._minute), Charge(key, self._day), Charge(APP_KEY, self._app)]
        while not (wait := self._store.take(charges)).taken:
            if wait.limit == self._day.name or wait.seconds > self._max_wait:
                raise RateLimited(
                    f"Xero's limits for this organisation hold calls for {wait.seconds:.0f}s "
                    f"({wait.limit}); retry then",
                    retry_after=wait.seconds,
                    daily=True,
                )
            self.clock.sleep(wait.seconds)

    def pause(self, tenant_id: str, seconds: float) -> None:
        """Hold every call for this tenant, in every process sharing the store (a 429's Retry-After)."""
        self._store.pause(self._key(tenant_id), seconds)


_shared: XeroLimiter | None = None
_shared_lock = threading.Lock()


def shared_limiter() -> XeroLimiter:
    """The process-wide limiter every connector uses unless given its own."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = XeroLimiter()
        return _shared
