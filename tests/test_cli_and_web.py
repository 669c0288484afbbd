from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from integration.cli import main
from connectors.sandbox.scenario import load_scenario
from integration.web import create_app


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in main.commands:
        assert command in result.output


def test_db_upgrade_and_downgrade(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert (tmp_path / "arpilot.db").exists()
    assert runner.invoke(main, ["db", "downgrade"]).exit_code == 0


def test_production_without_secrets_is_a_named_error(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARPILOT_ENV", "production")
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def test_scenario_command_writes_a_loadable_file(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    result = CliRunner().invoke(main, ["scenario", "--as-of", "2026-11-23", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_scenario(out).as_of.isoformat() == "2026-11-23"
    assert json.loads(out.read_text())["format"] == "arpilot-scenario/1"


def test_web_app_starts_on_embedded_defaults(settings) -> None:  # type: ignore[no-untyped-def]
    client = create_app(settings).test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and b"arpilot" in page.data
    assert (settings.var_dir / "arpilot.db").exists()
