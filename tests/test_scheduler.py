from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from integration.app_context import Runtime
from integration.clock.scheduler import (
    INBOX_JOB_ID,
    REFRESH_JOB_ID,
    Clock,
    ClockPlan,
    active_connection_ids,
    build_clock,
    cycle_job_id,
    cycle_trigger,
)
from integration.clock.slots import cycle_anchor, slot_index
from integration.config import load_settings
from integration.store.models import Connection, ConnectionStatus, Organization
from integration.web import create_app
from tests import clock_helpers
from tests.clock_helpers import FakeClock, ManualScheduler

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
TEN_MINUTES = dt.timedelta(minutes=10)
TARGET = "tests.clock_helpers:record_cycle"


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock(T0)
    clock.install(monkeypatch)
    return clock


@pytest.fixture(autouse=True)
def fresh_calls() -> Iterator[None]:
    clock_helpers.calls.clear()
    clock_helpers.called.clear()
    yield


def manual_clock(connections: list[int], plan: ClockPlan | None = None) -> tuple[Clock, list[dt.datetime]]:
    """A started clock on a ManualScheduler, and the scheduled times of every cycle run it makes."""
    scheduler = ManualScheduler()
    run_times: list[dt.datetime] = []

    def on_executed(event: JobExecutionEvent) -> None:
        if event.job_id.startswith("cycle:"):
            run_times.append(event.scheduled_run_time)

    scheduler.add_listener(on_executed, EVENT_JOB_EXECUTED)
    clock = Clock(scheduler, plan or ClockPlan(interval=TEN_MINUTES, refresh_seconds=3600), TARGET, lambda: connections)
    clock.start()
    return clock, run_times


@pytest.mark.parametrize(
    "into_next_interval", [dt.timedelta(seconds=1), dt.timedelta(minutes=5), dt.timedelta(minutes=9, seconds=59)]
)
def test_after_downtime_of_several_intervals_exactly_one_run_catches_up(
    fake_clock: FakeClock, into_next_interval: dt.timedelta
) -> None:
    clock, run_times = manual_clock([1])
    first = clock.scheduler.get_job(cycle_job_id(1)).next_run_time
    assert T0 < first <= T0 + TEN_MINUTES

    fake_clock.now = first + 5 * TEN_MINUTES + into_next_interval  # down across six due runs
    clock.scheduler.tick()
    assert clock_helpers.calls == [1]
    assert run_times == [first + 5 * TEN_MINUTES]  # the latest missed slot, run once

    clock.scheduler.tick()  # waking again at the same instant runs nothing more
    assert clock_helpers.calls == [1]
    assert clock.scheduler.get_job(cycle_job_id(1)).next_run_time == first + 6 * TEN_MINUTES

    fake_clock.now = first + 6 * TEN_MINUTES
    clock.scheduler.tick()
    assert clock_helpers.calls == [1, 1]


def test_the_same_downtime_without_coalescing_would_run_every_missed_interval(fake_clock: FakeClock) -> None:
    """Control for the test above: it can tell coalescing on from off."""
    clock, _ = manual_clock([1])
    first = clock.scheduler.get_job(cycle_job_id(1)).next_run_time
    clock.scheduler.modify_job(cycle_job_id(1), coalesce=False, misfire_grace_time=None)
    fake_clock.now = first + 5 * TEN_MINUTES + dt.timedelta(seconds=1)
    clock.scheduler.tick()
    assert clock_helpers.calls == [1] * 6


def test_jobs_carry_coalesce_grace_and_single_instance(fake_clock: FakeClock) -> None:
    clock, _ = manual_clock([3, 4])
    for connection_id in (3, 4):
        job = clock.scheduler.get_job(cycle_job_id(connection_id))
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == 600
        assert job.args == (connection_id,)
    assert clock.scheduler.get_job(REFRESH_JOB_ID) is not None


def test_rescheduling_a_connection_keeps_its_next_run(fake_clock: FakeClock) -> None:
    clock, _ = manual_clock([1])
    before = clock.scheduler.get_job(cycle_job_id(1)).next_run_time
    fake_clock.advance(dt.timedelta(minutes=3))
    if before <= fake_clock.now:
        before += TEN_MINUTES
    clock.schedule(1)  # replace_existing=True
    assert clock.scheduler.get_job(cycle_job_id(1)).next_run_time == before
    assert len(clock.scheduler.get_jobs()) == 2  # the cycle and the refresh job, nothing doubled


