"""Per-client-IP rate limits on the endpoints anyone on the internet can hit unauthenticated.

Sign-in (`/connect/*`, `/launch/*`, the OAuth callbacks), the webhook receivers and the customer's
page (`/c/*`) do work on every request (a state, a token exchange, a signature check and a database
write), so a single address hammering them is answered with 429 and a Retry-After before any of
that work happens. A view may count by something else too (`refused`: the customer's page per link).

Counting is a fixed window per (group, client address): in this process by default, in Redis when
REDIS_URL is set so every web worker on every machine shares one count. The client address is
`request.remote_addr`; behind a proxy set ARPILOT_TRUSTED_PROXIES so it is the caller's, not the
proxy's (see `integration.web.__init__`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from redis import Redis, RedisError

from integration.web.common import page

log = logging.getLogger(__name__)

CONFIG_KEY = "ARPILOT_RATE_LIMITS"
EXTENSION = "arpilot_rate_limiter"


@dataclass(frozen=True)
class Limit:
    """At most `requests` per `window_seconds` from one client address."""

    requests: int
    window_seconds: int


@dataclass(frozen=True)
class LimitedGroup:
    name: str
    prefixes: tuple[str, ...]
    limit: Limit
    json: bool  # machine callers get a JSON error, people a page
    what: str = "sign-in attempts"  # what a person is told they made too many of


# A person signing in makes a handful of these requests; thirty a minute leaves room for retries.
# Intuit and Xero deliver webhooks from a few addresses for all their companies, hence the headroom.
# A customer's page (integration.web.customer_page) is opened from a link anyone may guess at: a
# customer reads it and posts a form or two, so sixty a minute from one address is plenty.
DEFAULT_GROUPS = (
    LimitedGroup("sign-in", ("/connect/", "/launch/"), Limit(30, 60), json=False),
    LimitedGroup("webhooks", ("/webhooks/",), Limit(600, 60), json=True),
    LimitedGroup("customer-page", ("/c/",), Limit(60, 60), json=False, what="requests"),
)


class Counter(Protocol):
    def hit(self, key: str, limit: Limit) -> float | None:
        """Count one request under `key`; None if allowed, else the seconds until it would be."""


class InProcessCounter:
    """Fixed windows kept in a dict, swept of ended windows at most once a `sweep_seconds`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sweep_seconds: float = 60) -> None:
        self._clock = clock
        self._sweep_seconds = sweep_seconds
        self._next_sweep = clock() + sweep_seconds
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, count)
        self._lock = threading.Lock()

    def hit(self, key: str, limit: Limit) -> float | None:
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                # Bounded memory under a flood from many addresses: ended windows never count again.
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
                self._next_sweep = now + self._sweep_seconds
            end, count = self._windows.get(key, (0.0, 0))
            if end <= now:
                end, count = (now // limit.window_seconds + 1) * limit.window_seconds, 0
            self._windows[key] = (end, count + 1)
        return None if count + 1 <= limit.requests else end - now


class RedisCounter:
    """The same fixed windows in Redis (INCR + EXPIRE), shared by every web process."""

    def __init__(
        self, redis_url: str, clock: Callable[[], float] = time.time, prefix: str = "arpilot:ratelimit"
    ) -> None:
        # Short timeouts: a Redis that hangs must not hold every sign-in and webhook with it.
        self._redis = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
        self._clock = clock
        self._prefix = prefix

    def hit(self, key: str, limit: Limit) -> float | None:
        now = self._clock()
        window = int(now // limit.window_seconds)
        name = f"{self._prefix}:{key}:{window}"
        try:
            with self._redis.pipeline() as pipe:
                pipe.incr(name)
                pipe.expire(name, limit.window_seconds + 1)
                count, _ = pipe.execute()
        except RedisError as exc:
            # Open, not shut: a Redis outage must not take sign-in and webhook delivery down with it.
            log.warning("rate limit not counted, Redis is unavailable: %s", exc)
            return None
        if count <= limit.requests:
            return None
        return (window + 1) * limit.window_seconds - now


def init_app(app: Flask, counter: Counter) -> None:
    """Limit the groups in app.config[ARPILOT_RATE_LIMITS] (default DEFAULT_GROUPS) with `counter`."""
    app.config.setdefault(CONFIG_KEY, DEFAULT_GROUPS)
    app.extensions[EXTENSION] = counter
    app.before_request(_limit)


def _limit() -> ResponseReturnValue | None:
    group = next((g for g in current_app.config[CONFIG_KEY] if request.path.startswith(g.prefixes)), None)
    if group is None:
        return None
    return refused(f"{group.name}:{request.remote_addr or 'unknown'}", group.limit, group.json, group.what)


def refused(key: str, limit: Limit, json: bool, what: str, who: str = "This address") -> ResponseReturnValue | None:
    """Count one request under `key`: None while within `limit`, else the 429 to answer with.
    Views that limit by something other than the address (a link's token) call it themselves."""
    counter: Counter = current_app.extensions[EXTENSION]
    wait = counter.hit(key, limit)
    if wait is None:
        return None
    retry_after = str(max(1, math.ceil(wait)))
    if json:
        response = jsonify(error="too many requests", retry_after_seconds=int(retry_after))
        response.status_code = 429
    else:
        response = current_app.make_response(
            page(
                "Too many attempts",
                f"{who} has made too many {what}. Please wait {retry_after} seconds and try again.",
                429,
            )
        )
    response.headers["Retry-After"] = retry_after
    return response
