"""OAuth checks tests/oauth leaves open, on an app with both providers: a state issued for one
provider is refused by the other's callback, and an intercepted Xero code is useless without the
PKCE verifier of the browser that started the consent. Each is a clear 400 page and connects nothing."""

from __future__ import annotations

import urllib.parse

from flask import Flask
from sqlalchemy import func, select

from integration.store.models import Connection
from tests.oauth.xero_flow import consent as xero_consent


def connections(app: Flask) -> int:
    with app.extensions["arpilot"].sessions() as db:
        return db.scalar(select(func.count()).select_from(Connection)) or 0


def state_of(location: str) -> str:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["state"]


def test_a_state_issued_for_one_provider_is_refused_by_the_other(both) -> None:  # type: ignore[no-untyped-def]
    app, _, xero = both
    client = app.test_client()
    xero_state = state_of(client.get("/connect/xero").headers["Location"])
    quickbooks_state = state_of(client.get("/connect/quickbooks").headers["Location"])
    into_quickbooks = client.get(
        "/connect/quickbooks/callback", query_string={"code": "c", "realmId": "1", "state": xero_state}
    )
    into_xero = client.get("/connect/xero/callback", query_string={"code": "c", "state": quickbooks_state})
    for response in (into_quickbooks, into_xero):
        assert response.status_code == 400 and b"Please start again" in response.data
    assert connections(app) == 0
    # Neither was used up by the wrong callback: each still works where it belongs.
    params = xero_consent(client, [xero.tenant_ids()["demo"]])
    assert client.get("/connect/xero/callback", query_string=params).status_code == 302


def test_an_intercepted_xero_code_is_useless_without_the_victims_pkce_verifier(both) -> None:  # type: ignore[no-untyped-def]
    app, _, xero = both
    victim, attacker = app.test_client(), app.test_client()
    stolen = xero_consent(victim, [xero.tenant_ids()["demo"]])  # the victim's code, seen on its way back
    attackers_state = state_of(attacker.get("/connect/xero").headers["Location"])  # a valid state of the attacker's own
    answer = attacker.get("/connect/xero/callback", query_string={"code": stolen["code"], "state": attackers_state})
    assert answer.status_code == 400 and b"Please start again" in answer.data
    assert connections(app) == 0
    with attacker.session_transaction() as session:
        assert "user_id" not in session  # not signed in as anyone
