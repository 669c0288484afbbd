"""Fixtures for the sandbox tests: a small scenario, a QuickBooks sandbox on loopback, and the
real SDKs (intuit-oauth, python-quickbooks) pointed at it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from flask import Flask
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from quickbooks import QuickBooks

from connectors.quickbooks.sandbox import QboSandbox, QboSandboxConfig, create_app
from connectors.sandbox import SandboxServer
from connectors.sandbox.scenario import (
    Scenario,
    ScenarioCompany,
    ScenarioCustomer,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
)

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: tests read the Location header
APOSTROPHE_NAME = "O'Brien\\Sons Hardware"


def small_scenario(as_of: dt.date = dt.date(2026, 11, 23)) -> Scenario:
    """Three customers (one named with an apostrophe and a backslash, one without email), five invoices."""
    customers = (
        ScenarioCustomer("cust-01", "Acme Plumbing", "ap@acme.example", "+1-555-0101", "USD", 30),
        ScenarioCustomer("cust-02", APOSTROPHE_NAME, "ap@obrien.example", None, "USD", 15),
        ScenarioCustomer("cust-03", "Cobalt Dental", None, None, "USD", 30),
    )

    def invoice(n: int, customer: str, issued: dt.date, amount: str) -> ScenarioInvoice:
        terms = 15 if customer == "cust-02" else 30
        return ScenarioInvoice(
            f"inv-{n}",
            str(n),
            customer,
            issued,
            issued + dt.timedelta(days=terms),
            "USD",
            (ScenarioLine("Monthly maintenance", Decimal(amount)),),
        )

    invoices = (
        invoice(1001, "cust-01", as_of - dt.timedelta(days=60), "1200.00"),
        invoice(1002, "cust-01", as_of - dt.timedelta(days=20), "450.50"),
        invoice(1003, "cust-02", as_of - dt.timedelta(days=40), "300.00"),
        invoice(1004, "cust-03", as_of - dt.timedelta(days=10), "99.99"),
        invoice(1005, "cust-02", as_of - dt.timedelta(days=5), "75.25"),
    )
    payments = (
        ScenarioPayment("pay-1", "cust-01", as_of - dt.timedelta(days=25), "USD", (("inv-1001", Decimal("1200.00")),)),
        ScenarioPayment("pay-2", "cust-02", as_of - dt.timedelta(days=3), "USD", (("inv-1003", Decimal("100.00")),)),
    )
    company = ScenarioCompany("Harbor & Pine Landscaping", "America/Denver", "USD", region="CO")
    return Scenario(company, as_of, customers, invoices, payments)


@dataclass
class RunningSandbox:
    app: Flask
    sandbox: QboSandbox
    base_url: str

    @property
    def realm(self) -> str:
        return next(iter(self.sandbox.companies))

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(method, f"{self.base_url}/_sandbox{path}", timeout=10, **kwargs)  # type: ignore[arg-type]

    def auth_client(self, **kwargs: object) -> AuthClient:
        config = self.sandbox.config
        return AuthClient(
            config.client_id, config.client_secret, REDIRECT_URI, self.sandbox.discovery_url(self.base_url), **kwargs
        )  # type: ignore[arg-type]

    def minted(self, scopes: list[str] | None = None) -> dict[str, str]:
        body = {"realm_id": self.realm, **({"scopes": scopes} if scopes else {})}
        response = self.admin("POST", "/tokens", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def client(self, access_token: str | None = None, refresh_token: str | None = None) -> QuickBooks:
        """python-quickbooks on the sandbox; with no tokens given, minted ones."""
        if access_token is None:
            tokens = self.minted()
            access_token, refresh_token = tokens["access_token"], tokens["refresh_token"]
        auth = self.auth_client(access_token=access_token, refresh_token=refresh_token, realm_id=self.realm)
        qb = QuickBooks(auth_client=auth, refresh_token=refresh_token, company_id=self.realm, minorversion=75)
        qb.api_url_v3 = qb.sandbox_api_url_v3 = self.sandbox.api_base(self.base_url)
        return qb

    def consent(self, scopes: list[Scopes], *, decision: str = "connect") -> tuple[AuthClient, dict[str, str]]:
        """Walk the consent page as a browser would; returns the auth client and the callback query."""
        auth = self.auth_client()
        url = auth.get_authorization_url(scopes)
        page = requests.get(url, timeout=10)
        assert page.status_code == 200, page.text
        form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        accounts = re.findall(r'name="account" value="(\d+)"', page.text)
        form.update(account=accounts[0], decision=decision)
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        answer = requests.post(self.base_url + action, data=form, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith(REDIRECT_URI)
        return auth, {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


@pytest.fixture(autouse=True)
def _loopback_http(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http:// unless told this is a loopback test; never set outside tests.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def qbo_config() -> QboSandboxConfig:
    return QboSandboxConfig()


@pytest.fixture
def qbo(qbo_config: QboSandboxConfig) -> Iterator[RunningSandbox]:
    app = create_app(qbo_config, scenario=small_scenario())
    server = SandboxServer(app)
    base_url = server.start()
    try:
        yield RunningSandbox(app, app.extensions["qbo_sandbox"], base_url)
    finally:
        server.stop()
