from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.sandbox.scenario import load_scenario
from integration.cli import main
from integration.config import Settings
from tests.conftest import MakeApp


def test_help_lists_every_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in main.commands:
        assert command in result.output


def test_db_upgrade_and_downgrade(runner: CliRunner, settings: Settings) -> None:
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert (settings.var_dir / "arpilot.db").exists()
    assert runner.invoke(main, ["db", "downgrade"]).exit_code == 0


def test_production_without_secrets_is_a_named_error(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARPILOT_ENV", "production")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def test_scenario_command_writes_a_loadable_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    result = runner.invoke(main, ["scenario", "--as-of", "2026-11-23", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_scenario(out).as_of.isoformat() == "2026-11-23"
    assert json.loads(out.read_text())["format"] == "arpilot-scenario/1"


def test_web_app_starts_on_embedded_defaults(settings: Settings, make_app: MakeApp) -> None:
    client = make_app().test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and b"arpilot" in page.data
    assert (settings.var_dir / "arpilot.db").exists()
