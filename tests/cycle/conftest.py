"""A connected company on the QuickBooks sandbox, and the cycle's dependencies pointed at it."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.quickbooks.limiter import LimiterRegistry
from connectors.quickbooks.sandbox import QboSandboxConfig, create_app
from connectors.sandbox import SandboxClock, SandboxServer
from connectors.sandbox.scenario import Scenario
from integration.config import Settings, load_settings
from integration.cycle.providers import connector_factory
from integration.cycle.run import CycleDeps, CycleSummary, cycle_once
from integration.store.connections import OwnerIdentity, connect_company
from integration.store.db import transaction
from integration.store.models import Action, Organization, OrganizationRules
from oauth.crypto import TokenCipher, TokenSet
from reminders.delivery import OutboxSender
from tests.sandbox.conftest import RunningSandbox, small_scenario

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)  # 10:00 in Denver, a Monday


@dataclass
class World:
    qbo: RunningSandbox
    clock: SandboxClock
    settings: Settings
    sessions: sessionmaker[Session]
    outbox: OutboxSender
    organization_id: int
    connection_id: int
    sleeps: list[float]

    def sleep(self, seconds: float) -> None:
        """Waiting moves the sandbox clock instead of the test's wall time."""
        self.sleeps.append(seconds)
        # Rounded up to the clock's microsecond: a wait of 1e-7 s must still move time forward.
        self.clock.advance(dt.timedelta(microseconds=math.ceil(seconds * 1_000_000)))

    def deps(self, skew: dt.timedelta = dt.timedelta(0), **overrides: object) -> CycleDeps:
        """`skew`: how far arpilot's clock is ahead of the sandbox's (negative: behind)."""

        def now() -> dt.datetime:
            return self.clock.now() + skew

        limiters = LimiterRegistry(clock=lambda: now().timestamp(), sleep=self.sleep)
        values: dict[str, object] = dict(
            sessions=self.sessions,
            connectors=connector_factory(self.settings, self.sessions, clock=now, sleep=self.sleep, limiters=limiters),
            sender=self.outbox,
            clock=now,
            sleep=self.sleep,
        )
        values.update(overrides)
        return CycleDeps(**values)  # type: ignore[arg-type]

    def cycle(self, **overrides: object) -> CycleSummary:
        return cycle_once(self.deps(**overrides), self.connection_id)

    def set_rules(self, rules: dict[str, object]) -> None:
        with transaction(self.sessions) as session:
            stored = session.scalar(
                select(OrganizationRules).where(OrganizationRules.organization_id == self.organization_id)
            )
            if stored is None:
                session.add(OrganizationRules(organization_id=self.organization_id, rules=rules))
            else:
                stored.rules = rules

    def actions(self) -> list[Action]:
        with self.sessions() as session:
            return list(session.scalars(select(Action).order_by(Action.id)))

    def notes(self) -> dict[str, str]:
        return self.qbo.admin("GET", f"/companies/{self.qbo.realm}/notes").json()["invoices"]


def connect(
    qbo: RunningSandbox, sessions: sessionmaker[Session], settings: Settings, scenario: Scenario
) -> tuple[int, int]:
    minted = qbo.minted()
    now = qbo.sandbox.clock.now()
    tokens = TokenSet(
        access_token=minted["access_token"],
        refresh_token=minted["refresh_token"],
        access_expires_at=now + dt.timedelta(seconds=int(minted.get("expires_in", 3600))),
        refresh_expires_at=None,
        external_id=qbo.realm,
    )
    with transaction(sessions) as session:
        user, connection = connect_company(
            session,
            identity=OwnerIdentity("quickbooks", "owner-1", "owner@harborpine.example", "Pat Owner"),
            external_id=qbo.realm,
            display_name=scenario.company.name,
            tokens=tokens,
            cipher=TokenCipher(settings.token_encryption_keys),
        )
        organization = session.get(Organization, user.organization_id)
        assert organization is not None
        organization.timezone = scenario.company.timezone
        organization.base_currency = scenario.company.currency
        return organization.id, connection.id


def make_world(
    scenario: Scenario, sessions: sessionmaker[Session], tmp_path: Path, config: QboSandboxConfig | None = None
) -> Iterator[World]:
    clock = SandboxClock(NOW)
    clock.freeze()
    app = create_app(config or QboSandboxConfig(), scenario=scenario, clock=clock)
    server = SandboxServer(app)
    base_url = server.start()
    qbo = RunningSandbox(app, app.extensions["qbo_sandbox"], base_url)
    settings = load_settings(
        {
            "ARPILOT_VAR_DIR": str(tmp_path / "var"),
            "QUICKBOOKS_ENVIRONMENT": qbo.sandbox.discovery_url(base_url),
            "ARPILOT_EMBEDDED_CLOCK": "0",
        }
    )
    organization_id, connection_id = connect(qbo, sessions, settings, scenario)
    try:
        yield World(
            qbo, clock, settings, sessions, OutboxSender(tmp_path / "outbox"), organization_id, connection_id, []
        )
    finally:
        server.stop()


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    yield from make_world(small_scenario(NOW.date()), sessions, tmp_path)
