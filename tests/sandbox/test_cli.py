"""`arpilot sandbox quickbooks`: serves on the given port and prints what a developer needs."""

from __future__ import annotations

import threading
from pathlib import Path

import requests
from click.testing import CliRunner

from connectors.quickbooks.sandbox.app import QboSandboxConfig, create_app
from connectors.quickbooks.sandbox.serve import banner
from connectors.sandbox.scenario import load_scenario
from connectors.sandbox.serve import serve
from integration.cli import main
from tests.ports import free_port
from tests.sandbox.conftest import small_scenario


def test_serve_prints_credentials_and_serves(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(small_scenario().dumps())
    port, lines, stop = free_port(), [], threading.Event()
    app = create_app(QboSandboxConfig(), scenario=load_scenario(scenario))
    worker = threading.Thread(target=serve, args=(app, port, banner, lines.append, stop))
    worker.start()
    try:
        while not any("admin API" in line for line in lines):
            if not worker.is_alive():
                raise AssertionError("the sandbox stopped before printing its banner")
            threading.Event().wait(0.01)
        text = "\n".join(lines)
        config = QboSandboxConfig()
        for expected in (
            config.client_id,
            config.client_secret,
            config.verifier_token,
            f"http://127.0.0.1:{port}/.well-known/openid_configuration",
            f"http://127.0.0.1:{port}/v3",
        ):
            assert expected in text
        overview = requests.get(f"http://127.0.0.1:{port}/_sandbox/", timeout=10).json()
        assert overview["companies"][0]["name"] == "Harbor & Pine Landscaping"
    finally:
        stop.set()
        worker.join(timeout=10)


def test_refuses_in_production_and_bad_scenarios(tmp_path: Path) -> None:
    runner = CliRunner()
    refused = runner.invoke(main, ["sandbox", "quickbooks", "--port", "0"], env={"ARPILOT_ENV": "production"})
    assert refused.exit_code == 2 and "refuse" in refused.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "arpilot-scenario/1"}')
    result = runner.invoke(main, ["sandbox", "quickbooks", "--port", "0", "--scenario", str(bad)])
    assert result.exit_code == 2 and "arpilot:" in result.output