def test_refresh_picks_up_new_and_removed_connections_without_moving_the_others(fake_clock: FakeClock) -> None:
    connections = [1, 2]
    clock, _ = manual_clock(connections)
    kept_next_run = clock.scheduler.get_job(cycle_job_id(1)).next_run_time
    connections[:] = [1, 3]
    fake_clock.advance(dt.timedelta(seconds=30))

    refreshed = clock.refresh()

    assert (refreshed.added, refreshed.removed) == ((3,), (2,))
    assert clock.scheduled_connection_ids() == {1, 3}
    assert clock.scheduler.get_job(cycle_job_id(1)).next_run_time == kept_next_run
    assert clock.refresh().added == () and clock.refresh().removed == ()


def test_the_refresh_job_runs_on_its_own_interval(fake_clock: FakeClock) -> None:
    connections: list[int] = []
    clock, _ = manual_clock(connections, ClockPlan(interval=TEN_MINUTES, refresh_seconds=60))
    connections.append(9)
    fake_clock.advance(dt.timedelta(seconds=61))
    clock.scheduler.tick()
    assert clock.scheduled_connection_ids() == {9}


def test_connections_are_spread_over_the_interval_and_jitter_stays_inside_it() -> None:
    hour = dt.timedelta(hours=1)
    offsets = {(cycle_anchor(c, hour) - cycle_anchor(1, hour)).total_seconds() % 3600 for c in range(1, 50)}
    assert len(offsets) == 49  # no two of the first 49 connections share a start second
    plan = ClockPlan(interval=hour, jitter_seconds=60)
    trigger = cycle_trigger(7, plan)
    for minute in range(0, 600, 37):
        now = T0 + dt.timedelta(minutes=minute)
        fire = trigger.get_next_fire_time(None, now)
        slot_start = cycle_anchor(7, hour) + (slot_index(7, hour, now) + 1) * hour
        assert slot_start <= fire <= slot_start + dt.timedelta(seconds=60)


def test_jitter_never_piles_up_so_no_slot_is_skipped() -> None:
    hour = dt.timedelta(hours=1)
    trigger = cycle_trigger(7, ClockPlan(interval=hour, jitter_seconds=60))
    fire = trigger.get_next_fire_time(None, T0)
    slots = []
    for _ in range(500):  # three weeks of hourly fires; APScheduler's own drift skips a slot in ~5 days
        slot = slot_index(7, hour, fire)
        assert fire - (cycle_anchor(7, hour) + slot * hour) <= dt.timedelta(seconds=60)
        slots.append(slot)
        fire = trigger.get_next_fire_time(fire, fire)
    assert slots == list(range(slots[0], slots[0] + 500))


def test_plan_from_settings_uses_the_interval_with_a_tenth_capped_at_a_minute_of_jitter(tmp_path: Path) -> None:
    hourly = ClockPlan.from_settings(load_settings({"ARPILOT_VAR_DIR": str(tmp_path)}))
    assert hourly.interval == dt.timedelta(hours=1) and hourly.jitter_seconds == 60
    assert hourly.misfire_grace_seconds == 3600
    quick = ClockPlan.from_settings(
        load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "ARPILOT_CYCLE_INTERVAL_MINUTES": "5"})
    )
    assert quick.jitter_seconds == 30


