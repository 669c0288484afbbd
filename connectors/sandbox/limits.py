"""Rate limits (fixed windows on the sandbox clock) and a concurrency gate, keyed by any string."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from connectors.sandbox.clock import SandboxClock


@dataclass(frozen=True)
class Limit:
    name: str  # what a 429 names ("minute", "day", "batch-minute"...)
    maximum: int
    window: dt.timedelta


class WindowLimiter:
    """Counts requests per (key, limit) in fixed windows aligned to the epoch of the sandbox clock.

    A request that would pass a limit is refused and not counted, so a client that backs off
    gets through once the window turns.
    """

    def __init__(self, clock: SandboxClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # (key, limit) -> (window no, count)

    def hit(self, key: str, limits: Sequence[Limit], cost: int = 1) -> Limit | None:
        """Count `cost` requests for `key`; return the first limit that refuses them, or None."""
        seconds = self._clock.now().timestamp()
        with self._lock:
            pending = []
            for limit in limits:
                window_no = int(seconds // limit.window.total_seconds())
                current_no, count = self._counts.get((key, limit.name), (window_no, 0))
                if current_no != window_no:
                    count = 0
                if count + cost > limit.maximum:
                    return limit
                pending.append(((key, limit.name), (window_no, count + cost)))
            self._counts.update(pending)
            return None

    def remaining(self, key: str, limit: Limit) -> int:
        window_no = int(self._clock.now().timestamp() // limit.window.total_seconds())
        with self._lock:
            current_no, count = self._counts.get((key, limit.name), (window_no, 0))
        return limit.maximum - (count if current_no == window_no else 0)

    def retry_after(self, limit: Limit) -> int:
        """Whole seconds until `limit`'s current window turns (at least 1): the Retry-After value."""
        seconds = self._clock.now().timestamp()
        window = limit.window.total_seconds()
        return max(1, int(-(-(window - seconds % window) // 1)))

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class ConcurrencyGate:
    """At most N requests in flight per key; `enter` answers False instead of waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}

    def enter(self, key: str, maximum: int) -> bool:
        with self._lock:
            if self._in_flight.get(key, 0) >= maximum:
                return False
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] -= 1

    def in_flight(self, key: str) -> int:
        with self._lock:
            return self._in_flight.get(key, 0)

    @contextmanager
    def held(self, key: str, maximum: int) -> Iterator[bool]:
        entered = self.enter(key, maximum)
        try:
            yield entered
        finally:
            if entered:
                self.leave(key)
