"""The embedded default's QuickBooks: with nothing configured, `arpilot web` serves the sandbox
itself on the port the default settings point at, seeded with the demo company as of today."""

from __future__ import annotations

import datetime as dt
import socket

from connectors.quickbooks.sandbox import QboSandboxConfig, create_app
from connectors.sandbox import SandboxServer
from integration.config import EMBEDDED_QUICKBOOKS_DISCOVERY, EMBEDDED_QUICKBOOKS_PORT, Settings
from integration.scenario import generate_demo_company


def wants_embedded_quickbooks(settings: Settings) -> bool:
    return not settings.production and settings.quickbooks is not None and (
        settings.quickbooks.environment == EMBEDDED_QUICKBOOKS_DISCOVERY
    )


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start_embedded_quickbooks(settings: Settings) -> SandboxServer | None:
    """Start the sandbox unless something (say `arpilot sandbox quickbooks --port 8801`) already serves there."""
    if not wants_embedded_quickbooks(settings) or not _port_free(EMBEDDED_QUICKBOOKS_PORT):
        return None
    app = create_app(QboSandboxConfig(), scenario=generate_demo_company(as_of=dt.date.today()))
    server = SandboxServer(app, port=EMBEDDED_QUICKBOOKS_PORT)
    server.start()
    return server
