"""The sandbox clock: real time plus a settable offset, so tests can jump a day or a month ahead.

Every time a sandbox shows (token expiry, MetaData, CDC windows, rate-limit windows) comes from
one of these, never from `datetime.now()` directly.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SandboxClock:
    """A clock that ticks with real time from a movable origin; `freeze()` stops it."""

    def __init__(self, now: dt.datetime | None = None, *, source: Callable[[], dt.datetime] = _utcnow) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._offset = dt.timedelta(0)
        self._frozen_at: dt.datetime | None = None
        if now is not None:
            self.set(now)

    def now(self) -> dt.datetime:
        """The sandbox's current instant, timezone-aware UTC."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return self._source() + self._offset

    def set(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the sandbox clock needs an aware datetime (with a UTC offset)")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = instant.astimezone(dt.UTC)
            else:
                self._offset = instant - self._source()

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += delta
            else:
                self._offset += delta
        return self.now()

    def freeze(self) -> None:
        now = self.now()
        with self._lock:
            self._frozen_at = now

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - self._source()
                self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None
