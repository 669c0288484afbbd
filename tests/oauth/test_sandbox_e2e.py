"""End to end against the QuickBooks sandbox on loopback: consent page, callback, refresh, revoke."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from connectors.contract import AuthExpired
from integration.store.models import Connection, ConnectionStatus
from integration.store.token_refresh import ConnectionTokenSource
from oauth.intuit import IntuitOAuth, InvalidGrant
from tests.oauth.sandbox_flow import Sandbox, cipher_of, connect, consent, stored
from tests.oauth.webflow import csrf_token


def test_connect_through_the_consent_page(sandbox_app: Flask, sandbox: Sandbox) -> None:
    client = sandbox_app.test_client()
    connection_id, realm = connect(sandbox_app, client)
    with sandbox_app.extensions["arpilot"].sessions() as db:
        connection = db.get(Connection, connection_id)
        assert connection.status is ConnectionStatus.ACTIVE and connection.provider == "quickbooks"
    tokens = stored(sandbox_app, connection_id)
    assert tokens.external_id == realm
    # The sandbox signs its id_token; intuit-oauth verified it, and its realm matches the callback.
    assert tokens.id_token_claims and tokens.id_token_claims["realmid"] == realm
    assert IntuitOAuth(sandbox.config).user_info(tokens.access_token).email == "owner@sandbox.example"
    assert "Disconnect" in client.get("/").get_data(as_text=True)


def test_cancel_on_the_consent_page(sandbox_app: Flask) -> None:
    client = sandbox_app.test_client()
    _, params = consent(client, decision="cancel")
    response = client.get("/connect/quickbooks/callback", query_string=params)
    assert response.status_code == 200 and b"You chose not to connect" in response.data


def test_refresh_token_rotation_over_several_refreshes(sandbox_app: Flask, sandbox: Sandbox) -> None:
    connection_id, _ = connect(sandbox_app, sandbox_app.test_client())
    source = ConnectionTokenSource(
        sandbox_app.extensions["arpilot"].sessions,
        cipher_of(sandbox_app),
        connection_id,
        lambda: IntuitOAuth(sandbox.config, clock=sandbox.now),
        clock=sandbox.now,
    )
    client = IntuitOAuth(sandbox.config)
    seen_refresh = [stored(sandbox_app, connection_id).refresh_token]
    for _ in range(3):
        sandbox.advance(dt.timedelta(hours=25))  # access token expired; Intuit's 24 h reuse window over
        access = source.access_token()
        now_stored = stored(sandbox_app, connection_id)
        assert now_stored.access_token == access and now_stored.refresh_token not in seen_refresh
        assert client.user_info(access).subject  # the new access token works
        with pytest.raises(InvalidGrant):
            client.refresh(seen_refresh[-1], now_stored.external_id)  # the superseded one is dead
        seen_refresh.append(now_stored.refresh_token)
    # Inside the reuse window a forced refresh keeps the same refresh token and still stores it.
    again = source.refreshed(access)
    assert again != access and stored(sandbox_app, connection_id).refresh_token == seen_refresh[-1]


def test_disconnect_revokes_at_the_sandbox(sandbox_app: Flask, sandbox: Sandbox) -> None:
    client = sandbox_app.test_client()
    connection_id, realm = connect(sandbox_app, client)
    refresh_token = stored(sandbox_app, connection_id).refresh_token
    response = client.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 200 and b"history is kept" in response.data
    with pytest.raises(InvalidGrant):
        IntuitOAuth(sandbox.config).refresh(refresh_token, realm)
    source = ConnectionTokenSource(
        sandbox_app.extensions["arpilot"].sessions,
        cipher_of(sandbox_app),
        connection_id,
        lambda: IntuitOAuth(sandbox.config),
    )
    with pytest.raises(AuthExpired, match="disconnected"):
        source.access_token()


def test_grant_revoked_inside_quickbooks_becomes_needs_reconnect(sandbox_app: Flask, sandbox: Sandbox) -> None:
    connection_id, realm = connect(sandbox_app, sandbox_app.test_client())
    IntuitOAuth(sandbox.config).revoke(stored(sandbox_app, connection_id).refresh_token)  # as Intuit does on disconnect
    source = ConnectionTokenSource(
        sandbox_app.extensions["arpilot"].sessions,
        cipher_of(sandbox_app),
        connection_id,
        lambda: IntuitOAuth(sandbox.config),
    )
    with pytest.raises(AuthExpired, match="invalid_grant"):
        source.refreshed(stored(sandbox_app, connection_id).access_token)
    with sandbox_app.extensions["arpilot"].sessions() as db:
        assert db.get(Connection, connection_id).status is ConnectionStatus.NEEDS_RECONNECT
