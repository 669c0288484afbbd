"""The QuickBooks Online sandbox: state container and Flask app factory.

    app = create_app(QboSandboxConfig(), scenario=my_scenario)
    base_url = SandboxServer(app).start()
    sandbox = app.extensions["qbo_sandbox"]  # QboSandbox: companies, tokens, runtime

Point intuit-oauth at `sandbox.discovery_url(base_url)` (as `environment=`) and python-quickbooks
at `sandbox.api_base(base_url)` (`qb.api_url_v3 = qb.sandbox_api_url_v3 = ...`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from connectors.quickbooks.sandbox.company import Company
from connectors.quickbooks.sandbox.notifications import FORMATS, SIGNATURE_HEADER, notification_body
from connectors.quickbooks.sandbox.seed import company_from_scenario
from connectors.sandbox.admin import make_admin_blueprint
from connectors.sandbox.clock import SandboxClock
from connectors.sandbox.jsonio import DecimalJSONProvider
from connectors.sandbox.runtime import SandboxRuntime, refuse_in_production
from connectors.sandbox.scenario import Scenario, generate_demo_company
from connectors.sandbox.tokens import RotationPolicy, TokenAuthority

# Intuit: access 1 h; refresh rolling ~101 days, same value returned for ~24 h, the superseded one
# dies at once (grace configurable); 5-year hard maximum.
QUICKBOOKS_ROTATION = RotationPolicy(
    reuse_window=dt.timedelta(hours=24),
    grace=dt.timedelta(0),
    refresh_lifetime=dt.timedelta(seconds=8_726_400),
    hard_lifetime=dt.timedelta(days=5 * 365),
)
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
FIRST_REALM = 9130357000000001


@dataclass(frozen=True)
class QboSandboxConfig:
    client_id: str = "ABarpilotSandboxClientIdQBO0000000000000000000000"
    client_secret: str = "arpilotSandboxSecretQBO000000000000000"
    verifier_token: str = "arpilot-sandbox-verifier-token"
    redirect_uris: tuple[str, ...] = ()  # empty: any http(s) redirect URI is accepted
    app_name: str = "arpilot"
    requests_per_minute: int = 500
    concurrent_requests: int = 10
    batch_requests_per_minute: int = 40
    batch_max_items: int = 30
    latency_ms: int = 0
    rotation: RotationPolicy = QUICKBOOKS_ROTATION


@dataclass(frozen=True)
class SandboxUser:
    sub: str
    email: str
    given_name: str
    family_name: str
    phone: str = "+1 555 0100"


class QboSandbox:
    def __init__(self, config: QboSandboxConfig, clock: SandboxClock | None = None) -> None:
        self.config = config
        self.runtime = SandboxRuntime(
            clock=clock or SandboxClock(),
            latency_ms=config.latency_ms,
            limits={
                "requests_per_minute": config.requests_per_minute,
                "concurrent_requests": config.concurrent_requests,
                "batch_requests_per_minute": config.batch_requests_per_minute,
                "batch_max_items": config.batch_max_items,
            },
        )
        self.authority = TokenAuthority(self.runtime.clock, config.rotation)
        self.companies: dict[str, Company] = {}
        # The same person every time the sandbox starts, as an Intuit account is: reconnecting finds them.
        self.user = SandboxUser(
            sub=uuid.uuid5(uuid.NAMESPACE_URL, "arpilot-sandbox/quickbooks/owner").hex,
            email="owner@sandbox.example",
            given_name="Sandbox",
            family_name="Owner",
        )
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(8)
        self.webhook_format = {"format": FORMATS[0]}
        self._lock = threading.Lock()

    @property
    def clock(self) -> SandboxClock:
        return self.runtime.clock

    def discovery_url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/.well-known/openid_configuration"

    def api_base(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/v3"

    def load_scenario(self, scenario: Scenario, realm_id: str | None = None) -> Company:
        """Add a company seeded from `scenario`, or replace the one with `realm_id`."""
        with self._lock:
            realm = realm_id or str(FIRST_REALM + len(self.companies))
            while realm_id is None and realm in self.companies:
                realm = str(int(realm) + 1)
            company = company_from_scenario(scenario, realm, self.clock)
            company.listeners.append(self._notify)
            self.companies[realm] = company
            return company

    def company(self, realm_id: str) -> Company | None:
        return self.companies.get(realm_id)

    def _notify(self, company: Company, entity: str, entity_id: str, operation: str, at: dt.datetime) -> None:
        if self.runtime.webhooks.target is None:
            return
        self.runtime.webhooks.send(
            notification_body(self.webhook_format["format"], company.realm_id, entity, entity_id, operation, at)
        )

    def send_notification(self, company: Company, entity: str, entity_id: str, operation: str) -> bool:
        if self.runtime.webhooks.target is None:
            return False
        self._notify(company, entity, entity_id, operation, self.clock.now())
        return True


def create_app(
    config: QboSandboxConfig | None = None,
    *,
    scenario: Scenario | None = None,
    clock: SandboxClock | None = None,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    """The sandbox app, seeded with `scenario` (default: the demo company as of the clock's today)."""
    refuse_in_production(environ)
    from connectors.quickbooks.sandbox import admin, api, oauth, paypage

    sandbox = QboSandbox(config or QboSandboxConfig(), clock)
    sandbox.load_scenario(scenario or generate_demo_company(as_of=sandbox.clock.now().date()))
    app = Flask(__name__)
    app.json = DecimalJSONProvider(app)
    app.extensions["qbo_sandbox"] = sandbox
    sandbox.runtime.install(app)
    admin_bp = make_admin_blueprint(
        sandbox.runtime,
        webhook_header=SIGNATURE_HEADER,
        webhook_key=sandbox.config.verifier_token,
        webhook_formats=FORMATS,
    )
    sandbox.webhook_format = admin_bp.webhook_state
    admin.add_routes(admin_bp, sandbox)
    app.register_blueprint(admin_bp)
    app.register_blueprint(oauth.make_blueprint(sandbox))
    app.register_blueprint(api.make_blueprint(sandbox))
    app.register_blueprint(paypage.make_blueprint(sandbox))
    return app
