"""A company connected on the Xero sandbox, and the cycle's dependencies pointed at it."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.sandbox import SandboxClock, SandboxServer
from connectors.sandbox.scenario import Scenario
from connectors.xero.limiter import XeroLimiter
from connectors.xero.sandbox import XeroSandbox, XeroSandboxConfig, create_app
from integration.config import Settings, load_settings
from integration.cycle.providers import connector_factory
from integration.cycle.run import CycleDeps, CycleSummary, cycle_once
from integration.owner.stored_rules import save_rules
from integration.store.connections import OwnerIdentity, connect_company
from integration.store.db import transaction
from integration.store.models import Action, Organization
from oauth.crypto import TokenCipher, TokenSet
from reminders.delivery import OutboxSender
from tests.cycle.conftest import NOW, World, make_world
from tests.xero_conformance import Exchange


@dataclass
class XeroWorld:
    base_url: str
    clock: SandboxClock
    settings: Settings
    sessions: sessionmaker[Session]
    outbox: OutboxSender
    organization_id: int
    connection_id: int
    tenant_id: str
    sleeps: list[float]
    exchanges: list[Exchange]
    app: Flask  # the running emulator, for tests that read its books directly

    @property
    def sandbox(self) -> XeroSandbox:
        return self.app.extensions["xero_sandbox"]

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base_url}/_sandbox{path}", timeout=10, **kwargs)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(dt.timedelta(microseconds=math.ceil(seconds * 1_000_000)))

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    def now(self) -> dt.datetime:
        return self.clock.now()

    def deps(self, skew: dt.timedelta = dt.timedelta(0)) -> CycleDeps:
        """`skew`: how far arpilot's clock is ahead of the sandbox's (negative: behind)."""
        clock = _SkewedClock(self, skew)
        return CycleDeps(
            sessions=self.sessions,
            connectors=connector_factory(
                self.settings, self.sessions, clock=clock.now, sleep=self.sleep, xero_limiter=XeroLimiter(clock=clock)
            ),
            sender=self.outbox,
            clock=clock.now,
            sleep=self.sleep,
        )

    def cycle(self) -> CycleSummary:
        return cycle_once(self.deps(), self.connection_id)

    def set_rules(self, rules: dict[str, object]) -> None:
        with transaction(self.sessions) as session:
            save_rules(session, self.organization_id, rules)

    def actions(self) -> list[Action]:
        with self.sessions() as session:
            return list(session.scalars(select(Action).order_by(Action.id)))

    def history(self) -> dict[str, list[dict[str, Any]]]:
        return self.admin("GET", "/organisations/demo/history").json()["invoices"]


@dataclass
class _SkewedClock:
    """The world's clock as arpilot sees it: `skew` ahead of the sandbox's; waiting moves both."""

    world: XeroWorld
    skew: dt.timedelta

    def now(self) -> dt.datetime:
        return self.world.now() + self.skew

    def monotonic(self) -> float:
        return self.now().timestamp()

    def sleep(self, seconds: float) -> None:
        self.world.sleep(seconds)


def _recorder(exchanges: list[Exchange]):  # type: ignore[no-untyped-def]
    """Keeps every Accounting API exchange as seen on the wire, for the OpenAPI check."""

    def record(response: Response) -> Response:
        if request.path.startswith("/api.xro/"):
            query = request.query_string.decode()
            exchanges.append(
                Exchange(
                    request.method,
                    request.path + (f"?{query}" if query else ""),
                    dict(request.headers),
                    request.get_data() or None,
                    response.status_code,
                    dict(response.headers),
                    b"" if response.direct_passthrough else response.get_data(),
                )
            )
        return response

    return record


def make_xero_world(
    scenario: Scenario, sessions: sessionmaker[Session], tmp_path: Path, config: XeroSandboxConfig | None = None
) -> Iterator[XeroWorld]:
    clock = SandboxClock(NOW)
    clock.freeze()
    config = config or XeroSandboxConfig()
    app = create_app(config, scenario=scenario, clock=clock)
    exchanges: list[Exchange] = []
    app.after_request(_recorder(exchanges))
    server = SandboxServer(app)
    base_url = server.start()
    settings = load_settings(
        {
            "ARPILOT_VAR_DIR": str(tmp_path / "var"),
            "ARPILOT_EMBEDDED_CLOCK": "0",
            "XERO_CLIENT_ID": config.client_id,
            "XERO_CLIENT_SECRET": config.client_secret,
            "XERO_IDENTITY_URL": base_url,
            "XERO_API_URL": base_url,
        }
    )
    minted = requests.post(f"{base_url}/_sandbox/tokens", json={"tenants": ["demo"]}, timeout=10).json()
    tenant_id = minted["tenant_ids"][0]
    tokens = TokenSet(
        access_token=minted["access_token"],
        refresh_token=minted["refresh_token"],
        access_expires_at=NOW + dt.timedelta(seconds=int(minted["expires_in"])),
        refresh_expires_at=None,
        external_id=tenant_id,
        scope=tuple(minted["scope"].split()),
    )
    with transaction(sessions) as session:
        user, connection = connect_company(
            session,
            identity=OwnerIdentity("xero", "owner-x", "owner@harborpine.example", "Pat Owner"),
            external_id=tenant_id,
            display_name=scenario.company.name,
            tokens=tokens,
            cipher=TokenCipher(settings.token_encryption_keys),
        )
        organization = session.get(Organization, user.organization_id)
        assert organization is not None
        organization.timezone, organization.base_currency = scenario.company.timezone, scenario.company.currency
        ids = (organization.id, connection.id)
    try:
        yield XeroWorld(
            base_url, clock, settings, sessions, OutboxSender(tmp_path / "outbox"), *ids, tenant_id, [], exchanges, app
        )
    finally:
        server.stop()


def live_world(
    provider: str, scenario: Scenario, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[World | XeroWorld]:
    """A company on either provider's sandbox, in live mode: the same test for both providers."""
    make = make_world if provider == "quickbooks" else make_xero_world
    for world in make(scenario, sessions, tmp_path):  # type: ignore[operator]
        world.set_rules({"mode": "live"})
        yield world


@pytest.fixture
def xero_world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[XeroWorld]:
    from tests.sandbox.conftest import small_scenario

    yield from make_xero_world(small_scenario(NOW.date()), sessions, tmp_path)
