"""Fault injection: "the next N requests to paths matching P fail with K".

Kinds: `status` (answer with an HTTP status, e.g. a 503 burst), `timeout` (do the work, then sleep
`seconds`, past the client's timeout, before answering), `close` (drop the connection without an answer) and
`malformed` (HTTP 200 with a truncated JSON body).
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("status", "timeout", "close", "malformed")


class FaultRuleError(ValueError):
    """A fault rule that cannot be applied; the message names the bad field."""


@dataclass
class FaultRule:
    path: str  # regular expression searched in the request path
    kind: str = "status"
    count: int = 1
    status: int = 503
    seconds: float = 0.0
    method: str | None = None
    body: str = ""
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultRuleError(f"kind must be one of {', '.join(KINDS)}")
        if not isinstance(self.count, int) or self.count < 1:
            raise FaultRuleError("count must be a whole number of at least 1")
        if not 100 <= int(self.status) <= 599:
            raise FaultRuleError("status must be an HTTP status code")
        if self.seconds < 0:
            raise FaultRuleError("seconds must not be negative")
        try:
            self._pattern = re.compile(self.path)
        except re.error as exc:
            raise FaultRuleError(f"path is not a regular expression: {exc}") from exc

    @classmethod
    def from_json(cls, data: Any) -> FaultRule:
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            raise FaultRuleError("a fault rule is an object with at least a string `path`")
        known = {"path", "kind", "count", "status", "seconds", "method", "body"}
        unknown = set(data) - known
        if unknown:
            raise FaultRuleError(f"unknown fault rule fields: {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise FaultRuleError(str(exc)) from exc

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and bool(self._pattern.search(path))

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching this request, with one of its uses consumed."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.count -= 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
