"""An idempotency store: the first response to a key is kept and replayed for every repeat.

`run_once` holds a per-key lock while the effect runs, so two concurrent requests with one key
still produce a single effect.
"""

from __future__ import annotations

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
        self._responses: dict[str, StoredResponse] = {}
        self._key_locks: dict[str, threading.Lock] = {}

    def run_once(self, key: str, effect: Callable[[], StoredResponse]) -> tuple[StoredResponse, bool]:
        """(response, replayed): the stored response for `key`, or the effect's, now stored."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            stored = self._responses.get(key)
            if stored is not None:
                return stored, True
            response = effect()
            self._responses[key] = response
            return response, False

    def __len__(self) -> int:
        return len(self._responses)

    def clear(self) -> None:
        with self._lock:
            self._responses.clear()
            self._key_locks.clear()
