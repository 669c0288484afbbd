"""One leading clock: the PostgreSQL clock lock, its takeover when the leader dies, and the slot it fires."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from integration.clock.leader import CLOCK_NAMESPACE, Leadership, LeadershipLost, try_leadership, wait_for_leadership
from integration.clock.scheduler import Clock, ClockPlan, connections_without_a_run_this_slot, slot_start
from integration.store.db import make_engine, transaction
from integration.store.models import Connection, ConnectionStatus, CycleRun
from tests.clock_helpers import ManualScheduler, RunSoonRecorder
from tests.conftest import add_connection
from tests.processes import holding_child

INTERVAL = dt.timedelta(minutes=10)
LEAD_UNTIL_KILLED = """
from integration.store.db import make_engine
from integration.clock.leader import try_leadership
leader = try_leadership(make_engine(url))
assert leader is not None
"""


@pytest.fixture
def pg_engines(postgres_server_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on the same database, as two clock processes would have; any lock they still
    hold at the end is dropped with its session, as it would be when the process exits."""
    first, second = make_engine(postgres_server_url), make_engine(postgres_server_url)
    yield first, second
    for engine in (first, second):
        with engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND classid = :namespace"
                ),
                {"namespace": CLOCK_NAMESPACE},
            )
        engine.dispose()


def leading(engine: Engine) -> Leadership:
    leadership = try_leadership(engine)
    assert leadership is not None and leadership.connection is not None
    return leadership


@pytest.mark.postgres
def test_one_clock_leads_and_a_standby_takes_over_when_its_session_ends(pg_engines: tuple[Engine, Engine]) -> None:
    first, second = pg_engines
    leader = leading(first)
    assert try_leadership(second) is None
    assert try_leadership(first) is None  # another session of the same process is no leader either
    leader.check()
    assert leader.connection is not None
    leader.connection.invalidate()  # a dying process's socket closes, and the server ends its session
    # The server notices the closed socket a moment later (longer on a loaded machine): the standby
    # polls, as wait_for_leadership does, rather than asking once.
    deadline = time.monotonic() + 10
    standby = try_leadership(second)
    while standby is None and time.monotonic() < deadline:
        time.sleep(0.05)
        standby = try_leadership(second)
    assert standby is not None
    standby.check()


@pytest.mark.postgres
def test_a_standby_waits_until_a_killed_leader_lets_go(
    postgres_server_url: str, pg_engines: tuple[Engine, Engine]
) -> None:
    _, engine = pg_engines
    holder = holding_child(LEAD_UNTIL_KILLED, postgres_server_url)
    standby_polls: list[float] = []
    try:

        def kill_on_first_poll(seconds: float) -> None:
            if not standby_polls:
                holder.send_signal(signal.SIGKILL)
                holder.wait()
            standby_polls.append(seconds)
            if len(standby_polls) > 600:  # the server ends a dead client's session in well under 30 s
                pytest.fail("the killed leader's lock was never released")
            time.sleep(seconds)

        told: list[str] = []
        leadership = wait_for_leadership(
            engine, 0.05, sleep=kill_on_first_poll, on_standby=lambda: told.append("standby")
        )
    finally:
        if holder.poll() is None:
            holder.send_signal(signal.SIGKILL)
            holder.wait()
    assert told == ["standby"] and standby_polls and set(standby_polls) == {0.05}
    leadership.check()


@pytest.mark.postgres
def test_a_leader_whose_session_was_ended_knows_it_lost(pg_engines: tuple[Engine, Engine]) -> None:
    first, second = pg_engines
    leader = leading(first)
    assert leader.connection is not None
    pid = leader.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with second.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(LeadershipLost):
        leader.check()
    assert try_leadership(second) is not None


def test_on_sqlite_there_is_one_clock_and_no_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    leadership = wait_for_leadership(engine, 1.0, sleep=lambda _s: pytest.fail("an embedded clock never waits"))
    assert leadership.connection is None
    leadership.check()


def _run(sessions: sessionmaker[Session], connection_id: int, started: dt.datetime) -> None:
    with transaction(sessions) as session:
        session.add(CycleRun(connection_id=connection_id, started_at=started, status="done"))


def test_the_slot_is_fired_for_connections_with_no_run_in_it(sessions: sessionmaker[Session]) -> None:
    ran_this_slot, ran_last_slot, never_ran, inactive = (add_connection(sessions, f"realm-{n}") for n in range(4))
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    _run(sessions, ran_this_slot, slot_start(ran_this_slot, INTERVAL, now))
    _run(sessions, ran_last_slot, slot_start(ran_last_slot, INTERVAL, now) - dt.timedelta(seconds=1))
    with transaction(sessions) as session:
        connection = session.get(Connection, inactive)
        assert connection is not None
        connection.status = ConnectionStatus.NEEDS_RECONNECT
    assert connections_without_a_run_this_slot(sessions, INTERVAL, now) == [ran_last_slot, never_ran]


def test_a_leading_clock_checks_its_lock_and_fires_the_unrun_slots_first() -> None:
    class Lost:
        def check(self) -> None:
            raise LeadershipLost("gone")

    scheduler = ManualScheduler()
    recorder = RunSoonRecorder()
    clock = Clock(
        scheduler,
        ClockPlan(interval=INTERVAL, refresh_seconds=3600),
        "tests.clock_helpers:record_cycle",
        lambda: [1, 2, 3],
        lambda: [2, 3],
    )
    clock.run_soon = recorder.run_soon  # type: ignore[method-assign]
    clock.lead(Lost())  # type: ignore[arg-type]
    scheduler.tick()
    assert recorder.soon == [2, 3]
    assert clock.scheduled_connection_ids() == {1, 2, 3}
    for job in scheduler.get_jobs():  # the lock check is due every standby poll; run it now
        if job.id == "check-clock-lock":
            job.func(*job.args)
    assert isinstance(clock.lost_leadership, LeadershipLost) and not scheduler.running


def test_the_standby_polls_several_times_an_interval() -> None:
    assert ClockPlan(interval=dt.timedelta(seconds=12)).standby_poll_seconds == 2.0
    assert ClockPlan(interval=dt.timedelta(hours=1)).standby_poll_seconds == 5.0
