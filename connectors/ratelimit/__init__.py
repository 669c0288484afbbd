"""Rate limits as data, and the store that keeps their state: in this process, or in Redis for all of them.

A provider's limiter (connectors/quickbooks/limiter.py, connectors/xero/limiter.py) says which limits
apply to a call and sleeps the waits; a `LimitStore` holds the state and answers, atomically for
every limit of the call, "take now" or "wait this long". `InProcessStore` serves one process;
`connectors.ratelimit.redis_store.RedisStore` serves every worker on every machine (REDIS_URL), so the
documented limits hold however many run. Both pass the same contract tests (tests/ratelimit/).

A `Rate` is a token bucket sized so that no window of its length ever holds more than `maximum`
calls: it holds `burst` tokens and refills `maximum - burst` per window. A classic bucket (capacity
= maximum, refilled maximum per window) lets a full bucket plus a window's refill through, twice the
limit, and the provider answers 429. A `Quota` counts calls in fixed periods aligned to the Unix
epoch, as a provider counts its day (a UTC day for 86,400 s). A `Window` keeps the instants of the
last `maximum` calls, so a company may spend a whole window's calls at once and then waits only
for the oldest to leave the window: a short cycle runs at the latency's pace, a long one at the
documented rate, where a bucket would hold both to its refill rate after its burst.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

Now = Callable[[], float]  # seconds since the Unix epoch (quota periods are aligned to it)

# A caller that slept exactly the wait on a clock that keeps microseconds (datetime) finds its token
# a hair short; a thousandth of a token is let through. The overdraft can never add up to a whole
# call, so no window holds more than its maximum.
EPSILON = 1e-3


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `maximum` calls in any `window` seconds, at most `burst` of them back to back."""

    name: str
    maximum: int
    window: float
    burst: int

    def __post_init__(self) -> None:
        if self.window <= 0 or not 1 <= self.burst < self.maximum:
            raise ValueError(
                f"rate {self.name!r}: need a positive window and 1 <= burst < maximum, "
                f"not maximum={self.maximum}, window={self.window}, burst={self.burst}"
            )

    @property
    def refill_per_second(self) -> float:
        return (self.maximum - self.burst) / self.window


@dataclass(frozen=True, slots=True)
class Quota:
    """At most `maximum` calls per `period` seconds, the periods aligned to the Unix epoch."""

    name: str
    maximum: int
    period: float

    def __post_init__(self) -> None:
        if self.period <= 0 or self.maximum < 1:
            raise ValueError(f"quota {self.name!r}: need a positive period and maximum")


@dataclass(frozen=True, slots=True)
class Window:
    """At most `maximum` calls in any `window` seconds (sliding), kept as the last calls' instants."""

    name: str
    maximum: int
    window: float

    def __post_init__(self) -> None:
        if self.window <= 0 or self.maximum < 1:
            raise ValueError(f"window {self.name!r}: need a positive window and maximum")


Limit = Rate | Quota | Window


@dataclass(frozen=True, slots=True)
class Charge:
    """`cost` calls against `limit`, counted under `key` (a realm, a tenant, the app)."""

    key: str
    limit: Limit
    cost: int = 1

    def __post_init__(self) -> None:
        # A cost no bucket can ever hold would wait forever: refuse it up front.
        most = self.limit.burst if isinstance(self.limit, Rate) else self.limit.maximum
        if not 1 <= self.cost <= most:
            raise ValueError(f"a cost of {self.cost} can never pass {self.limit.name!r} (at most {most} at once)")


PAUSED = "paused"  # the limit name a wait reports when a pause (Retry-After) holds the key


@dataclass(frozen=True, slots=True)
class Wait:
    """What a take answered: 0 seconds (taken) or how long until it can be, and which limit said so."""

    seconds: float
    limit: str = ""

    @property
    def taken(self) -> bool:
        return self.seconds <= 0


class LimitStore(Protocol):
    def take(self, charges: Sequence[Charge]) -> Wait:
        """Take every charge if all of them fit now; otherwise take nothing and say how long to wait."""
        ...

    def pause(self, key: str, seconds: float) -> None:
        """Refuse every take that charges `key` for `seconds` (a 429's Retry-After); never shortens a pause."""
        ...

    def slot(self, key: str, maximum: int) -> AbstractContextManager[None]:
        """Hold one of `maximum` concurrent slots of `key` for the duration of a request."""
        ...


