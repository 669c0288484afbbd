"""RQ on the real Redis at 127.0.0.1:6379 (unreachable Redis fails these tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rq import Queue
from rq.job import JobStatus

from integration.cli import main
from integration.clock.queue import SOON_WINDOW, CycleQueue, rq_function_path, run_worker
from integration.clock.scheduler import Clock, ClockPlan, cycle_job_id
from integration.clock.slots import cycle_anchor, slot_index
from integration.config import load_settings
from tests import clock_helpers
from tests.clock_helpers import FakeClock, ManualScheduler
from tests.rq_helpers import REDIS_URL, throwaway_queue

TARGET = "tests.clock_helpers:record_cycle"
TEN_MINUTES = dt.timedelta(minutes=10)

pytestmark = pytest.mark.redis


@pytest.fixture
def queue() -> Iterator[Queue]:
    yield from throwaway_queue()


@pytest.fixture(autouse=True)
def fresh_calls() -> Iterator[None]:
    clock_helpers.calls.clear()
    yield


def at(connection_id: int, slot: int, into: dt.timedelta = dt.timedelta(0)) -> dt.datetime:
    return cycle_anchor(connection_id, TEN_MINUTES) + slot * TEN_MINUTES + into


def test_enqueued_cycle_runs_on_a_burst_worker(queue: Queue) -> None:
    cycles = CycleQueue(queue, TEN_MINUTES, TARGET, clock=lambda: at(5, 1_000))
    enqueued = cycles.enqueue(5)

    assert enqueued.created and enqueued.job_id == f"{queue.name}-connection-5-every-600s-slot-1000"
    job = queue.fetch_job(enqueued.job_id)
    assert job is not None and job.func_name == "tests.clock_helpers.record_cycle" and job.args == (5,)
    assert job.ttl == 600 and job.result_ttl == 1200

    assert run_worker(queue, burst=True, simple=True)
    assert clock_helpers.calls == [5]
    assert queue.fetch_job(enqueued.job_id).get_status() == JobStatus.FINISHED


def test_a_duplicate_enqueue_for_the_same_slot_is_ignored(queue: Queue) -> None:
    now = [at(5, 1_000, dt.timedelta(seconds=3))]
    cycles = CycleQueue(queue, TEN_MINUTES, TARGET, clock=lambda: now[0])
    first = cycles.enqueue(5)
    now[0] = at(5, 1_000, dt.timedelta(minutes=9, seconds=59))  # same slot, later
    again = cycles.enqueue(5)

    assert first.created and not again.created and again.job_id == first.job_id
    assert queue.count == 1
    run_worker(queue, burst=True, simple=True)
    assert not cycles.enqueue(5).created  # still the same slot after the run: still ignored
    run_worker(queue, burst=True, simple=True)
    assert clock_helpers.calls == [5]

    now[0] = at(5, 1_001)  # the next slot is a new job
    assert cycles.enqueue(5).created
    assert cycles.enqueue(6).created  # and another connection is its own job
    run_worker(queue, burst=True, simple=True)
    assert sorted(clock_helpers.calls) == [5, 5, 6]


def test_a_burst_of_soon_cycles_within_a_minute_is_one_job(queue: Queue) -> None:
    now = [at(5, 1_000, dt.timedelta(minutes=3))]
    cycles = CycleQueue(queue, TEN_MINUTES, TARGET, clock=lambda: now[0])
    window = slot_index(5, SOON_WINDOW, now[0])
    burst = [cycles.enqueue_soon(5) for _ in range(3)]
    assert [e.created for e in burst] == [True, False, False]
    assert burst[0].job_id == f"{queue.name}-connection-5-soon-60s-window-{window}"
    job = queue.fetch_job(burst[0].job_id)
    assert job is not None and job.args == (5,) and job.ttl == 600 and job.result_ttl == 120
    now[0] += SOON_WINDOW  # a change a minute later gets a cycle of its own
    assert cycles.enqueue_soon(5).created
    assert queue.count == 2


def test_a_soon_cycle_is_not_refused_by_the_slot_cycle_that_already_ran(queue: Queue) -> None:
    cycles = CycleQueue(queue, TEN_MINUTES, TARGET, clock=lambda: at(5, 1_000, dt.timedelta(minutes=4)))
    assert cycles.enqueue(5).created
    run_worker(queue, burst=True, simple=True)
    assert cycles.enqueue_soon(5).created and not cycles.enqueue(5).created
    run_worker(queue, burst=True, simple=True)
    assert clock_helpers.calls == [5, 5]


def test_a_failing_cycle_is_kept_as_failed_and_not_enqueued_again_in_its_slot(queue: Queue) -> None:
    cycles = CycleQueue(queue, TEN_MINUTES, "integration.no_such_module:run_cycle", clock=lambda: at(8, 50))
    job_id = cycles.enqueue(8).job_id
    run_worker(queue, burst=True, simple=True)
    assert queue.fetch_job(job_id).get_status() == JobStatus.FAILED
    assert not cycles.enqueue(8).created


def test_the_clock_enqueues_once_after_downtime_and_the_worker_runs_it(
    queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeClock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))
    fake.install(monkeypatch)
    cycles = CycleQueue(queue, TEN_MINUTES, TARGET, clock=lambda: fake.now)
    clock = Clock(ManualScheduler(), ClockPlan(interval=TEN_MINUTES, refresh_seconds=3600), cycles.enqueue, lambda: [4])
    clock.start()
    first = clock.scheduler.get_job(cycle_job_id(4)).next_run_time

    fake.now = first + 4 * TEN_MINUTES + dt.timedelta(minutes=2)
    clock.scheduler.tick()
    clock.scheduler.tick()
    assert queue.count == 1
    run_worker(queue, burst=True, simple=True)
    assert clock_helpers.calls == [4]


def test_target_paths_convert_for_rq() -> None:
    assert rq_function_path("integration.cycle.run:run_cycle") == "integration.cycle.run.run_cycle"
    with pytest.raises(ValueError, match="package.module:function"):
        rq_function_path("integration.cycle.run.run_cycle")


def test_cycle_queue_from_settings_needs_redis(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        CycleQueue.from_settings(load_settings({"ARPILOT_VAR_DIR": str(tmp_path)}))
    cycles = CycleQueue.from_settings(
        load_settings(
            {"ARPILOT_VAR_DIR": str(tmp_path), "REDIS_URL": REDIS_URL, "ARPILOT_CYCLE_INTERVAL_MINUTES": "15"}
        )
    )
    assert cycles.interval == dt.timedelta(minutes=15) and cycles.queue.name == "arpilot-cycles"


def test_worker_command_needs_redis_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 2 and "REDIS_URL" in result.output


def test_worker_command_runs_the_queue_in_burst_mode(
    queue: Queue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    CycleQueue(queue, TEN_MINUTES, TARGET).enqueue(3)
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    result = CliRunner().invoke(main, ["worker", "--burst", "--queue", queue.name])
    assert result.exit_code == 0, result.output
    assert queue.count == 0
    assert len(queue.finished_job_registry) == 1
