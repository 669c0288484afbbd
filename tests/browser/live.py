"""arpilot as `arpilot web` serves it, on free loopback ports: the real app over a fresh SQLite
database, and the QuickBooks and Xero sandboxes seeded with the demo company as of today.

The only difference from `arpilot web`: no in-process clock. Its jobs load their settings from the
process environment, not from this test's; a test runs a cycle with `LiveArpilot.run_cycles`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from connectors.quickbooks.limiter import LimiterRegistry
from connectors.quickbooks.sandbox import QboSandboxConfig
from connectors.quickbooks.sandbox import create_app as create_quickbooks_sandbox
from connectors.sandbox import SandboxServer
from connectors.sandbox.scenario import Scenario, generate_demo_company
from connectors.xero.sandbox import XeroSandboxConfig
from connectors.xero.sandbox import create_app as create_xero_sandbox
from integration.config import load_settings
from integration.cycle.providers import connector_factory
from integration.cycle.run import CycleSummary, cycle_once, default_deps
from integration.owner.stored_rules import load_rules, save_rules
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import Connection, Organization
from integration.web import create_app


@dataclass
class LiveArpilot:
    base_url: str
    app: Flask
    quickbooks_url: str
    xero_url: str

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def connection_ids(self) -> list[int]:
        with self.app.extensions["arpilot"].sessions() as db:
            return list(db.scalars(select(Connection.id).order_by(Connection.id)))

    def companies(self) -> list[tuple[str, str]]:
        """(provider, display name) of every connection."""
        with self.app.extensions["arpilot"].sessions() as db:
            rows = db.execute(select(Connection.provider, Connection.display_name).order_by(Connection.id))
            return [(provider, name) for provider, name in rows]

    def rules(self) -> Rules:
        """The saved rules of the one organization these tests sign up."""
        with self.app.extensions["arpilot"].sessions() as db:
            [organization_id] = db.scalars(select(Organization.id))
            return load_rules(db, organization_id)

    def set_mode(self, mode: str) -> None:
        sessions = self.app.extensions["arpilot"].sessions
        with transaction(sessions) as db:
            [organization_id] = db.scalars(select(Organization.id))
            save_rules(db, organization_id, {**load_rules(db, organization_id).to_json(), "mode": mode})

    def run_cycles(self) -> list[CycleSummary]:
        """One cycle of every connection, now, as the clock's first run after a connect would."""
        runtime = self.app.extensions["arpilot"]
        # A rate limiter of this app's own: the process-wide one would carry one test's QuickBooks
        # request budget into the next, which connects the same sandbox company.
        connectors = connector_factory(runtime.settings, runtime.sessions, limiters=LimiterRegistry())
        deps = dataclasses.replace(default_deps(runtime), connectors=connectors)
        return [cycle_once(deps, connection_id) for connection_id in self.connection_ids()]


def _not_ready(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"arpilot is starting"]


@contextmanager
def live_arpilot(var_dir: Path, scenario: Scenario | None = None) -> Iterator[LiveArpilot]:
    """`scenario`: the sandboxes' books (default: the demo company as of today)."""
    scenario = scenario or generate_demo_company(as_of=dt.date.today())
    with ExitStack() as stack:
        quickbooks = stack.enter_context(
            SandboxServer(create_quickbooks_sandbox(QboSandboxConfig(), scenario=scenario))
        )
        xero = stack.enter_context(SandboxServer(create_xero_sandbox(XeroSandboxConfig(), scenario=scenario)))
        # The port is chosen by the OS when the socket binds, and the settings (redirect URIs) need
        # it, so the server starts on a placeholder and is handed the app once it exists.
        server = make_server("127.0.0.1", 0, _not_ready, threaded=True)
        base_url = f"http://127.0.0.1:{server.server_port}"
        settings = load_settings(
            {
                "ARPILOT_VAR_DIR": str(var_dir),
                "ARPILOT_EMBEDDED_CLOCK": "0",
                "ARPILOT_BASE_URL": base_url,
                "QUICKBOOKS_ENVIRONMENT": f"{quickbooks.base_url}/.well-known/openid_configuration",
                "XERO_IDENTITY_URL": xero.base_url,
                "XERO_API_URL": xero.base_url,
            }
        )
        server.app = app = create_app(settings)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="arpilot-web", daemon=True
        )
        thread.start()
        try:
            yield LiveArpilot(base_url, app, quickbooks.base_url, xero.base_url)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            app.extensions["arpilot"].engine.dispose()
