"""Sign up with Xero against the Xero sandbox on loopback: two organisations from one consent,
state checks, access_denied, disconnecting one tenant then the last."""

from __future__ import annotations

import logging

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from connectors.contract import AuthExpired
from integration.store.models import Connection, ConnectionStatus, User
from integration.store.token_refresh import ConnectionTokenSource
from oauth.crypto import TokenCipher
from oauth.errors import InvalidGrant
from tests.clock_helpers import RunSoonRecorder
from tests.oauth.webflow import csrf_token
from tests.oauth.xero_flow import XeroSandbox, connect, consent


def _cipher(app: Flask) -> TokenCipher:
    return TokenCipher(app.extensions["arpilot"].settings.token_encryption_keys)


def _connections(app: Flask) -> list[Connection]:
    with app.extensions["arpilot"].sessions() as db:
        return list(
            db.execute(select(Connection).where(Connection.provider == "xero").order_by(Connection.id)).scalars()
        )


def _source(app: Flask, sandbox: XeroSandbox, connection_id: int) -> ConnectionTokenSource:
    return ConnectionTokenSource(
        app.extensions["arpilot"].sessions, _cipher(app), connection_id, sandbox.oauth, clock=sandbox.now
    )


def test_one_consent_granting_two_organisations_makes_two_connections(
    xero_app: Flask, xero_sandbox: XeroSandbox
) -> None:
    xero_app.extensions["arpilot_clock"] = recorder = RunSoonRecorder()
    tenants = xero_sandbox.tenant_ids()
    client = xero_app.test_client()
    ids = connect(xero_app, client, [tenants["demo"], tenants["second"]])
    connections = _connections(xero_app)
    assert {c.external_id: c.display_name for c in connections} == {
        tenants["demo"]: "Harbor & Pine Landscaping",
        tenants["second"]: "Kereru Catering",
    }
    assert {c.status for c in connections} == {ConnectionStatus.ACTIVE}
    assert len({c.organization_id for c in connections}) == 1
    stored = [_cipher(xero_app).decrypt(c.token_blob) for c in connections]  # type: ignore[arg-type]
    assert [t.external_id for t in stored] == [c.external_id for c in connections]
    assert stored[0].refresh_token == stored[1].refresh_token and stored[0].grant_id == stored[1].grant_id is not None
    assert all(t.refresh_token.encode() not in c.token_blob for t, c in zip(stored, connections))  # type: ignore[operator]
    assert sorted(recorder.soon) == sorted(ids.values())
    with xero_app.extensions["arpilot"].sessions() as db:
        user = db.execute(select(User)).scalar_one()
        assert (user.provider, user.email, user.organization_id) == (
            "xero",
            "owner@sandbox.example",
            connections[0].organization_id,
        )
    page = client.get("/").get_data(as_text=True)
    assert "Kereru Catering" in page and "Harbor &amp; Pine Landscaping" in page


def test_authorization_url_asks_for_pkce_and_the_configured_scopes(xero_app: Flask) -> None:
    response = xero_app.test_client().get("/connect/xero")
    location = response.headers["Location"]
    assert "code_challenge_method=S256" in location and "code_challenge=" in location
    assert (
        "scope=offline_access+openid+profile+email+accounting.transactions+accounting.contacts+accounting.settings"
        in location
    )


def test_replayed_missing_and_foreign_state_are_400(xero_app: Flask, xero_sandbox: XeroSandbox) -> None:
    tenants = xero_sandbox.tenant_ids()
    client = xero_app.test_client()
    params = consent(client, [tenants["demo"]])
    assert client.get("/connect/xero/callback", query_string=params).status_code == 302
    replay = client.get("/connect/xero/callback", query_string=params)
    assert replay.status_code == 400 and b"already used" in replay.data
    missing = client.get("/connect/xero/callback", query_string={"code": params["code"]})
    assert missing.status_code == 400 and b"no state" in missing.data
    stranger = xero_app.test_client()  # another browser: the state is not in its session
    other = consent(client, [tenants["demo"]])
    assert stranger.get("/connect/xero/callback", query_string=other).status_code == 400


def test_cancel_on_the_consent_page_is_a_friendly_page(xero_app: Flask, xero_sandbox: XeroSandbox) -> None:
    client = xero_app.test_client()
    params = consent(client, [xero_sandbox.tenant_ids()["demo"]], decision="cancel")
    assert params["error"] == "access_denied"
    response = client.get("/connect/xero/callback", query_string=params)
    assert response.status_code == 200 and b"You chose not to connect" in response.data
    assert b"Connect to Xero" in response.data and _connections(xero_app) == []


def test_disconnect_one_tenant_then_the_last(xero_app: Flask, xero_sandbox: XeroSandbox) -> None:
    tenants = xero_sandbox.tenant_ids()
    client = xero_app.test_client()
    ids = connect(xero_app, client, [tenants["demo"], tenants["second"]])
    oauth = xero_sandbox.oauth()
    token = csrf_token(client)

    first = client.post(f"/connections/{ids[tenants['demo']]}/disconnect", data={"csrf_token": token})
    assert first.status_code == 200 and b"history is kept" in first.data and b"revoked" not in first.data
    remaining = _source(xero_app, xero_sandbox, ids[tenants["second"]])
    assert [t.tenant_id for t in oauth.tenants(remaining.access_token())] == [tenants["second"]]
    status = {c.external_id: c.status for c in _connections(xero_app)}
    assert status == {tenants["demo"]: ConnectionStatus.DISCONNECTED, tenants["second"]: ConnectionStatus.ACTIVE}
    with pytest.raises(AuthExpired, match="disconnected"):
        _source(xero_app, xero_sandbox, ids[tenants["demo"]]).access_token()

    refresh_token = _cipher(xero_app).decrypt(_connections(xero_app)[1].token_blob).refresh_token  # type: ignore[arg-type]
    last = client.post(f"/connections/{ids[tenants['second']]}/disconnect", data={"csrf_token": token})
    assert last.status_code == 200 and b"revoked at Xero" in last.data
    with pytest.raises(InvalidGrant):
        oauth.refresh(refresh_token, tenants["second"])
    assert {c.status for c in _connections(xero_app)} == {ConnectionStatus.DISCONNECTED}
    assert requests.get(f"{xero_sandbox.base_url}/_sandbox/connections", timeout=10).json() in ([], {"connections": []})


def test_no_token_or_secret_in_debug_logs(
    xero_app: Flask, xero_sandbox: XeroSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenants = xero_sandbox.tenant_ids()
    client = xero_app.test_client()
    ids = connect(xero_app, client, [tenants["demo"], tenants["second"]])
    source = _source(xero_app, xero_sandbox, ids[tenants["demo"]])
    first = _cipher(xero_app).decrypt(_connections(xero_app)[0].token_blob)  # type: ignore[arg-type]
    source.refreshed(first.access_token)
    second = _cipher(xero_app).decrypt(_connections(xero_app)[0].token_blob)  # type: ignore[arg-type]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # urllib3 and arpilot did log at DEBUG
    for secret in (
        first.access_token,
        first.refresh_token,
        second.access_token,
        second.refresh_token,
        xero_sandbox.config.client_secret,
    ):
        assert secret not in logged
