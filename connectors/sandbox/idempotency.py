"""An idempotency store: the first response to a key is kept and replayed for every repeat.

`run_once` holds a per-key lock while the effect runs, so two concurrent requests with one key
still produce a single effect. A stored response may carry a replay window (Xero keeps keys for a
few minutes): after it, the key is free again and the effect runs anew.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str


class IdempotencyStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._responses: dict[str, tuple[StoredResponse, dt.datetime | None]] = {}  # key -> (response, replay until)
        self._key_locks: dict[str, threading.Lock] = {}

    def run_once(
        self,
        key: str,
        effect: Callable[[], StoredResponse],
        *,
        now: dt.datetime | None = None,
        window: dt.timedelta | None = None,
    ) -> tuple[StoredResponse, bool]:
        """(response, replayed): the stored response for `key`, or the effect's, now stored.
        With `now` and `window`, a stored response is replayed only until `window` after it was stored."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            stored = self._responses.get(key)
            if stored is not None and (stored[1] is None or now is None or now < stored[1]):
                return stored[0], True
            response = effect()
            self._responses[key] = (response, now + window if now is not None and window is not None else None)
            return response, False

    def __len__(self) -> int:
        return len(self._responses)

    def clear(self) -> None:
        with self._lock:
            self._responses.clear()
            self._key_locks.clear()
