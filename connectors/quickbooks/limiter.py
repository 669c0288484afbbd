"""A client-side limiter per QuickBooks realm, so arpilot stays under Intuit's documented limits.

Intuit meters per realm: 500 requests a minute, 10 a second, 10 concurrent, and 40 batch requests a
minute (Intuit's "Rate limiting" and "Batch operations" pages for the Accounting API). Each
becomes a `Rate` (connectors/ratelimit/) whose bucket never lets a window hold more than the limit;
concurrency is a slot per realm, and after a 429 the whole realm pauses (every thread and, with the
Redis store, every worker). The store is in-process by default and shared through Redis when
REDIS_URL is set (connectors/ratelimit/shared.py). The clock and the sleep are injectable so tests
run on a fake clock and never sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from connectors.ratelimit import Charge, InProcessStore, LimitStore, Rate

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Limits:
    per_minute: int = 500
    per_second: int = 10
    concurrent: int = 10
    batch_per_minute: int = 40

    batch_items: int = 30  # the most items one batch carries; each counts against the minute limit

    def rates(self) -> tuple[Rate, Rate, Rate]:
        """(minute, second, batch). The minute bucket bursts a full batch or a second's worth; the
        second bucket spaces calls evenly, so no second ever holds more than its limit."""
        return (
            Rate("minute", self.per_minute, 60.0, burst=max(self.per_second, self.batch_items)),
            Rate("second", self.per_second, 1.0, burst=1),
            Rate("batch-minute", self.batch_per_minute, 60.0, burst=1),
        )


class RealmLimiter:
    """Rate, concurrency and pause-after-429 for one realm."""

    def __init__(
        self,
        limits: Limits = Limits(),
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        *,
        store: LimitStore | None = None,
        realm_id: str = "",
    ) -> None:
        self.limits = limits
        self._sleep = sleep
        self._store = store or InProcessStore(clock)
        self._key = f"quickbooks:{realm_id}"
        self._minute, self._second, self._batch = limits.rates()
        self.waited = 0.0  # total seconds this limiter made callers wait (for benches and tests)

    def pause(self, seconds: float) -> None:
        """Hold every request of this realm for `seconds` (Intuit asks for 60 s after a 429)."""
        self._store.pause(self._key, seconds)

    def _charges(self, batch_items: int) -> list[Charge]:
        # Intuit counts each item of a batch against the minute limit (the sandbox does the same).
        charges = [Charge(self._key, self._minute, max(1, batch_items)), Charge(self._key, self._second)]
        return charges + [Charge(self._key, self._batch)] if batch_items else charges

    def _acquire_rate(self, batch_items: int) -> None:
        charges = self._charges(batch_items)
        while not (wait := self._store.take(charges)).taken:
            self.waited += wait.seconds
            self._sleep(wait.seconds)

    @contextmanager
    def slot(self, batch_items: int = 0) -> Iterator[None]:
        """Wait for a concurrency slot and the tokens (a batch: one per item), then hold the slot
        for the request's duration."""
        with self._store.slot(self._key, self.limits.concurrent):
            self._acquire_rate(batch_items)
            yield


class LimiterRegistry:
    """One RealmLimiter per realm id, created on first use, all keeping their state in one store."""

    def __init__(
        self,
        limits: Limits = Limits(),
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        *,
        store: LimitStore | None = None,
    ) -> None:
        self._limits = limits
        self._sleep = sleep
        self._store = store or InProcessStore(clock)
        self._lock = threading.Lock()
        self._by_realm: dict[str, RealmLimiter] = {}

    def for_realm(self, realm_id: str) -> RealmLimiter:
        with self._lock:
            limiter = self._by_realm.get(realm_id)
            if limiter is None:
                limiter = self._by_realm[realm_id] = RealmLimiter(
                    self._limits, sleep=self._sleep, store=self._store, realm_id=realm_id
                )
            return limiter


# The process-wide registry: every connector for a realm in this process shares its buckets.
DEFAULT_LIMITERS = LimiterRegistry()
