from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration import cycle
from integration.locks import connection_lock


@pytest.fixture
def environment_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cycle.process_runtime.cache_clear()
    yield
    cycle.process_runtime().engine.dispose()
    cycle.process_runtime.cache_clear()


def test_run_cycle_takes_the_connection_lock(environment_runtime: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="integration.cycle")
    cycle.run_cycle(3)
    assert "cycle for connection 3: lock held" in caplog.text


def test_run_cycle_skips_a_connection_whose_cycle_is_running(
    environment_runtime: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="integration.cycle")
    with connection_lock(cycle.process_runtime().engine, 3):
        cycle.run_cycle(3)
    assert "cycle for connection 3 skipped" in caplog.text
    assert "lock held" not in caplog.text
