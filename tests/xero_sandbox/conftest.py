"""Fixtures for the Xero sandbox tests: the sandbox on loopback seeded with a small scenario,
every API exchange recorded for the OpenAPI check, and the real xero-python pointed at it."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
import urllib3
from flask import Flask, Response, request
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from connectors.sandbox import SandboxServer
from connectors.xero.sandbox import XeroSandbox, XeroSandboxConfig, create_app
from tests.sandbox.conftest import small_scenario
from tests.xero_conformance import Exchange, Report, check

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: tests read the Location header
SCOPES = "openid profile email offline_access accounting.transactions accounting.contacts"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class RunningXero:
    app: Flask
    sandbox: XeroSandbox
    base_url: str
    exchanges: list[Exchange] = field(default_factory=list)
    exempt: bool = False  # set while a test sends requests that break the spec on purpose

    @property
    def config(self) -> XeroSandboxConfig:
        return self.sandbox.config

    def tenant(self, short_code: str = "demo") -> str:
        org = self.sandbox.organisation(short_code)
        assert org is not None
        return org.tenant_id

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base_url}/_sandbox{path}", timeout=10, **kwargs)

    def minted(self, tenants: list[str] | None = None, scopes: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"tenants": tenants or ["demo"]}
        if scopes:
            body["scopes"] = scopes
        response = self.admin("POST", "/tokens", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def api_client(self, token: dict[str, Any]) -> ApiClient:
        """xero-python on the sandbox holding `token` (a dict as the token endpoint returns it)."""
        store = {
            "token": {
                k: v
                for k, v in token.items()
                if k in ("access_token", "refresh_token", "scope", "expires_in", "token_type")
            }
        }
        configuration = Configuration()  # a copy of the process-wide first instance: set attributes after
        configuration.oauth2_token = OAuth2Token(
            client_id=self.config.client_id, client_secret=self.config.client_secret
        )
        client = ApiClient(
            configuration,
            oauth2_token_getter=lambda: store["token"],
            oauth2_token_saver=lambda new: store.update(token=new),
        )
        # xero-python builds a default urllib3.PoolManager, whose Retry(3) obeys Retry-After on a
        # 429 by sleeping and resending GET/PUT/DELETE, then raises urllib3's MaxRetryError instead
        # of RateLimitException. Turn that off so the SDK's own 429 handling is what is tested.
        client.rest_client.pool_manager = urllib3.PoolManager(retries=False)
        client.token_store = store  # type: ignore[attr-defined]
        return client

    def accounting(self, token: dict[str, Any]) -> AccountingApi:
        return AccountingApi(self.api_client(token), base_url=self.sandbox.accounting_base(self.base_url))

    def identity(self, token: dict[str, Any]) -> IdentityApi:
        return IdentityApi(self.api_client(token), base_url=self.base_url)

    def consent(
        self,
        *,
        tenants: list[str],
        decision: str = "connect",
        challenge: str | None = None,
        scope: str = SCOPES,
        state: str = "st-123",
    ) -> dict[str, str]:
        """Walk the consent page as a browser would; returns the callback query."""
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": state,
        }
        if challenge:
            params.update(code_challenge=challenge, code_challenge_method="S256")
        page = requests.get(f"{self.sandbox.authorize_url(self.base_url)}?{urlencode(params)}", timeout=10)
        assert page.status_code == 200, page.text
        form: dict[str, Any] = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        offered = re.findall(r'type="checkbox" name="account" value="([^"]+)"', page.text)
        assert set(tenants) <= set(offered)
        form.update(account=tenants, decision=decision)
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        answer = requests.post(self.base_url + action, data=form, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith(REDIRECT_URI)
        return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}

    def token(self, **form: str) -> requests.Response:
        return requests.post(self.sandbox.token_url(self.base_url), data=form, timeout=10)

    def advance(self, seconds: float) -> None:
        assert self.admin("POST", "/clock", json={"advance_seconds": seconds}).status_code == 200

    @contextmanager
    def deliberately_invalid(self) -> Iterator[None]:
        self.exempt = True
        try:
            yield
        finally:
            self.exempt = False

    def conformance(self) -> Report:
        return check(self.exchanges)


def _recorder(running: RunningXero):  # type: ignore[no-untyped-def]
    def record(response: Response) -> Response:
        if not request.path.startswith("/_sandbox") and not running.exempt:
            running.exchanges.append(
                Exchange(
                    request.method,
                    request.full_path.rstrip("?"),
                    dict(request.headers),
                    request.get_data() or None,
                    response.status_code,
                    dict(response.headers),
                    response.get_data() if not response.direct_passthrough else b"",
                )
            )
        return response

    return record


@pytest.fixture
def xero_config() -> XeroSandboxConfig:
    return XeroSandboxConfig()


@pytest.fixture
def xero(xero_config: XeroSandboxConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningXero]:
    app = create_app(xero_config, scenario=small_scenario())
    running = RunningXero(app, app.extensions["xero_sandbox"], "")
    app.after_request(_recorder(running))
    server = SandboxServer(app)
    running.base_url = server.start()
    monkeypatch.setattr(TokenApi, "refresh_token_url", running.sandbox.token_url(running.base_url))
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{running.base_url}/connect/revocation")
    try:
        yield running
        report = running.conformance()
        assert not report.failures, "\n".join(report.failures)
    finally:
        server.stop()
