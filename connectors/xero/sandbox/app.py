"""The Xero sandbox: state container and Flask app factory.

    app = create_app(XeroSandboxConfig())          # the demo company plus a small second organisation
    base_url = SandboxServer(app).start()
    sandbox = app.extensions["xero_sandbox"]       # XeroSandbox: organisations, connections, tokens, runtime

Point xero-python at it with `AccountingApi(api_client, base_url=sandbox.accounting_base(base_url))`,
`IdentityApi(api_client, base_url=base_url)` and `TokenApi.refresh_token_url = sandbox.token_url(base_url)`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask

from connectors.sandbox.admin import make_admin_blueprint
from connectors.sandbox.clock import SandboxClock
from connectors.sandbox.jsonio import DecimalJSONProvider
from connectors.sandbox.runtime import SandboxRuntime, refuse_in_production
from connectors.sandbox.scenario import Scenario, generate_demo_company
from connectors.sandbox.tokens import Grant, RotationPolicy, TokenAuthority
from connectors.xero.sandbox.org import Organisation, stable_id
from connectors.xero.sandbox.seed import organisation_from_scenario, second_organisation_scenario

# Xero: 30-minute access tokens; a new refresh token on every refresh, the previous one still
# usable for 30 minutes; an unused refresh token dies after 60 days.
XERO_ROTATION = RotationPolicy(
    reuse_window=None,
    grace=dt.timedelta(minutes=30),
    refresh_lifetime=dt.timedelta(days=60),
    access_lifetime=dt.timedelta(minutes=30),
)
SIGNATURE_HEADER = "x-xero-signature"
DEFAULT_SCOPES = ("offline_access", "accounting.transactions", "accounting.contacts", "accounting.settings.read")


@dataclass(frozen=True)
class XeroSandboxConfig:
    client_id: str = "ARPILOTXEROSANDBOXCLIENT00000000"
    client_secret: str = "arpilot-xero-sandbox-secret-00000000000000000000"
    webhook_key: str = "arpilot-xero-sandbox-webhook-key"
    redirect_uris: tuple[str, ...] = ()  # empty: any http(s) redirect URI is accepted
    app_name: str = "arpilot"
    calls_per_minute: int = 60
    calls_per_day: int = 5000
    concurrent_calls: int = 5
    app_calls_per_minute: int = 10_000
    emails_per_day: int = 1000
    latency_ms: int = 0
    idempotency_window: dt.timedelta = dt.timedelta(minutes=6)
    rotation: RotationPolicy = XERO_ROTATION


@dataclass(frozen=True)
class SandboxUser:
    xero_userid: str
    email: str
    given_name: str
    family_name: str


@dataclass
class Connection:
    id: str
    grant_id: str
    tenant_id: str
    auth_event_id: str
    created: dt.datetime
    updated: dt.datetime


@dataclass
class XeroSandbox:
    config: XeroSandboxConfig
    runtime: SandboxRuntime
    authority: TokenAuthority = field(init=False)
    organisations: dict[str, Organisation] = field(default_factory=dict)  # tenant id -> organisation
    connections: dict[str, Connection] = field(default_factory=dict)
    # The same person every time the sandbox starts, as a Xero login is: a second `demo --keep` run
    # (a new sandbox process) reconnects the organisation its first run connected, not a stranger.
    user: SandboxUser = field(
        default_factory=lambda: SandboxUser(stable_id("user", "owner"), "owner@sandbox.example", "Sandbox", "Owner")
    )
    public_base: str = "http://127.0.0.1"  # the origin clients reach us on; set by every request
    _event_sequence: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.authority = TokenAuthority(self.runtime.clock, self.config.rotation)

    @property
    def clock(self) -> SandboxClock:
        return self.runtime.clock

    def accounting_base(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/api.xro/2.0"

    def token_url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/connect/token"

    def authorize_url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/identity/connect/authorize"

    # -- organisations ---------------------------------------------------------------------------
    def load_scenario(self, scenario: Scenario, short_code: str) -> Organisation:
        """Add the organisation seeded from `scenario` under `short_code`, or replace it (same ids)."""
        org = organisation_from_scenario(scenario, short_code, self.clock)
        org.listeners.append(self._notify)
        org.link_base = self.public_base
        with self._lock:
            self.organisations[org.tenant_id] = org
        return org

    def organisation(self, key: str) -> Organisation | None:
        """By tenant id or short code."""
        with self._lock:
            org = self.organisations.get(key) or self.organisations.get(stable_id("tenant", key))
        return org

    # -- connections -----------------------------------------------------------------------------
    def connect(self, grant: Grant, tenant_ids: list[str]) -> list[Connection]:
        """Connections for the organisations one consent (one auth event) granted."""
        now = self.clock.now()
        auth_event = str(uuid.uuid4())
        made = [Connection(str(uuid.uuid4()), grant.id, tenant, auth_event, now, now) for tenant in tenant_ids]
        with self._lock:
            for connection in made:
                self.connections[connection.id] = connection
        return made

    def connections_of(self, grant: Grant) -> list[Connection]:
        with self._lock:
            return [c for c in self.connections.values() if c.grant_id == grant.id]

    def disconnect(self, connection_id: str, grant: Grant | None = None) -> bool:
        with self._lock:
            connection = self.connections.get(connection_id)
            if connection is None or (grant is not None and connection.grant_id != grant.id):
                return False
            del self.connections[connection_id]
            return True

    def drop_grant(self, grant: Grant) -> int:
        with self._lock:
            gone = [c.id for c in self.connections.values() if c.grant_id == grant.id]
            for connection_id in gone:
                del self.connections[connection_id]
            return len(gone)

    def reachable(self, grant: Grant, tenant_id: str) -> bool:
        return any(c.tenant_id == tenant_id for c in self.connections_of(grant))

    # -- webhooks --------------------------------------------------------------------------------
    def event_body(self, events: list[dict[str, str]]) -> bytes:
        with self._lock:
            first = self._event_sequence + 1
            self._event_sequence += max(len(events), 1)
            last = self._event_sequence
        payload = {
            "events": events,
            "firstEventSequence": first if events else 0,
            "lastEventSequence": last if events else 0,
            "entropy": secrets.token_hex(10).upper(),
        }
        return json.dumps(payload, separators=(",", ":")).encode("utf-8")

    def event(
        self, org: Organisation, category: str, resource_id: str, event_type: str, at: dt.datetime
    ) -> dict[str, str]:
        collection = {"INVOICE": "Invoices", "CONTACT": "Contacts"}[category]
        return {
            "resourceUrl": f"{self.accounting_base(self.public_base)}/{collection}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            "eventType": event_type,
            "eventCategory": category,
            "tenantId": org.tenant_id,
            "tenantType": "ORGANISATION",
        }

    def _notify(self, org: Organisation, category: str, resource_id: str, event_type: str, at: dt.datetime) -> None:
        if self.runtime.webhooks.target is not None:
            self.runtime.webhooks.send(self.event_body([self.event(org, category, resource_id, event_type, at)]))


def create_app(
    config: XeroSandboxConfig | None = None,
    *,
    scenario: Scenario | None = None,
    clock: SandboxClock | None = None,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    """The sandbox app holding `scenario` (default: the demo company as of the clock's today) as
    organisation `demo` and the small second organisation as `second`."""
    refuse_in_production(environ)
    from connectors.xero.sandbox import admin, api, identity, online

    config = config or XeroSandboxConfig()
    runtime = SandboxRuntime(
        clock=clock or SandboxClock(),
        latency_ms=config.latency_ms,
        limits={
            "calls_per_minute": config.calls_per_minute,
            "calls_per_day": config.calls_per_day,
            "concurrent_calls": config.concurrent_calls,
            "app_calls_per_minute": config.app_calls_per_minute,
            "emails_per_day": config.emails_per_day,
        },
    )
    sandbox = XeroSandbox(config, runtime)
    today = sandbox.clock.now().date()
    sandbox.load_scenario(scenario or generate_demo_company(as_of=today), "demo")
    sandbox.load_scenario(second_organisation_scenario(scenario.as_of if scenario else today), "second")
    app = Flask(__name__)
    app.json = DecimalJSONProvider(app)
    app.extensions["xero_sandbox"] = sandbox
    runtime.install(app)
    admin_bp = make_admin_blueprint(runtime, webhook_header=SIGNATURE_HEADER, webhook_key=config.webhook_key)
    admin.add_routes(admin_bp, sandbox)
    app.register_blueprint(admin_bp)
    app.register_blueprint(identity.make_blueprint(sandbox))
    app.register_blueprint(api.make_blueprint(sandbox))
    app.register_blueprint(online.make_blueprint(sandbox))
    return app
