"""Sessions end on the server: a copied cookie opens nothing after sign-out, after the organization's
last company is disconnected, or after a new consent; the OAuth state and PKCE verifier never reach
the browser. On SQLite and PostgreSQL, through the sandboxes' real consent pages."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from integration.store.models import WebSession
from tests.conftest import MakeApp
from tests.oauth import sandbox_flow
from tests.oauth.sandbox_flow import running_sandbox
from tests.oauth.webflow import csrf_token
from tests.oauth.xero_flow import running_xero_sandbox


@pytest.fixture
def app(make_app: MakeApp, database_url: str) -> Iterator[Flask]:
    for quickbooks in running_sandbox():
        for xero in running_xero_sandbox():
            yield make_app(database_url=database_url, quickbooks=quickbooks.config, xero=xero.config)


def cookie(client: FlaskClient) -> str:
    found = client.get_cookie("session")
    assert found is not None
    return found.value


def copied(app: Flask, value: str) -> FlaskClient:
    """Another browser holding a copy of the cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def opens_settings(client: FlaskClient) -> bool:
    response = client.get("/settings")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def sessions_in_database(app: Flask) -> int:
    with app.extensions["arpilot"].sessions() as db:
        return db.scalar(select(func.count()).select_from(WebSession)) or 0


def test_a_copied_cookie_opens_nothing_after_sign_out(app: Flask, tally) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sandbox_flow.connect(app, client)
    value = cookie(client)
    assert opens_settings(copied(app, value))  # the copy works while the owner is signed in...
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert not opens_settings(copied(app, value))  # ...and not after they sign out
    tally["copied_cookies_refused"] += 1


def test_a_copied_cookie_opens_nothing_after_the_last_company_is_disconnected(app: Flask, tally) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    connection_id, _ = sandbox_flow.connect(app, client)
    value = cookie(client)
    page = client.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(client)})
    assert page.status_code == 200 and "disconnected" in page.get_data(as_text=True)
    assert not opens_settings(copied(app, value)) and not opens_settings(client)
    tally["copied_cookies_refused"] += 1


def test_a_new_consent_ends_the_session_it_replaces(app: Flask, tally) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sandbox_flow.connect(app, client)
    before = cookie(client)
    sandbox_flow.connect(app, client)  # the owner consents again (a reconnect, or a second sign-in)
    after = cookie(client)
    assert after != before
    assert opens_settings(client) and not opens_settings(copied(app, before))
    tally["copied_cookies_refused"] += 1


def test_the_oauth_state_and_pkce_verifier_stay_on_the_server(app: Flask, tally) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    for path in ("/connect/quickbooks", "/connect/xero"):
        response = client.get(path)
        assert response.status_code == 302
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(response.headers["Location"]).query)["state"][0]
        value = cookie(client)
        padded = value + "=" * (-len(value) % 4)
        readable = value + base64.urlsafe_b64decode(padded.split(".")[0] + "==").decode("latin-1")
        assert state not in readable and "oauth_pending" not in readable and "verifier" not in readable
        assert len(value) <= 64  # a key, not a payload
        with app.extensions["arpilot"].sessions() as db:
            (row,) = db.scalars(select(WebSession)).all()
            assert state in row.data["oauth_pending"] and value not in row.key_hash
    xero_pending = [p for p in row.data["oauth_pending"].values() if p["provider"] == "xero"]
    assert xero_pending and xero_pending[0]["verifier"]  # kept server-side, where the callback reads it
    tally["copied_cookies_refused"] += 1


def test_a_forged_or_expired_cookie_is_an_anonymous_visitor(app: Flask, tally) -> None:  # type: ignore[no-untyped-def]
    assert not opens_settings(copied(app, "made-up-key"))
    assert not opens_settings(copied(app, "x" * 300))
    client = app.test_client()
    sandbox_flow.connect(app, client)
    with app.extensions["arpilot"].sessions.begin() as db:
        row = db.scalars(select(WebSession)).one()
        row.expires_at = row.created_at  # twelve hours later
    assert not opens_settings(client)
    assert sessions_in_database(app) == 1  # swept when the next session is created
    tally["copied_cookies_refused"] += 1
