"""Production mode: strict headers on every response (HSTS included), secure cookies, and no sandbox
(nor its /_sandbox/ admin API) anywhere in the process."""

from __future__ import annotations

import secrets

import pytest
from cryptography.fernet import Fernet

from connectors.quickbooks.sandbox import create_app as create_quickbooks_sandbox
from connectors.sandbox import SandboxRefused, SandboxServer
from connectors.xero.sandbox import create_app as create_xero_sandbox
from integration.config import load_settings
from integration.demo.embedded import start_embedded_sandboxes
from integration.store.db import upgrade
from integration.web import create_app
from integration.web.request_limits import CONFIG_KEY, Limit, LimitedGroup
from integration.web.security import CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY

PRODUCTION = {"ARPILOT_ENV": "production"}


@pytest.fixture
def production_settings(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'arpilot.db'}"
    upgrade(url)  # production never creates its schema itself (`arpilot db upgrade` on release)
    return load_settings(
        {
            **PRODUCTION,
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ARPILOT_VAR_DIR": str(tmp_path),
        }
    )


def test_every_production_response_carries_strict_headers(production_settings) -> None:  # type: ignore[no-untyped-def]
    one_attempt = (LimitedGroup("sign-in", ("/connect/",), Limit(1, 60), json=False),)
    app = create_app(production_settings, test_config={CONFIG_KEY: one_attempt})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    client = app.test_client()
    responses = [
        client.get(rule.rule)
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments
    ]
    responses += [
        client.get("/no-such-page"),
        client.put("/healthz"),
        client.get("/connect/xero"),  # 404, 405, 429
        client.post("/webhooks/quickbooks", data=b"{}"),
    ]
    assert {r.status_code for r in responses} >= {200, 404, 405, 429}
    for response in responses:
        headers = response.headers
        assert headers["Strict-Transport-Security"] == STRICT_TRANSPORT_SECURITY
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("factory", [create_quickbooks_sandbox, create_xero_sandbox])
def test_sandboxes_refuse_to_start_in_production(factory, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SandboxRefused, match="ARPILOT_ENV=production"):
        factory(environ=PRODUCTION)
    app = factory(environ={})  # built elsewhere, then handed to a production process
    monkeypatch.setenv("ARPILOT_ENV", "production")
    with pytest.raises(SandboxRefused):
        SandboxServer(app).start()  # its emulated API and /_sandbox/ admin are never served


def test_the_web_process_starts_no_sandbox_in_production(production_settings) -> None:  # type: ignore[no-untyped-def]
    assert start_embedded_sandboxes(production_settings) == []
