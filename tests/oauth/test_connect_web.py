"""The connect pages against a fake Intuit (`responses`): state, callback, sign-in, disconnect."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import requests
import responses
from flask import Flask
from sqlalchemy import func, select

from integration.store.models import Connection, ConnectionStatus, MirroredCustomer, MirroredInvoice, Organization, User
from integration.web import common
from oauth.crypto import TokenCipher
from tests.clock_helpers import RunSoonRecorder
from tests.conftest import MakeApp
from tests.oauth import fake_intuit as fake
from tests.oauth.fake_intuit import FakeIntuit
from tests.oauth.webflow import csrf_token, start


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(quickbooks=fake.SETTINGS)


def _db(app):  # type: ignore[no-untyped-def]
    return app.extensions["arpilot"].sessions


def connect_company(client, intuit: FakeIntuit):  # type: ignore[no-untyped-def]
    _, query = start(client)
    return client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": query["state"], "realmId": intuit.realm_id},
    )


def test_connect_creates_organization_owner_and_active_connection(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    url, query = start(client)
    assert url.startswith(f"{fake.BASE}/connect/oauth2?")
    assert query["scope"] == "com.intuit.quickbooks.accounting openid profile email"
    assert query["redirect_uri"] == fake.REDIRECT_URI
    response = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": query["state"], "realmId": intuit.realm_id},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    with _db(app)() as db:
        connection = db.execute(select(Connection)).scalar_one()
        user = db.execute(select(User)).scalar_one()
        assert (connection.provider, connection.external_id, connection.status) == (
            "quickbooks",
            intuit.realm_id,
            ConnectionStatus.ACTIVE,
        )
        assert (user.subject, user.email, user.name) == (intuit.subject, intuit.email, "Dana O'Neil")
        assert user.organization_id == connection.organization_id
        tokens = TokenCipher(app.extensions["arpilot"].settings.token_encryption_keys).decrypt(connection.token_blob)
    assert tokens.access_token in intuit.access_tokens and tokens.external_id == intuit.realm_id
    assert tokens.refresh_token.encode() not in connection.token_blob
    page = client.get("/").get_data(as_text=True)
    assert f"QuickBooks company {intuit.realm_id}" in page and "Disconnect" in page


def test_a_new_connection_gets_its_first_cycle_at_once(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    app.extensions["arpilot_clock"] = recorder = RunSoonRecorder()
    assert connect_company(app.test_client(), intuit).status_code == 302
    with _db(app)() as db:
        assert recorder.soon == [db.execute(select(Connection.id)).scalar_one()]


def test_reconnect_updates_the_same_rows(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    connect_company(client, intuit)
    with _db(app)() as db, db.begin():
        connection = db.execute(select(Connection)).scalar_one()
        connection.status, connection.status_reason = ConnectionStatus.NEEDS_RECONNECT, "invalid_grant"
    assert connect_company(app.test_client(), intuit).status_code == 302
    with _db(app)() as db:
        assert db.scalar(select(func.count()).select_from(Organization)) == 1
        connection = db.execute(select(Connection)).scalar_one()
        assert connection.status is ConnectionStatus.ACTIVE and connection.status_reason is None


def test_company_connected_by_another_account_is_refused_and_its_grant_left_alone(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    connect_company(app.test_client(), intuit)
    intuit.subject = "someone-else"
    revoked_before = len(intuit.revoked)
    response = connect_company(app.test_client(), intuit)
    assert response.status_code == 409 and b"another arpilot account" in response.data
    # Not revoked (#15.2): revoking an Intuit grant disconnects the app from the company, the other
    # account's working connection included. The unused grant is dropped instead.
    assert len(intuit.revoked) == revoked_before
    with _db(app)() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1


def test_realm_altered_in_the_callback_is_refused(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, query = start(client)
    intuit.id_token_realm = "1111111111"  # Intuit says the grant is for another company
    response = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": query["state"], "realmId": intuit.realm_id},
    )
    assert response.status_code == 400 and b"does not match" in response.data
    assert intuit.revoked
    with _db(app)() as db:
        assert db.scalar(select(func.count()).select_from(Connection)) == 0


@pytest.mark.parametrize(
    "params",
    [
        {},  # missing
        {"state": "made-up-by-an-attacker"},  # foreign
    ],
)
def test_bad_state_is_a_400_page(app, intuit: FakeIntuit, params: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    start(client)
    response = client.get(
        "/connect/quickbooks/callback", query_string={"code": intuit.issue_code(), "realmId": intuit.realm_id, **params}
    )
    assert response.status_code == 400 and b"start again" in response.data
    assert intuit.code_calls == 0


def test_state_from_another_browser_is_a_400_page(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    _, theirs = start(app.test_client())
    mine = app.test_client()
    start(mine)
    response = mine.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": theirs["state"], "realmId": intuit.realm_id},
    )
    assert response.status_code == 400 and intuit.code_calls == 0


def test_replayed_callback_is_a_400_page(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, query = start(client)
    params = {"code": intuit.issue_code(), "state": query["state"], "realmId": intuit.realm_id}
    assert client.get("/connect/quickbooks/callback", query_string=params).status_code == 302
    replay = client.get("/connect/quickbooks/callback", query_string=params)
    assert replay.status_code == 400 and b"already used" in replay.data
    assert intuit.code_calls == 1


def test_expired_state_is_a_400_page(app, intuit: FakeIntuit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, query = start(client)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    monkeypatch.setattr(common, "now", lambda: later)
    response = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": query["state"], "realmId": intuit.realm_id},
    )
    assert response.status_code == 400 and b"10 minutes" in response.data


def test_cancel_on_the_consent_page_is_a_friendly_page(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, query = start(client)
    response = client.get(
        "/connect/quickbooks/callback", query_string={"error": "access_denied", "state": query["state"]}
    )
    assert response.status_code == 200 and b"You chose not to connect" in response.data
    with _db(app)() as db:
        assert db.scalar(select(func.count()).select_from(Connection)) == 0


def test_other_provider_error_is_shown_by_code_only(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, query = start(client)
    response = client.get(
        "/connect/quickbooks/callback", query_string={"error": "<script>x</script>", "state": query["state"]}
    )
    assert response.status_code == 400 and b"<script>" not in response.data and b"unknown error" in response.data


@pytest.mark.parametrize("realm", ["", "12 34", "x" * 65])
def test_missing_or_odd_realm_is_refused(app, intuit: FakeIntuit, realm: str) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, query = start(client)
    response = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": query["state"], "realmId": realm},
    )
    assert response.status_code == 400 and intuit.code_calls == 0


def test_used_code_is_an_expired_link_page(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, query = start(client)
    response = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": "never-issued", "state": query["state"], "realmId": intuit.realm_id},
    )
    assert response.status_code == 400 and b"expired" in response.data


def test_intuit_unreachable_is_a_503_page(app) -> None:  # type: ignore[no-untyped-def]
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, fake.DISCOVERY, body=requests.ConnectionError("refused"))
        response = app.test_client().get("/connect/quickbooks")
    assert response.status_code == 503 and b"try again" in response.data
    assert b"Intuit did not answer" in response.data and b'href="/connect/quickbooks"' in response.data


@pytest.mark.parametrize(
    ("provider", "settings_named"),
    [
        ("quickbooks", b"QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET"),
        ("xero", b"XERO_CLIENT_ID and XERO_CLIENT_SECRET"),
    ],
)
def test_an_unconfigured_provider_is_a_503_page_naming_its_settings(
    make_app: MakeApp, provider: str, settings_named: bytes
) -> None:
    app = make_app(**{provider: None})
    for path in (f"/connect/{provider}", f"/connect/{provider}/callback"):
        response = app.test_client().get(path)
        assert response.status_code == 503 and settings_named in response.data


def test_marketplace_urls(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    launch = client.get("/launch/quickbooks")
    assert launch.status_code == 302 and launch.headers["Location"] == "/connect/quickbooks"
    landing = client.get("/disconnected/quickbooks")
    assert landing.status_code == 200 and b"disconnected from QuickBooks" in landing.data


def test_disconnect_revokes_keeps_history_and_needs_csrf(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    connect_company(client, intuit)
    with _db(app)() as db:
        connection_id = db.execute(select(Connection.id)).scalar_one()
    assert client.post(f"/connections/{connection_id}/disconnect").status_code == 400  # no CSRF token
    token = csrf_token(client)
    response = client.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": token})
    assert response.status_code == 200 and b"history is kept" in response.data
    with _db(app)() as db:
        connection = db.get(Connection, connection_id)
        assert connection.status is ConnectionStatus.DISCONNECTED and connection.token_blob is None
        assert "disconnected by owner@harborpine.example" in connection.status_reason
    assert intuit.revoked and not (intuit.revoked & intuit.current_refresh)
    # The organization's last company gone, its sessions end with it (#15.5): the browser is signed out.
    assert client.get("/activity").status_code == 302 and b"Connect to QuickBooks" in client.get("/").data


def test_disconnect_is_scoped_to_the_signed_in_organization(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    victim = app.test_client()
    connect_company(victim, intuit)
    with _db(app)() as db:
        victim_connection = db.execute(select(Connection.id)).scalar_one()
    intuit.realm_id, intuit.subject = "9130355555550002", "attacker"
    attacker = app.test_client()
    connect_company(attacker, intuit)
    response = attacker.post(f"/connections/{victim_connection}/disconnect", data={"csrf_token": csrf_token(attacker)})
    assert response.status_code == 404
    with _db(app)() as db:
        assert db.get(Connection, victim_connection).status is ConnectionStatus.ACTIVE


def test_disconnect_needs_a_signed_in_owner(app) -> None:  # type: ignore[no-untyped-def]
    assert app.test_client().post("/connections/1/disconnect").status_code == 401


def test_disconnect_when_intuit_is_down_changes_nothing(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    connect_company(client, intuit)
    intuit.mock.replace(responses.POST, f"{fake.BASE}/oauth2/v1/tokens/revoke", status=503, body="down")
    with _db(app)() as db:
        connection_id = db.execute(select(Connection.id)).scalar_one()
    response = client.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 503
    with _db(app)() as db:
        assert db.get(Connection, connection_id).status is ConnectionStatus.ACTIVE


def test_dashboard_lists_only_this_organizations_open_invoices(app, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    mine = app.test_client()
    connect_company(mine, intuit)
    intuit.realm_id, intuit.subject = "9130355555550003", "other-owner"
    connect_company(app.test_client(), intuit)
    now = dt.datetime.now(dt.UTC)
    with _db(app)() as db, db.begin():
        for connection in db.execute(select(Connection)).scalars():
            label = "MINE" if connection.external_id != "9130355555550003" else "THEIRS"
            db.add(
                MirroredCustomer(
                    connection_id=connection.id,
                    provider_id="c1",
                    name=f"{label} O'Brien & Co",
                    currency="USD",
                    provider_updated_at=now,
                )
            )
            for number, balance in ((f"{label}-1001", Decimal("450.00")), (f"{label}-1002", Decimal("0"))):
                db.add(
                    MirroredInvoice(
                        connection_id=connection.id,
                        provider_id=number,
                        customer_provider_id="c1",
                        number=number,
                        issue_date=dt.date(2026, 10, 1),
                        due_date=dt.date(2026, 10, 31),
                        total=Decimal("450.00"),
                        balance=balance,
                        currency="USD",
                        status="open",
                        provider_updated_at=now,
                    )
                )
    page = mine.get("/").get_data(as_text=True)
    assert "MINE-1001" in page and "MINE O&#39;Brien &amp; Co" in page and "Oct 31, 2026" in page and "$450.00" in page
    assert "MINE-1002" not in page  # paid
    assert "THEIRS" not in page
