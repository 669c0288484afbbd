"""Refresh of a Xero grant shared by two connections, against the sandbox: rotation on every
refresh, both connections updated together, the 30-minute grace; an organisation removed inside
Xero is refused with AuthExpired while the other keeps working."""

from __future__ import annotations

import dataclasses
import datetime as dt

import jwt
import pytest
import requests
from flask import Flask
from sqlalchemy import select

from connectors.contract import AuthExpired, Transient
from connectors.xero.connector import XeroConnector
from integration.store.models import Connection, ConnectionStatus
from integration.store.token_refresh import ConnectionTokenSource, xero_token_source
from oauth.crypto import TokenCipher, TokenSet
from oauth.errors import ClientRejected, InvalidGrant
from oauth.xero import XeroOAuth, auth_event_id
from tests.oauth.xero_flow import XeroSandbox, connect

HALF_HOUR_AND_A_MINUTE = dt.timedelta(minutes=31)


def _stored(app: Flask) -> dict[str, TokenSet]:
    cipher = TokenCipher(app.extensions["arpilot"].settings.token_encryption_keys)
    with app.extensions["arpilot"].sessions() as db:
        rows = db.execute(select(Connection).where(Connection.provider == "xero")).scalars()
        return {c.external_id: cipher.decrypt(c.token_blob) for c in rows if c.token_blob}


def _source(app: Flask, sandbox: XeroSandbox, connection_id: int) -> ConnectionTokenSource:
    runtime = app.extensions["arpilot"]
    return xero_token_source(runtime.settings, runtime.sessions, connection_id, clock=sandbox.now)


def test_rotation_over_several_refreshes_updates_every_connection_of_the_grant(
    xero_app: Flask, xero_sandbox: XeroSandbox
) -> None:
    tenants = xero_sandbox.tenant_ids()
    ids = connect(xero_app, xero_app.test_client(), [tenants["demo"], tenants["second"]])
    oauth = xero_sandbox.oauth()
    seen = [_stored(xero_app)[tenants["demo"]].refresh_token]
    for round_ in range(3):
        xero_sandbox.advance(HALF_HOUR_AND_A_MINUTE)  # the 30-minute access token has expired
        # Alternate which connection notices first: either refreshes for both.
        tenant = tenants["demo"] if round_ % 2 == 0 else tenants["second"]
        access = _source(xero_app, xero_sandbox, ids[tenant]).access_token()
        stored = _stored(xero_app)
        assert {t.access_token for t in stored.values()} == {access}
        assert {t.refresh_token for t in stored.values()} == {stored[tenant].refresh_token}
        assert stored[tenant].refresh_token not in seen and stored[tenant].external_id == tenant
        assert sorted(t.tenant_id for t in oauth.tenants(access)) == sorted(tenants.values())
        if len(seen) >= 2:
            with pytest.raises(InvalidGrant):  # superseded more than 30 minutes ago
                oauth.refresh(seen[-2], tenant)
        seen.append(stored[tenant].refresh_token)
    # The token superseded by the last refresh is still honoured inside Xero's 30-minute grace…
    assert oauth.refresh(seen[-2], tenants["demo"]).access_token
    xero_sandbox.advance(HALF_HOUR_AND_A_MINUTE)
    with pytest.raises(InvalidGrant):  # …and refused after it
        oauth.refresh(seen[-2], tenants["demo"])


def test_refresh_rejected_marks_every_connection_of_the_grant(xero_app: Flask, xero_sandbox: XeroSandbox) -> None:
    tenants = xero_sandbox.tenant_ids()
    ids = connect(xero_app, xero_app.test_client(), [tenants["demo"], tenants["second"]])
    xero_sandbox.oauth().revoke(_stored(xero_app)[tenants["demo"]].refresh_token)  # as Xero does on revocation
    xero_sandbox.advance(HALF_HOUR_AND_A_MINUTE)
    with pytest.raises(AuthExpired, match="invalid_grant"):
        _source(xero_app, xero_sandbox, ids[tenants["second"]]).access_token()
    with xero_app.extensions["arpilot"].sessions() as db:
        assert {db.get(Connection, i).status for i in ids.values()} == {ConnectionStatus.NEEDS_RECONNECT}


def test_organisation_removed_inside_xero_needs_reconnect(xero_app: Flask, xero_sandbox: XeroSandbox) -> None:
    tenants = xero_sandbox.tenant_ids()
    ids = connect(xero_app, xero_app.test_client(), [tenants["demo"], tenants["second"]])
    oauth = xero_sandbox.oauth()
    access = _source(xero_app, xero_sandbox, ids[tenants["demo"]]).access_token()
    removed = next(t for t in oauth.tenants(access) if t.tenant_id == tenants["demo"])
    oauth.remove_tenant(access, removed.connection_id)  # the owner disconnects arpilot inside Xero

    def connector(tenant: str) -> XeroConnector:
        return XeroConnector(
            tenant_id=tenant,
            tokens=_source(xero_app, xero_sandbox, ids[tenant]),
            base_url=f"{xero_sandbox.config.api_url}/api.xro/2.0",
        )

    # The connector's 403 is AuthExpired naming the cause; integration.cycle.run marks the connection
    # needs_reconnect with that text for any AuthExpired (tests/cycle cover that path).
    def an_invoice(short_code: str) -> str:
        ids_map = requests.get(f"{xero_sandbox.base_url}/_sandbox/organisations/{short_code}/ids", timeout=10).json()
        return next(iter(ids_map["invoices"].values()))

    with pytest.raises(AuthExpired, match="disconnected inside Xero"):
        connector(tenants["demo"]).get_invoice(an_invoice("demo"))
    kept = an_invoice("second")
    assert connector(tenants["second"]).get_invoice(kept).provider_id == kept  # the other organisation keeps working


def test_wrong_client_secret_is_a_configuration_error(xero_sandbox: XeroSandbox) -> None:
    wrong = XeroOAuth(dataclasses.replace(xero_sandbox.config, client_secret="not-the-secret"))
    with pytest.raises(ClientRejected, match="XERO_CLIENT_SECRET"):
        wrong.refresh("whatever", "tenant")


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/connect/token", lambda oauth: oauth.refresh("any-refresh-token", "tenant")),
        ("/connections", lambda oauth: oauth.tenants("any-access-token")),
        ("/connect/userinfo", lambda oauth: oauth.user_info("any-access-token")),
    ],
)
def test_an_answer_that_is_not_json_is_transient(xero_sandbox: XeroSandbox, path: str, call) -> None:  # type: ignore[no-untyped-def]
    """A truncated body (a proxy's HTML page, a dropped connection) is retried later, never an untyped crash."""
    fault = {"path": f"^{path}$", "kind": "malformed", "count": 1}
    requests.post(f"{xero_sandbox.base_url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()
    with pytest.raises(Transient, match="not JSON"):
        call(xero_sandbox.oauth())


def test_auth_event_id_is_read_from_a_jwt_access_token_only() -> None:
    token = jwt.encode({"authentication_event_id": "evt-1", "xero_userid": "u"}, "k" * 32, algorithm="HS256")
    assert auth_event_id(token) == "evt-1"
    assert auth_event_id("opaque-sandbox-token") is None
