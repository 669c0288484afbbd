"""Both sandboxes on loopback with simulated latency and their documented limits, a throwaway
database, and companies connected the way an owner connects them (tokens stored encrypted)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.databases import throwaway_database
from connectors.quickbooks.sandbox import QboSandboxConfig
from connectors.quickbooks.sandbox import create_app as create_qbo
from connectors.sandbox import SandboxServer
from connectors.sandbox.scenario import Scenario
from connectors.xero.sandbox import XeroSandboxConfig
from connectors.xero.sandbox import create_app as create_xero
from integration.config import Settings, load_settings
from integration.owner.stored_rules import save_rules
from integration.store.connections import OwnerIdentity, connect_company
from integration.store.db import make_engine, make_session_factory, transaction
from integration.store.models import Organization
from oauth.crypto import TokenCipher, TokenSet

ROOT = Path(__file__).resolve().parents[1]
# Live, and allowed to send at any hour of any day, so the figures do not depend on when the bench runs.
BENCH_RULES = {
    "mode": "live",
    "schedule": {"send_from_hour": 0, "send_until_hour": 24, "business_days": [1, 2, 3, 4, 5, 6, 7]},
}


@dataclass
class Connected:
    provider: str
    connection_id: int
    key: str  # the sandbox's name for the company: QuickBooks realm id, Xero short code
    scenario: Scenario


@dataclass
class BenchWorld:
    database_url: str
    var_dir: Path
    qbo_url: str
    xero_url: str
    qbo_app: Any
    xero_app: Any
    settings: Settings = field(init=False)
    connected: list[Connected] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.settings = load_settings(self.env())
        self.sessions = make_session_factory(make_engine(self.database_url))

    def env(self) -> dict[str, str]:
        """The environment a worker process of this world runs with."""
        xero = self.xero_app.extensions["xero_sandbox"].config
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "ARPILOT_VAR_DIR": str(self.var_dir),
            "ARPILOT_EMBEDDED_CLOCK": "0",
            "QUICKBOOKS_ENVIRONMENT": f"{self.qbo_url}/.well-known/openid_configuration",
            "XERO_CLIENT_ID": xero.client_id,
            "XERO_CLIENT_SECRET": xero.client_secret,
            "XERO_IDENTITY_URL": self.xero_url,
            "XERO_API_URL": self.xero_url,
            # A database of its own, so its rate-limit buckets never mix with other runs on the same Redis.
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        }

    def worker_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bench.worker", *args]

    def admin(self, provider: str, method: str, path: str, **kwargs: Any) -> Any:
        base = self.qbo_url if provider == "quickbooks" else self.xero_url
        response = requests.request(method, f"{base}/_sandbox{path}", timeout=60, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(
                f"{provider} sandbox admin {method} {path}: {response.status_code} {response.text[:300]}"
            )
        return response.json()

    def counters(self, provider: str) -> dict[str, Any]:
        return self.admin(provider, "GET", "/requests")

    def reset_counters(self) -> None:
        for provider in ("quickbooks", "xero"):
            self.admin(provider, "DELETE", "/requests")

    def add(self, provider: str, scenario: Scenario) -> Connected:
        """Load `scenario` into the provider's sandbox and connect it (a new organization each time)."""
        n = len(self.connected)
        if provider == "quickbooks":
            key = self.qbo_app.extensions["qbo_sandbox"].load_scenario(scenario).realm_id
            minted = self.admin(provider, "POST", "/tokens", json={"realm_id": key})
            external_id, scope = key, ()
        else:
            key = f"bench{n}"
            self.xero_app.extensions["xero_sandbox"].load_scenario(scenario, key)
            minted = self.admin(provider, "POST", "/tokens", json={"tenants": [key]})
            external_id, scope = minted["tenant_ids"][0], tuple(minted["scope"].split())
        now = dt.datetime.now(dt.UTC)
        tokens = TokenSet(
            access_token=minted["access_token"],
            refresh_token=minted["refresh_token"],
            access_expires_at=now + dt.timedelta(seconds=int(minted["expires_in"])),
            refresh_expires_at=None,
            external_id=external_id,
            scope=scope,
        )
        with transaction(self.sessions) as session:
            user, connection = connect_company(
                session,
                identity=OwnerIdentity(provider, f"bench-owner-{n}", f"owner{n}@bench.example", f"Owner {n}"),
                external_id=external_id,
                display_name=scenario.company.name,
                tokens=tokens,
                cipher=TokenCipher(self.settings.token_encryption_keys),
            )
            organization = session.get(Organization, user.organization_id)
            assert organization is not None
            organization.timezone, organization.base_currency = scenario.company.timezone, scenario.company.currency
            save_rules(session, organization.id, BENCH_RULES)
            connected = Connected(provider, connection.id, key, scenario)
        self.connected.append(connected)
        return connected


@contextmanager
def bench_world(*, latency_ms: int, database: str = "postgresql") -> Iterator[BenchWorld]:
    """Both sandboxes at their documented limits with `latency_ms` added to every API answer."""
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_database(database))
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="arpilot-bench-var-")))
        apps, urls = [], []
        for create, config in (
            (create_qbo, QboSandboxConfig(latency_ms=latency_ms)),
            (create_xero, XeroSandboxConfig(latency_ms=latency_ms)),
        ):
            app = create(config)
            server = SandboxServer(app)
            urls.append(server.start())
            stack.callback(server.stop)
            apps.append(app)
        world = BenchWorld(database_url, var_dir, urls[0], urls[1], apps[0], apps[1])
        for provider in ("quickbooks", "xero"):
            assert world.admin(provider, "GET", "/limits")["latency_ms"] == latency_ms
        stack.callback(world.sessions.kw["bind"].dispose)
        yield world
