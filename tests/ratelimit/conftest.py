"""Both LimitStores behind one fixture, on a fake clock, so one set of contract tests holds for both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from redis import Redis

from connectors.ratelimit import InProcessStore, LimitStore
from connectors.ratelimit.redis_store import RedisStore
from tests.quickbooks.helpers import FakeClock

REDIS_URL = "redis://127.0.0.1:6379/0"
NOON = 1_773_144_000.0


@pytest.fixture
def redis_prefix() -> Iterator[tuple[Redis, str]]:
    """A Redis connection and a key prefix of this test's own, deleted afterwards."""
    redis = Redis.from_url(REDIS_URL)
    redis.ping()  # an unreachable server fails these tests, never skips them
    prefix = f"arpilot-test-limits:{uuid.uuid4().hex}:"
    yield redis, prefix
    for key in redis.scan_iter(match=f"{prefix}*"):
        redis.delete(key)


@pytest.fixture
def now() -> FakeClock:
    """Epoch seconds that move only when a test sleeps, from 2026-03-10 12:00 UTC."""
    clock = FakeClock()
    clock.now = NOON
    return clock


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, now: FakeClock) -> LimitStore:
    if request.param == "in-process":
        return InProcessStore(now)
    redis, prefix = request.getfixturevalue("redis_prefix")
    return RedisStore(redis, prefix=prefix, now=now, poll=0.005)
