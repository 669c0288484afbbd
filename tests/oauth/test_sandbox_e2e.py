"""End to end against the QuickBooks sandbox on loopback: consent page, callback, refresh, revoke."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.base import AuthExpired
from connectors.quickbooks.sandbox import QboSandboxConfig, create_app as create_sandbox
from connectors.sandbox import SandboxServer
from integration.config import QuickBooksSettings
from integration.models import Connection, ConnectionStatus
from integration.web import create_app
from oauth.crypto import TokenCipher
from oauth.intuit import IntuitOAuth, InvalidGrant
from oauth.refresh import ConnectionTokenSource
from tests.oauth.webflow import csrf_token, start

REDIRECT_URI = "http://127.0.0.1:5000/connect/quickbooks/callback"


@dataclass
class Sandbox:
    base_url: str
    config: QuickBooksSettings
    offset: dt.timedelta = dt.timedelta(0)

    def advance(self, delta: dt.timedelta) -> None:
        """Move the sandbox clock and arpilot's clock (used by the token source) together."""
        response = requests.post(f"{self.base_url}/_sandbox/clock", json={"advance_seconds": delta.total_seconds()}, timeout=10)
        response.raise_for_status()
        self.offset += delta

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    defaults = QboSandboxConfig()
    with SandboxServer(create_sandbox(defaults)) as server:
        yield Sandbox(server.base_url, QuickBooksSettings(
            client_id=defaults.client_id, client_secret=defaults.client_secret,
            environment=f"{server.base_url}/.well-known/openid_configuration", redirect_uri=REDIRECT_URI,
        ))


@pytest.fixture
def app(settings, sandbox: Sandbox) -> Flask:  # type: ignore[no-untyped-def]
    return create_app(dataclasses.replace(settings, quickbooks=sandbox.config))


def consent(client: FlaskClient, *, decision: str = "connect") -> tuple[str, dict[str, str]]:
    """Follow /connect/quickbooks to the sandbox's consent page and submit it as a person would."""
    authorize_url, _ = start(client)
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    form = {html.unescape(name): html.unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    realm = re.search(r'name="account" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    action = urllib.parse.urljoin(authorize_url, re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    answer = requests.post(action, data={**form, "account": realm, "decision": decision}, allow_redirects=False, timeout=10)
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


def _cipher(app: Flask) -> TokenCipher:
    return TokenCipher(app.extensions["arpilot"].settings.token_encryption_keys)


def _stored(app: Flask, connection_id: int):  # type: ignore[no-untyped-def]
    with app.extensions["arpilot"].sessions() as db:
        return _cipher(app).decrypt(db.get(Connection, connection_id).token_blob)


def test_connect_through_the_consent_page(app: Flask, sandbox: Sandbox) -> None:
    client = app.test_client()
    connection_id, realm = connect(app, client)
    with app.extensions["arpilot"].sessions() as db:
        connection = db.get(Connection, connection_id)
        assert connection.status is ConnectionStatus.ACTIVE and connection.provider == "quickbooks"
    tokens = _stored(app, connection_id)
    assert tokens.external_id == realm
    # The sandbox signs its id_token; intuit-oauth verified it, and its realm matches the callback.
    assert tokens.id_token_claims and tokens.id_token_claims["realmid"] == realm
    assert IntuitOAuth(sandbox.config).user_info(tokens.access_token).email == "owner@sandbox.example"
    assert "Disconnect" in client.get("/").get_data(as_text=True)


def test_cancel_on_the_consent_page(app: Flask) -> None:
    client = app.test_client()
    _, params = consent(client, decision="cancel")
    response = client.get("/connect/quickbooks/callback", query_string=params)
    assert response.status_code == 200 and b"You chose not to connect" in response.data


def test_refresh_token_rotation_over_several_refreshes(app: Flask, sandbox: Sandbox) -> None:
    connection_id, _ = connect(app, app.test_client())
    source = ConnectionTokenSource(
        app.extensions["arpilot"].sessions, _cipher(app), connection_id,
        lambda: IntuitOAuth(sandbox.config, clock=sandbox.now), clock=sandbox.now,
    )
    client = IntuitOAuth(sandbox.config)
    seen_refresh = [_stored(app, connection_id).refresh_token]
    for _ in range(3):
        sandbox.advance(dt.timedelta(hours=25))  # access token expired; Intuit's 24 h reuse window over
        access = source.access_token()
        stored = _stored(app, connection_id)
        assert stored.access_token == access and stored.refresh_token not in seen_refresh
        assert client.user_info(access).subject  # the new access token works
        with pytest.raises(InvalidGrant):
            client.refresh(seen_refresh[-1], stored.external_id)  # the superseded one is dead
        seen_refresh.append(stored.refresh_token)
    # Inside the reuse window a forced refresh keeps the same refresh token and still stores it.
    again = source.refreshed(access)
    assert again != access and _stored(app, connection_id).refresh_token == seen_refresh[-1]


def test_disconnect_revokes_at_the_sandbox(app: Flask, sandbox: Sandbox) -> None:
    client = app.test_client()
    connection_id, realm = connect(app, client)
    refresh_token = _stored(app, connection_id).refresh_token
    response = client.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 200 and b"history is kept" in response.data
    with pytest.raises(InvalidGrant):
        IntuitOAuth(sandbox.config).refresh(refresh_token, realm)
    source = ConnectionTokenSource(app.extensions["arpilot"].sessions, _cipher(app), connection_id,
                                   lambda: IntuitOAuth(sandbox.config))
    with pytest.raises(AuthExpired, match="disconnected"):
        source.access_token()


def test_grant_revoked_inside_quickbooks_becomes_needs_reconnect(app: Flask, sandbox: Sandbox) -> None:
    connection_id, realm = connect(app, app.test_client())
    IntuitOAuth(sandbox.config).revoke(_stored(app, connection_id).refresh_token)  # as Intuit does on disconnect
    source = ConnectionTokenSource(app.extensions["arpilot"].sessions, _cipher(app), connection_id,
                                   lambda: IntuitOAuth(sandbox.config))
    with pytest.raises(AuthExpired, match="invalid_grant"):
        source.refreshed(_stored(app, connection_id).access_token)
    with app.extensions["arpilot"].sessions() as db:
        assert db.get(Connection, connection_id).status is ConnectionStatus.NEEDS_RECONNECT
