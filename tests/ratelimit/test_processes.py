"""Four processes hammer one QuickBooks realm on the sandbox, sharing their limiter through Redis."""

from __future__ import annotations

import multiprocessing

import pytest
from redis import Redis

from connectors.quickbooks.limiter import Limits
from connectors.quickbooks.sandbox import QboSandboxConfig
from tests.ratelimit.conftest import REDIS_URL
from tests.ratelimit.hammer import hammer
from tests.ratelimit.windows import most_in_any_window
from tests.sandbox.conftest import RunningSandbox, qbo  # noqa: F401 - the sandbox fixture, on qbo_config below

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PROCESSES = 4
SECONDS = 8.0
# A minute limit low enough that a few seconds of hammering meet it: each process alone would
# burst 10 at once, 40 together, and the sandbox (30 a minute, fixed minutes) would answer 429.
PER_MINUTE = 30


@pytest.fixture
def qbo_config() -> QboSandboxConfig:
    return QboSandboxConfig(requests_per_minute=PER_MINUTE)


def test_processes_sharing_the_limiter_never_pass_a_limit_and_are_never_throttled(
    qbo: RunningSandbox, redis_prefix: tuple[Redis, str]
) -> None:
    _redis, prefix = redis_prefix
    limits = Limits(per_minute=PER_MINUTE, per_second=10, batch_items=10)
    context = multiprocessing.get_context("fork")
    ready, results = context.Barrier(PROCESSES), context.Queue()
    args = (
        qbo.sandbox.api_base(qbo.base_url),
        qbo.realm,
        qbo.minted()["access_token"],
        limits,
        REDIS_URL,
        prefix,
        SECONDS,
        ready,
        results,
    )
    workers = [context.Process(target=hammer, args=args) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    times = [at for process_times, _ in outcomes for at in process_times]
    assert all(process_times for process_times, _ in outcomes)  # every process got calls through
    assert most_in_any_window(times, 60.0) <= PER_MINUTE
    assert most_in_any_window(times, 1.0) <= 10
    assert sum(throttled for _, throttled in outcomes) == 0
    assert qbo.admin("GET", "/requests").json()["throttled_total"] == 0
