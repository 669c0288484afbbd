"""The Xero sandbox on loopback, arpilot's web app pointed at it, and a person's path through consent."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.sandbox import SandboxServer
from connectors.sandbox.consent import click_through
from connectors.xero.sandbox import XeroSandboxConfig
from connectors.xero.sandbox import create_app as create_sandbox
from integration.store.models import Connection
from oauth.xero import XeroOAuth, XeroSettings
from tests.oauth.sandbox_flow import LoopbackSandbox

REDIRECT_URI = "http://127.0.0.1:5000/connect/xero/callback"


@dataclass
class XeroSandbox(LoopbackSandbox):
    config: XeroSettings
    webhook_key: str

    def oauth(self) -> XeroOAuth:
        return XeroOAuth(self.config, clock=self.now)

    def tenant_ids(self) -> dict[str, str]:
        """short code -> tenant id"""
        answer = requests.get(f"{self.base_url}/_sandbox/organisations", timeout=10).json()
        rows = answer["organisations"] if isinstance(answer, dict) else answer
        return {row["short_code"]: row["tenant_id"] for row in rows}


def running_xero_sandbox() -> Iterator[XeroSandbox]:
    defaults = XeroSandboxConfig()
    with SandboxServer(create_sandbox(defaults)) as server:
        base = server.base_url
        yield XeroSandbox(
            base,
            XeroSettings(
                client_id=defaults.client_id,
                client_secret=defaults.client_secret,
                identity_url=base,
                api_url=base,
                redirect_uri=REDIRECT_URI,
                authorize_url=f"{base}/identity/connect/authorize",
            ),
            defaults.webhook_key,
        )


def consent(client: FlaskClient, tenants: list[str], *, decision: str = "connect") -> dict[str, str]:
    """Follow /connect/xero to the sandbox's consent page and answer it; the callback's query."""
    response = client.get("/connect/xero")
    assert response.status_code == 302, response.data
    location = click_through(response.headers["Location"], decision=decision, accounts=tenants)
    assert location.startswith(REDIRECT_URI), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def connect(app: Flask, client: FlaskClient, tenants: list[str]) -> dict[str, int]:
    """Connect `tenants` through the consent page; tenant id -> connection id."""
    response = client.get("/connect/xero/callback", query_string=consent(client, tenants))
    assert response.status_code == 302 and response.headers["Location"] == "/", response.data
    with app.extensions["arpilot"].sessions() as db:
        rows = db.execute(select(Connection.external_id, Connection.id).where(Connection.provider == "xero"))
        return {tenant: connection_id for tenant, connection_id in rows if tenant in tenants}
