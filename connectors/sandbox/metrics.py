"""Request counts per endpoint and the 429s served, for tests and benchmarks to read back."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()

    def request(self, endpoint: str) -> None:
        with self._lock:
            self._requests[endpoint] += 1

    def throttled(self, limit_name: str) -> None:
        with self._lock:
            self._throttled[limit_name] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "total": sum(self._requests.values()),
                "throttled": dict(self._throttled),
                "throttled_total": sum(self._throttled.values()),
                "faults_injected": dict(self._faults),
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._throttled.clear()
            self._faults.clear()
