"""Issue 15.3: a cycle whose process is killed is reaped once its lease expires, and the next cycle runs.

The crash worker (tests/cycle/crash_worker.py) runs a real cycle in a child process and SIGKILLs it
in the middle of the sync, leaving its run "running" with nobody to finish it. Once the run's lease
has expired, the connection's next cycle closes it as failed (the activity log says why), the
dashboard shows "sync failing since", and that cycle then does its work.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.cycle.leases import DEFAULT_LEASE, connections_due_a_retry, failing
from integration.store.models import ActivityEntry, CycleRun
from tests.cycle.conftest import NOW, World, make_world
from tests.cycle.crash_worker import wait_until_released
from tests.reliability.conftest import Figures
from tests.sandbox.conftest import small_scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    yield from make_world(small_scenario(NOW.date()), sessions, tmp_path)


def _kill_a_cycle_mid_sync(world: World) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": world.sessions.kw["bind"].url.render_as_string(hide_password=False),
        "ARPILOT_VAR_DIR": str(world.settings.var_dir),
        "QUICKBOOKS_ENVIRONMENT": world.settings.quickbooks.environment,  # type: ignore[union-attr]
        "ARPILOT_EMBEDDED_CLOCK": "0",
    }
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.cycle.crash_worker",
            str(world.connection_id),
            NOW.isoformat(),
            str(world.outbox.directory),
            "page",
            "1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]


def test_a_killed_cycle_is_reaped_and_the_next_cycle_runs(world: World, figures: Figures) -> None:
    _kill_a_cycle_mid_sync(world)
    with world.sessions() as session:
        [killed] = session.scalars(select(CycleRun)).all()
    assert killed.status == "running" and killed.lease_expires_at == NOW + DEFAULT_LEASE
    wait_until_released(world.sessions.kw["bind"], world.connection_id)

    # Within its lease the run may still be alive somewhere: nothing is reaped, nothing retried.
    assert connections_due_a_retry(world.sessions, NOW + DEFAULT_LEASE / 2, dt.timedelta(hours=1)) == []
    with world.sessions() as session:
        assert session.get(CycleRun, killed.id).status == "running"

    # Past its lease the clock's check reaps it, and the connection is failing and due a retry.
    after = NOW + DEFAULT_LEASE + dt.timedelta(minutes=1)
    assert connections_due_a_retry(world.sessions, after, dt.timedelta(hours=1)) == [world.connection_id]
    figures.stale_runs_reaped += 1
    with world.sessions() as session:
        reaped = session.get(CycleRun, killed.id)
        assert reaped.status == "failed" and "killed or hung" in reaped.summary["detail"]
        state = failing(session, world.connection_id)
        assert state is not None and state.since == NOW and "killed or hung" in state.reason
        assert any(
            "killed or hung" in m
            for m in session.scalars(select(ActivityEntry.message).where(ActivityEntry.kind == "cycle_failed"))
        )

    world.clock.advance(after - NOW)
    assert world.cycle().status == "observed"
    with world.sessions() as session:
        assert failing(session, world.connection_id) is None
        assert [r.status for r in session.scalars(select(CycleRun).order_by(CycleRun.id))] == ["failed", "observed"]


def test_the_next_cycle_reaps_a_killed_run_itself(world: World, figures: Figures) -> None:
    """Without a clock (embedded, or the clock down), the connection's own next cycle reaps it."""
    _kill_a_cycle_mid_sync(world)
    wait_until_released(world.sessions.kw["bind"], world.connection_id)
    world.clock.advance(DEFAULT_LEASE + dt.timedelta(minutes=1))
    assert world.cycle().status == "observed"
    figures.stale_runs_reaped += 1
    with world.sessions() as session:
        assert [r.status for r in session.scalars(select(CycleRun).order_by(CycleRun.id))] == ["failed", "observed"]
