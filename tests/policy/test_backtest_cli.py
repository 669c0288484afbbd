"""Backtest and preview on the demo company, and their commands."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from connectors.sandbox.scenario import generate_demo_company
from integration.cli import main
from integration.policy.backtest import backtest
from integration.policy.rules import Rules


def test_backtest_replays_days_and_reports() -> None:
    scenario = generate_demo_company()
    days: list[dt.date] = []
    report = backtest(scenario, Rules.default(), dt.date(2026, 3, 1), dt.date(2026, 4, 30), on_day=days.append)
    assert report.days == len(days) == 61
    assert report.emails > 0 and report.reminders_by_stage["reminder_1"] > 0
    assert report.holds_on, "habitually late and unresponsive customers go on hold"
    assert report.false_alarms <= report.alarm_reminders
    held = {c for _, c in report.holds_on}
    habits = {c.id: c.habit for c in scenario.customers}
    assert {habits[c] for c in held} <= {"habitually_late", "unresponsive", "slow_but_steady"}


def test_preview_command_text_and_json() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["preview", "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.output
    assert "actions for 2026-06-01" in result.output
    result = runner.invoke(main, ["preview", "--json"])
    assert result.exit_code == 0
    actions = json.loads(result.output)
    assert actions and {"kind", "reason", "idempotency_key"} <= set(actions[0])


def test_backtest_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "books.json"
    path.write_text(generate_demo_company().dumps())
    runner = CliRunner()
    result = runner.invoke(main, ["backtest", "--scenario", str(path), "--from", "2026-05-01", "--to", "2026-05-10"])
    assert result.exit_code == 0, result.output
    assert "false alarms" in result.output
    bad = runner.invoke(main, ["backtest", "--from", "2026-05-10", "--to", "2026-05-01"])
    assert bad.exit_code != 0 and "--to" in bad.output


def test_bad_scenario_file_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.json"
    path.write_text("{}")
    result = CliRunner().invoke(main, ["preview", "--scenario", str(path)])
    assert result.exit_code != 0 and "format" in result.output
