"""Absurd days and unreadable scenario files on the command line: one line saying what is wrong,
never a traceback (counted into the Reliability figures as `absurd_days_and_files`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.sandbox.scenario import ScenarioError, load_scenario
from integration.cli import main


def scenario_file(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


SMALL = {
    "format": "arpilot-scenario/1",
    "as_of": "2026-11-23",
    "company": {
        "name": "Tiny",
        "timezone": "UTC",
        "currency": "USD",
        "locale": "en_US",
        "country": "US",
        "email": "a@tiny.example",
    },
    "customers": [],
    "invoices": [],
    "payments": [],
}


def bad_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """label -> (file, what the error says)"""
    far = {**SMALL, "as_of": "9999-12-31"}
    return {
        "deeply nested": (scenario_file(tmp_path, "nested.json", b"[" * 100_000 + b"]" * 100_000), "nested too deeply"),
        "not utf-8": (
            scenario_file(
                tmp_path,
                "latin.json",
                json.dumps(SMALL)
                .replace("Tiny", "T\udcffiny", 1)
                .encode("utf-8", "surrogateescape")
                .replace(b"\\udcff", b"\xff"),
            ),
            "not UTF-8",
        ),
        "far day": (scenario_file(tmp_path, "far.json", json.dumps(far).encode()), "as_of must be a day from"),
    }


@pytest.mark.parametrize("label", ["deeply nested", "not utf-8", "far day"])
def test_an_unreadable_scenario_file_is_a_scenario_error(tmp_path: Path, label: str, tally) -> None:  # type: ignore[no-untyped-def]
    path, says = bad_files(tmp_path)[label]
    with pytest.raises(ScenarioError, match=says):
        load_scenario(path)
    tally["absurd_days_and_files"] += 1


def one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("Error:", "arpilot:"))]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["backtest", "--from", "9999-12-20", "--to", "9999-12-31"],
        ["backtest", "--from", "2026-01-01", "--to", "9999-12-31"],
        ["preview", "--as-of", "9999-12-31"],
        ["scenario", "--as-of", "9999-12-31"],
        ["scenario", "--as-of", "0001-01-01"],
        ["demo", "--once", "--as-of", "9999-12-31"],
    ],
)
def test_a_day_out_of_range_is_one_line(args: list[str], tally) -> None:  # type: ignore[no-untyped-def]
    assert "must be a day from 1970-01-01 to 2199-12-31" in one_line_error(args)
    tally["absurd_days_and_files"] += 1


def test_a_backtest_of_centuries_is_one_line(tally) -> None:  # type: ignore[no-untyped-def]
    assert "replays at most 3660 days" in one_line_error(["backtest", "--from", "1970-01-01", "--to", "2199-12-31"])
    tally["absurd_days_and_files"] += 1


@pytest.mark.parametrize("label", ["deeply nested", "not utf-8", "far day"])
@pytest.mark.parametrize(
    "command", [["backtest", "--from", "2026-01-01", "--to", "2026-01-02"], ["preview"], ["demo", "--once"]]
)
def test_an_unreadable_scenario_file_is_one_line(tmp_path: Path, label: str, command: list[str], tally) -> None:  # type: ignore[no-untyped-def]
    path, says = bad_files(tmp_path)[label]
    assert says in one_line_error([*command, "--scenario", path])
    tally["absurd_days_and_files"] += 1
