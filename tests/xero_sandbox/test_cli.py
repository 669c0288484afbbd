"""`arpilot sandbox xero|quickbooks`: refused in production, bad scenario files reported, nothing served."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from integration.cli import main


@pytest.mark.parametrize("provider", ["xero", "quickbooks"])
def test_refuses_in_production(provider: str) -> None:
    result = CliRunner().invoke(main, ["sandbox", provider, "--port", "0"], env={"ARPILOT_ENV": "production"})
    assert result.exit_code == 2 and "refuse to start when ARPILOT_ENV=production" in result.output


def test_bad_scenario_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "scenario.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(main, ["sandbox", "xero", "--scenario", str(bad)], env={"ARPILOT_ENV": ""})
    assert result.exit_code == 2 and "not valid JSON" in result.output