def rate_wait(tokens: float, rate: Rate, cost: int) -> float:
    return 0.0 if tokens >= cost - EPSILON else (cost - tokens) / rate.refill_per_second


def quota_period(now: float, quota: Quota) -> int:
    return math.floor(now / quota.period)


def quota_wait(count: int, now: float, quota: Quota, cost: int) -> float:
    """0 when `cost` more fits this period, else the seconds until the next period starts."""
    return 0.0 if count + cost <= quota.maximum else (quota_period(now, quota) + 1) * quota.period - now


def window_wait(recent: Sequence[float], now: float, window: Window, cost: int) -> float:
    """`recent`: the instants of the calls still inside the window, oldest first. 0 when `cost`
    more fit; else the seconds until enough of the oldest have left the window."""
    leaving = len(recent) + cost - window.maximum
    return 0.0 if leaving <= 0 else recent[leaving - 1] + window.window - now


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class InProcessStore:
    """A LimitStore for one process; thread-safe. `now` is injectable so tests run on a fake clock."""

    def __init__(self, now: Now = time.time) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # -> (period, count)
        self._logs: dict[tuple[str, str], list[float]] = {}  # -> instants inside the window, oldest first
        self._paused_until: dict[str, float] = {}
        self._slots: dict[str, threading.Semaphore] = {}

    def take(self, charges: Sequence[Charge]) -> Wait:
        with self._lock:
            now = self._now()
            waits = [
                Wait(until - now, PAUSED)
                for key in {charge.key for charge in charges}
                if (until := self._paused_until.get(key, 0.0)) > now
            ]
            for charge in charges:
                limit = charge.limit
                if isinstance(limit, Rate):
                    bucket = self._refilled(charge.key, limit, now)
                    waits.append(Wait(rate_wait(bucket.tokens, limit, charge.cost), limit.name))
                elif isinstance(limit, Window):
                    waits.append(
                        Wait(window_wait(self._recent(charge.key, limit, now), now, limit, charge.cost), limit.name)
                    )
                else:
                    waits.append(
                        Wait(quota_wait(self._count(charge.key, limit, now), now, limit, charge.cost), limit.name)
                    )
            longest = max(waits, key=lambda wait: wait.seconds, default=Wait(0.0))
            if not longest.taken:
                return longest
            for charge in charges:
                limit = charge.limit
                if isinstance(limit, Rate):
                    self._buckets[(charge.key, limit.name)].tokens -= charge.cost
                elif isinstance(limit, Window):
                    self._logs[(charge.key, limit.name)].extend([now] * charge.cost)
                else:
                    count = self._count(charge.key, limit, now) + charge.cost
                    self._counts[(charge.key, limit.name)] = (quota_period(now, limit), count)
            return Wait(0.0)

    def _refilled(self, key: str, rate: Rate, now: float) -> _Bucket:
        bucket = self._buckets.setdefault((key, rate.name), _Bucket(float(rate.burst), now))
        # max(0, ...): a wall clock stepped backwards must not drain the bucket.
        bucket.tokens = min(rate.burst, bucket.tokens + max(0.0, now - bucket.stamp) * rate.refill_per_second)
        bucket.stamp = now
        return bucket

    def _recent(self, key: str, window: Window, now: float) -> list[float]:
        log = self._logs.setdefault((key, window.name), [])
        log[:] = sorted(at for at in log if at > now - window.window)
        return log

    def _count(self, key: str, quota: Quota, now: float) -> int:
        period, count = self._counts.get((key, quota.name), (quota_period(now, quota), 0))
        return count if period == quota_period(now, quota) else 0

    def pause(self, key: str, seconds: float) -> None:
        with self._lock:
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), self._now() + seconds)

    @contextmanager
    def slot(self, key: str, maximum: int) -> Iterator[None]:
        with self._lock:
            semaphore = self._slots.setdefault(key, threading.Semaphore(maximum))
        with semaphore:
            yield
