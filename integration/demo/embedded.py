"""The embedded default's providers: with nothing configured, `arpilot web` serves the QuickBooks and
Xero sandboxes itself, on the ports the default settings point at (QUICKBOOKS_SANDBOX_PORT,
XERO_SANDBOX_PORT), seeded with the demo company."""

from __future__ import annotations

import datetime as dt
import socket

from flask import Flask

from connectors.quickbooks.sandbox import QboSandboxConfig
from connectors.quickbooks.sandbox import create_app as create_quickbooks_sandbox
from connectors.sandbox import SandboxServer
from connectors.sandbox.scenario import generate_demo_company
from connectors.xero.sandbox import XeroSandboxConfig
from connectors.xero.sandbox import create_app as create_xero_sandbox
from integration.config import Settings, embedded_quickbooks_discovery, embedded_xero_url


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _wanted(settings: Settings) -> list[tuple[int, Flask]]:
    if settings.production:
        return []
    scenario = generate_demo_company(as_of=dt.date.today())
    wanted = []
    quickbooks_port, xero_port = settings.quickbooks_sandbox_port, settings.xero_sandbox_port
    if settings.quickbooks is not None and settings.quickbooks.environment == embedded_quickbooks_discovery(
        quickbooks_port
    ):
        wanted.append((quickbooks_port, create_quickbooks_sandbox(QboSandboxConfig(), scenario=scenario)))
    if settings.xero is not None and settings.xero.api_url == embedded_xero_url(xero_port):
        wanted.append((xero_port, create_xero_sandbox(XeroSandboxConfig(), scenario=scenario)))
    return wanted


def start_embedded_sandboxes(settings: Settings) -> list[SandboxServer]:
    """Start each sandbox the settings point at, unless something (say `arpilot sandbox quickbooks
    --port 8801`) already serves on its port."""
    started = []
    for port, app in _wanted(settings):
        if _port_free(port):
            server = SandboxServer(app, port=port)
            server.start()
            started.append(server)
    return started