def add_connections(sessions: sessionmaker[Session], statuses: list[ConnectionStatus]) -> list[int]:
    with sessions() as session, session.begin():
        organization = Organization(name="Harbor & Pine")
        session.add(organization)
        rows = [
            Connection(organization=organization, provider="quickbooks", external_id=f"realm-{n}", status=status)
            for n, status in enumerate(statuses)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def test_only_active_connections_are_scheduled(sessions: sessionmaker[Session]) -> None:
    ids = add_connections(
        sessions,
        [
            ConnectionStatus.ACTIVE,
            ConnectionStatus.NEEDS_RECONNECT,
            ConnectionStatus.DISCONNECTED,
            ConnectionStatus.ACTIVE,
        ],
    )
    assert active_connection_ids(sessions) == [ids[0], ids[3]]


def test_embedded_clock_runs_cycles_in_its_thread_pool(tmp_path: Path, fake_clock: FakeClock) -> None:
    runtime = Runtime(load_settings({"ARPILOT_VAR_DIR": str(tmp_path)}))
    runtime.migrate()
    (connection_id,) = add_connections(runtime.sessions, [ConnectionStatus.ACTIVE])
    clock = build_clock(runtime, blocking=False, target=TARGET)
    assert isinstance(clock.scheduler, BackgroundScheduler) and clock.dispatch == TARGET
    clock.start()
    try:
        fake_clock.now = clock.scheduler.get_job(cycle_job_id(connection_id)).next_run_time
        clock.scheduler.wakeup()
        assert clock_helpers.called.wait(timeout=30), "the cycle never ran"
        assert clock_helpers.calls == [connection_id]
    finally:
        clock.shutdown()
        runtime.engine.dispose()


def test_run_soon_runs_one_cycle_now_besides_the_schedule(tmp_path: Path, fake_clock: FakeClock) -> None:
    runtime = Runtime(load_settings({"ARPILOT_VAR_DIR": str(tmp_path)}))
    runtime.migrate()
    clock = build_clock(runtime, blocking=False, target=TARGET)
    clock.start()
    try:
        clock.run_soon(41)
        fake_clock.now = clock.scheduler.get_job(f"{cycle_job_id(41)}:now").next_run_time
        clock.scheduler.wakeup()
        assert clock_helpers.called.wait(timeout=30), "the cycle never ran"
        assert clock_helpers.calls == [41]
        assert clock.scheduler.get_job(f"{cycle_job_id(41)}:now") is None, "a one-off, not a new schedule"
    finally:
        clock.shutdown()
        runtime.engine.dispose()


def test_production_clock_blocks_and_enqueues_when_redis_is_configured(tmp_path: Path) -> None:
    runtime = Runtime(load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/0"}))
    clock = build_clock(runtime, blocking=True)
    assert isinstance(clock.scheduler, BlockingScheduler)
    assert getattr(clock.dispatch, "__name__", None) == "enqueue"
    # A failed cycle's retry falls in the slot whose job id is taken: it is enqueued as a cycle soon.
    assert getattr(clock.retry, "__name__", None) == "enqueue_soon"


def test_embedded_clock_retries_in_process(tmp_path: Path) -> None:
    runtime = Runtime(load_settings({"ARPILOT_VAR_DIR": str(tmp_path)}))
    clock = build_clock(runtime, blocking=False, target=TARGET)
    assert clock.retry == clock.run_soon


def test_create_app_starts_the_embedded_clock_unless_turned_off(tmp_path: Path) -> None:
    on = create_app(load_settings({"ARPILOT_VAR_DIR": str(tmp_path / "on"), "ARPILOT_EMBEDDED_CLOCK": "true"}))
    clock = on.extensions["arpilot_clock"]
    try:
        assert clock.scheduler.running and clock.scheduler.get_job(REFRESH_JOB_ID) is not None
    finally:
        clock.shutdown()
    off = create_app(load_settings({"ARPILOT_VAR_DIR": str(tmp_path / "off"), "ARPILOT_EMBEDDED_CLOCK": "0"}))
    assert "arpilot_clock" not in off.extensions


def test_clock_command_builds_a_blocking_clock_and_starts_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from integration.cli import main

    started: list[Clock] = []
    monkeypatch.setattr(Clock, "start", lambda self: started.append(self))
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(main, ["clock"])
    assert result.exit_code == 0, result.output
    assert "every 60 min per connection, running cycles in-process" in result.output
    (clock,) = started
    assert isinstance(clock.scheduler, BlockingScheduler) and clock.dispatch == "integration.cycle.run:run_cycle"


def test_the_clock_reads_the_inbox_folder_every_refresh_interval(fake_clock: FakeClock) -> None:
    reads: list[dt.datetime] = []
    scheduler = ManualScheduler()
    clock = Clock(
        scheduler,
        ClockPlan(interval=TEN_MINUTES, refresh_seconds=60),
        TARGET,
        lambda: [],
        inbox=lambda: reads.append(fake_clock.now),
    )
    clock.start()
    job = scheduler.get_job(INBOX_JOB_ID)
    assert job is not None and job.trigger.interval == dt.timedelta(seconds=60)
    fake_clock.advance(dt.timedelta(seconds=61))
    scheduler.tick()
    assert len(reads) == 1
