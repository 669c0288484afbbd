"""Issue 15.3: every cycle ends with an outcome; failing connections are shown and retried with backoff."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from rq import Queue
from sqlalchemy import select

import integration.cycle.run as cycle_module
from integration.clock.queue import CycleQueue
from integration.clock.scheduler import Clock, ClockPlan
from integration.cycle.leases import (
    RETRY_BASE,
    connections_due_a_retry,
    failing,
    heartbeat,
    reap_stale_runs,
    retry_delay,
)
from integration.owner.connection_health import connection_health
from integration.store.db import transaction
from integration.store.models import ActivityEntry, CycleRun
from tests.clock_helpers import ManualScheduler
from tests.cycle.conftest import World
from tests.rq_helpers import throwaway_queue

HOUR = dt.timedelta(hours=1)


def _runs(world: World) -> list[CycleRun]:
    with world.sessions() as session:
        return list(
            session.scalars(select(CycleRun).where(CycleRun.connection_id == world.connection_id).order_by(CycleRun.id))
        )


def _entries(world: World, kind: str) -> list[str]:
    with world.sessions() as session:
        return list(session.scalars(select(ActivityEntry.message).where(ActivityEntry.kind == kind)))


def _break_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("CustomerRef")  # a bug, not a provider error: nothing upstream expects it

    monkeypatch.setattr(cycle_module, "sync_connection", broken)


def test_an_unexpected_error_ends_the_run_as_failed_with_the_reason_in_the_activity_log(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _break_sync(monkeypatch)
    summary = world.cycle()
    assert summary.status == "failed" and "KeyError" in summary.detail and "CustomerRef" in summary.detail
    [run] = _runs(world)
    assert run.status == "failed" and run.finished_at is not None and run.lease_expires_at is None
    assert run.summary["detail"] == summary.detail
    assert any("KeyError" in message for message in _entries(world, "cycle_failed"))


def test_failing_since_the_first_failure_and_retried_with_doubling_backoff(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _break_sync(monkeypatch)
    first_at = world.clock.now()
    world.cycle()
    world.clock.advance(dt.timedelta(minutes=5))
    world.cycle()
    with world.sessions() as session:
        state = failing(session, world.connection_id)
        assert state is not None and state.failures == 2 and state.since == first_at and "KeyError" in state.reason
        [health] = connection_health(session, world.organization_id, HOUR, world.clock.now())
    assert health.failing == state and health.retry_at == state.last_failed_at + 2 * RETRY_BASE
    now = world.clock.now()
    assert connections_due_a_retry(world.sessions, now + RETRY_BASE, HOUR) == []
    assert connections_due_a_retry(world.sessions, now + 2 * RETRY_BASE, HOUR) == [world.connection_id]
    monkeypatch.undo()
    assert world.cycle().status == "observed"  # the rules are still in observe mode
    with world.sessions() as session:
        assert failing(session, world.connection_id) is None
    assert connections_due_a_retry(world.sessions, world.clock.now() + HOUR, HOUR) == []


def test_retry_delay_doubles_from_a_minute_and_is_capped_by_the_interval() -> None:
    assert [retry_delay(n, HOUR) for n in (1, 2, 3, 4)] == [RETRY_BASE * m for m in (1, 2, 4, 8)]
    assert retry_delay(7, HOUR) == HOUR and retry_delay(10_000, HOUR) == HOUR


def test_a_run_whose_lease_expired_is_reaped_once_and_a_live_one_is_left_alone(world: World) -> None:
    now = world.clock.now()
    with transaction(world.sessions) as session:
        stale = CycleRun(
            connection_id=world.connection_id, started_at=now - HOUR, lease_expires_at=now - dt.timedelta(seconds=1)
        )
        live = CycleRun(connection_id=world.connection_id, started_at=now, lease_expires_at=now + HOUR)
        session.add_all([stale, live])
    with transaction(world.sessions) as session:
        assert reap_stale_runs(session, now) == [stale.id]
    with transaction(world.sessions) as session:
        assert reap_stale_runs(session, now) == []
    runs = {run.id: run for run in _runs(world)}
    assert runs[stale.id].status == "failed" and "killed or hung" in runs[stale.id].summary["detail"]
    assert runs[live.id].status == "running"
    assert len(_entries(world, "cycle_failed")) == 1


@pytest.fixture
def queue() -> Iterator[Queue]:
    yield from throwaway_queue()


def test_the_clock_retries_a_due_connection_through_rq(queue: Queue) -> None:
    """With REDIS_URL the slot's job id is taken, so the retry is enqueued as a cycle soon."""
    cycles = CycleQueue(queue, HOUR)
    clock = Clock(
        ManualScheduler(),
        ClockPlan(HOUR),
        cycles.enqueue,
        lambda: [7],
        list_retry_due=lambda: [7],
        retry=cycles.enqueue_soon,
    )
    assert clock.retry_failed() == [7]
    assert [job.args for job in queue.get_jobs()] == [(7,)]
    assert clock.retry_failed() == [7] and len(queue.get_jobs()) == 1  # one per connection and minute


def test_the_heartbeat_renews_the_lease_while_the_cycle_works(world: World) -> None:
    lease = dt.timedelta(seconds=0.3)  # renewed every 0.1 s
    with transaction(world.sessions) as session:
        run = CycleRun(
            connection_id=world.connection_id, started_at=world.clock.now(), lease_expires_at=world.clock.now() + lease
        )
        session.add(run)
    first = _runs(world)[0].lease_expires_at
    with heartbeat(world.sessions, run.id, lease, world.clock.now):
        world.clock.advance(dt.timedelta(minutes=1))
        deadline = time.monotonic() + 10
        while _runs(world)[0].lease_expires_at == first:
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.02)
    assert _runs(world)[0].lease_expires_at == world.clock.now() + lease
