"""Client-side throttle that keeps arpilot under Xero's published limits.

Per tenant: 5 concurrent calls and 60 calls in any minute; per app across every tenant: 10,000 calls
a minute. One `XeroLimiter` is shared by every Xero connector in the process (`shared_limiter()`),
so the app-wide window is real within a process; across processes the server's 429 + Retry-After
(handled by the client) is the backstop. The clock is injectable so tests never sleep.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

WINDOW_SECONDS = 60.0


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


class _Window:
    """Timestamps of the calls made in the last minute."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.calls: collections.deque[float] = collections.deque()

    def wait_needed(self, now: float) -> float:
        while self.calls and self.calls[0] <= now - WINDOW_SECONDS:
            self.calls.popleft()
        if len(self.calls) < self.limit:
            return 0.0
        return self.calls[0] + WINDOW_SECONDS - now


class XeroLimiter:
    def __init__(
        self,
        *,
        per_tenant_minute: int = 60,
        per_tenant_concurrent: int = 5,
        app_minute: int = 10_000,
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self._per_tenant_minute = per_tenant_minute
        self._per_tenant_concurrent = per_tenant_concurrent
        self._app = _Window(app_minute)
        self._tenants: dict[str, _Window] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    @contextmanager
    def call(self, tenant_id: str) -> Iterator[None]:
        """Hold one of the tenant's concurrent slots and a place in both minute windows."""
        with self._lock:
            slots = self._slots.setdefault(tenant_id, threading.BoundedSemaphore(self._per_tenant_concurrent))
        with slots:
            self._take_window_place(tenant_id)
            yield

    def _take_window_place(self, tenant_id: str) -> None:
        while True:
            with self._lock:
                tenant = self._tenants.setdefault(tenant_id, _Window(self._per_tenant_minute))
                now = self.clock.monotonic()
                wait = max(tenant.wait_needed(now), self._app.wait_needed(now))
                if wait <= 0:
                    tenant.calls.append(now)
                    self._app.calls.append(now)
                    return
            self.clock.sleep(wait)


_shared: XeroLimiter | None = None
_shared_lock = threading.Lock()


def shared_limiter() -> XeroLimiter:
    """The process-wide limiter every connector uses unless given its own."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = XeroLimiter()
        return _shared
