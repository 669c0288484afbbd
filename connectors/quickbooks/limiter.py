"""A client-side limiter per QuickBooks realm, so arpilot stays under Intuit's documented limits.

Intuit meters per realm: 500 requests a minute, 10 a second, 10 concurrent, and 40 batch requests a
minute (accounting-apis.md 1.6, 1.13). Token buckets keep the rates, a semaphore the concurrency,
and after a 429 the whole realm pauses (every thread, not only the one that was throttled). The
clock and the sleep are injectable so tests run on a fake clock and never sleep. Buckets live in
this process; sharing them across workers (Redis) comes with the scale-out work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Limits:
    per_minute: int = 500
    per_second: int = 10
    concurrent: int = 10
    batch_per_minute: int = 40


class TokenBucket:
    """`capacity` tokens, refilled continuously at `rate` per second. Not thread-safe on its own."""

    def __init__(self, capacity: float, rate: float, clock: Clock) -> None:
        if capacity <= 0 or rate <= 0:
            raise ValueError("a token bucket needs a positive capacity and rate")
        self.capacity = capacity
        self.rate = rate
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill()
        # The epsilon keeps float rounding (0.9999999…) from asking for waits too small to pass.
        return 0.0 if self._tokens >= 1 - 1e-9 else (1 - self._tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self._tokens -= 1


class RealmLimiter:
    """Rate, concurrency and pause-after-429 for one realm."""

    def __init__(self, limits: Limits = Limits(), clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.concurrent)
        self._minute = TokenBucket(limits.per_minute, limits.per_minute / 60, clock)
        self._second = TokenBucket(limits.per_second, limits.per_second, clock)
        self._batch = TokenBucket(limits.batch_per_minute, limits.batch_per_minute / 60, clock)
        self._paused_until = 0.0
        self.waited = 0.0  # total seconds this limiter made callers wait (for benches and tests)

    def pause(self, seconds: float) -> None:
        """Hold every request of this realm for `seconds` (Intuit asks for 60 s after a 429)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _wait_needed(self, batch: bool) -> float:
        buckets = [self._minute, self._second] + ([self._batch] if batch else [])
        pause = max(0.0, self._paused_until - self._clock())
        return max([pause] + [bucket.wait_time() for bucket in buckets])

    def _acquire_rate(self, batch: bool) -> None:
        while True:
            with self._lock:
                wait = self._wait_needed(batch)
                if wait <= 0:
                    self._minute.take()
                    self._second.take()
                    if batch:
                        self._batch.take()
                    return
            self.waited += wait
            self._sleep(wait)

    @contextmanager
    def slot(self, batch: bool = False) -> Iterator[None]:
        """Wait for a concurrency slot and a token, then hold the slot for the request's duration."""
        with self._slots:
            self._acquire_rate(batch)
            yield


class LimiterRegistry:
    """One RealmLimiter per realm id, created on first use."""

    def __init__(self, limits: Limits = Limits(), clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._by_realm: dict[str, RealmLimiter] = {}

    def for_realm(self, realm_id: str) -> RealmLimiter:
        with self._lock:
            limiter = self._by_realm.get(realm_id)
            if limiter is None:
                limiter = self._by_realm[realm_id] = RealmLimiter(self._limits, self._clock, self._sleep)
            return limiter


# The process-wide registry: every connector for a realm in this process shares its buckets.
DEFAULT_LIMITERS = LimiterRegistry()
