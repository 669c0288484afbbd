"""`run_cycle(connection_id)`, the scheduler's and the worker's entry point, on the process's own runtime."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from integration.clock.locks import connection_lock
from integration.cycle import run as cycle
from integration.store.models import CycleRun
from tests.cycle.conftest import World


@pytest.fixture
def process_environment(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("DATABASE_URL", world.sessions.kw["bind"].url.render_as_string(hide_password=False))
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(world.settings.var_dir))
    monkeypatch.setenv("QUICKBOOKS_ENVIRONMENT", world.settings.quickbooks.environment)  # type: ignore[union-attr]
    monkeypatch.setenv("EMAIL_OUTBOX_DIR", str(world.outbox.directory))
    cycle.process_runtime.cache_clear()
    yield world
    cycle.process_runtime().engine.dispose()
    cycle.process_runtime.cache_clear()


def test_run_cycle_runs_and_records_the_cycle(process_environment: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="integration.cycle.run")
    cycle.run_cycle(process_environment.connection_id)
    with process_environment.sessions() as session:
        runs = session.scalars(select(CycleRun)).all()
    assert [run.status for run in runs] == ["observed"]
    assert runs[0].summary["synced"]["invoice"] >= 4
    assert _logged(caplog, "cycle ended: observed") == process_environment.connection_id


def test_run_cycle_skips_a_connection_whose_cycle_is_running(
    process_environment: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="integration.cycle.run")
    with connection_lock(cycle.process_runtime().engine, process_environment.connection_id):
        cycle.run_cycle(process_environment.connection_id)
    assert _logged(caplog, "cycle skipped: another cycle of this connection is still running") == (
        process_environment.connection_id
    )
    with process_environment.sessions() as session:
        assert session.scalars(select(CycleRun)).all() == []


def test_run_cycle_leaves_unknown_connections_alone(
    process_environment: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="integration.cycle.run")
    cycle.run_cycle(999)
    assert _logged(caplog, "cycle skipped: the connection is missing") == 999


def _logged(caplog: pytest.LogCaptureFixture, start: str) -> int | None:
    """The connection the worker's line beginning with `start` names (its log context)."""
    found = [r for r in caplog.records if r.getMessage().startswith(start)]
    assert found, caplog.text
    return found[0].connection_id  # type: ignore[attr-defined]
