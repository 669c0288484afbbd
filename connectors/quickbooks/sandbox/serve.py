"""`arpilot sandbox quickbooks`: serve the sandbox on loopback until interrupted."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from connectors.quickbooks.sandbox.app import QboSandboxConfig, create_app
from connectors.sandbox.server import SandboxServer
from integration.scenario import load_scenario


def banner(server: SandboxServer, config: QboSandboxConfig) -> list[str]:
    sandbox = server.app.extensions["qbo_sandbox"]
    base = server.base_url
    lines = [
        f"QuickBooks Online sandbox on {base}/",
        f"  client id:       {config.client_id}",
        f"  client secret:   {config.client_secret}",
        f"  discovery URL:   {sandbox.discovery_url(base)}",
        f"  API base URL:    {sandbox.api_base(base)}",
        f"  verifier token:  {config.verifier_token}",
        f"  admin API:       {base}/_sandbox/",
    ]
    lines += [f"  company:         {c.name} (realm {realm})" for realm, c in sorted(sandbox.companies.items())]
    return lines


def serve(port: int, scenario_path: Path | None, latency_ms: int, echo: Callable[[str], None],
          stop: threading.Event | None = None) -> None:
    """Serve until Ctrl-C (or until `stop` is set, for tests)."""
    config = QboSandboxConfig(latency_ms=latency_ms)
    scenario = load_scenario(scenario_path) if scenario_path else None
    server = SandboxServer(create_app(config, scenario=scenario), port=port, quiet=False)
    server.start()
    for line in banner(server, config):
        echo(line)
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
