"""The QuickBooks sandbox on loopback, and a person's path through its consent page."""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.quickbooks.sandbox import QboSandboxConfig
from connectors.quickbooks.sandbox import create_app as create_sandbox
from connectors.sandbox import SandboxServer
from integration.store.models import Connection
from oauth.crypto import TokenCipher, TokenSet
from oauth.intuit import QuickBooksSettings
from tests.oauth.webflow import start

REDIRECT_URI = "http://127.0.0.1:5000/connect/quickbooks/callback"


@dataclass
class LoopbackSandbox:
    """A sandbox served on loopback whose clock arpilot's token sources follow."""

    base_url: str
    offset: dt.timedelta = field(default=dt.timedelta(0), kw_only=True)

    def advance(self, delta: dt.timedelta) -> None:
        """Move the sandbox clock and arpilot's clock (used by the token source) together."""
        response = requests.post(
            f"{self.base_url}/_sandbox/clock", json={"advance_seconds": delta.total_seconds()}, timeout=10
        )
        response.raise_for_status()
        self.offset += delta

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@dataclass
class Sandbox(LoopbackSandbox):
    config: QuickBooksSettings


def running_sandbox() -> Iterator[Sandbox]:
    defaults = QboSandboxConfig()
    with SandboxServer(create_sandbox(defaults)) as server:
        yield Sandbox(
            server.base_url,
            QuickBooksSettings(
                client_id=defaults.client_id,
                client_secret=defaults.client_secret,
                environment=f"{server.base_url}/.well-known/openid_configuration",
                redirect_uri=REDIRECT_URI,
            ),
        )


def consent(client: FlaskClient, *, decision: str = "connect") -> tuple[str, dict[str, str]]:
    """Follow /connect/quickbooks to the sandbox's consent page and submit it as a person would."""
    authorize_url, _ = start(client)
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    form = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    realm = re.search(r'name="account" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    action = urllib.parse.urljoin(authorize_url, re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    answer = requests.post(
        action, data={**form, "account": realm, "decision": decision}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return realm, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def connect(app: Flask, client: FlaskClient) -> tuple[int, str]:
    realm, params = consent(client)
    response = client.get("/connect/quickbooks/callback", query_string=params)
    assert response.status_code == 302 and response.headers["Location"] == "/", response.data
    with app.extensions["arpilot"].sessions() as db:
        connection = db.execute(select(Connection).where(Connection.external_id == realm)).scalar_one()
    return connection.id, realm


def cipher_of(app: Flask) -> TokenCipher:
    return TokenCipher(app.extensions["arpilot"].settings.token_encryption_keys)


def stored(app: Flask, connection_id: int) -> TokenSet:
    with app.extensions["arpilot"].sessions() as db:
        return cipher_of(app).decrypt(db.get(Connection, connection_id).token_blob)
