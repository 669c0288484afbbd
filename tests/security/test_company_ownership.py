"""Who holds a company (#15.2): a disconnected or revoked connection blocks no one, and a company
still connected elsewhere can be taken over by an administrator who consents again; the previous
organization is told and keeps its history, which the new one never sees. Against a fake Intuit
(`responses`), on SQLite and PostgreSQL."""

from __future__ import annotations

import urllib.parse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.sandbox.consent import click_through
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Connection, ConnectionStatus, User
from tests.conftest import MakeApp
from tests.oauth import fake_intuit as fake
from tests.oauth.conftest import intuit  # noqa: F401 - the fake Intuit fixture
from tests.oauth.fake_intuit import FakeIntuit
from tests.oauth.webflow import csrf_token
from tests.oauth.xero_flow import running_xero_sandbox


@pytest.fixture
def app(make_app: MakeApp, database_url: str) -> Flask:
    return make_app(database_url=database_url, quickbooks=fake.SETTINGS)


def consent(
    app: Flask, intuit: FakeIntuit, subject: str, *, take_over: bool = False, client: FlaskClient | None = None
) -> tuple[FlaskClient, int]:
    """`subject` signs in with Intuit and connects the fake's company; the client and the status."""
    intuit.subject = subject
    client = client or app.test_client()
    started = client.get("/connect/quickbooks", query_string={"take_over": "1"} if take_over else None)
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(started.headers["Location"]).query))["state"]
    response = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": state, "realmId": intuit.realm_id},
    )
    return client, response.status_code


def rows(app: Flask) -> list[tuple[str, str, ConnectionStatus, str | None]]:
    """(owner subject, realm, status, reason) of every connection."""
    with app.extensions["arpilot"].sessions() as db:
        return [
            (
                db.scalars(select(User.subject).where(User.organization_id == c.organization_id)).first(),
                c.external_id,
                c.status,
                c.status_reason,
            )
            for c in db.scalars(select(Connection).order_by(Connection.id))
        ]  # type: ignore[misc]


def keep_history(app: Flask, subject: str, message: str) -> None:
    with transaction(app.extensions["arpilot"].sessions) as db:
        user = db.scalars(select(User).where(User.subject == subject)).one()
        connection = db.scalars(select(Connection).where(Connection.organization_id == user.organization_id)).one()
        db.add(
            ActivityEntry(
                organization_id=user.organization_id, connection_id=connection.id, kind="action_done", message=message
            )
        )


def test_after_a_disconnect_another_organization_connects_the_company(app: Flask, intuit: FakeIntuit, tally) -> None:  # type: ignore[no-untyped-def]
    alpha, status = consent(app, intuit, "alpha-bookkeeper")
    assert status == 302
    keep_history(app, "alpha-bookkeeper", "Alpha's reminder history")
    with app.extensions["arpilot"].sessions() as db:
        connection_id = db.scalars(select(Connection.id)).one()
    assert (
        alpha.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(alpha)}).status_code
        == 200
    )

    bravo, status = consent(app, intuit, "bravo-owner")
    assert status == 302  # was 409 "Its owner can disconnect it there" for ever
    assert [(who, status) for who, _, status, _ in rows(app)] == [
        ("alpha-bookkeeper", ConnectionStatus.DISCONNECTED),
        ("bravo-owner", ConnectionStatus.ACTIVE),
    ]
    assert "Alpha's reminder history" not in bravo.get("/activity").get_data(as_text=True)  # A's history is A's
    tally["company_hand_overs"] += 1


@pytest.mark.parametrize("reason", ["invalid_grant: the grant was revoked", "disconnected inside QuickBooks"])
def test_a_revoked_connection_blocks_no_one(app: Flask, intuit: FakeIntuit, reason: str, tally) -> None:  # type: ignore[no-untyped-def]
    consent(app, intuit, "alpha-bookkeeper")
    with transaction(app.extensions["arpilot"].sessions) as db:
        connection = db.scalars(select(Connection)).one()
        connection.status, connection.status_reason = ConnectionStatus.NEEDS_RECONNECT, reason
    assert consent(app, intuit, "bravo-owner")[1] == 302
    assert [status for _, _, status, _ in rows(app)] == [ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.ACTIVE]
    tally["company_hand_overs"] += 1


def test_a_company_connected_elsewhere_is_taken_over_by_consenting_again(app: Flask, intuit: FakeIntuit, tally) -> None:  # type: ignore[no-untyped-def]
    alpha, _ = consent(app, intuit, "alpha-bookkeeper")
    keep_history(app, "alpha-bookkeeper", "Alpha's reminder history")
    revoked = set(intuit.revoked)

    bravo, status = consent(app, intuit, "bravo-owner")
    assert status == 409
    assert intuit.revoked == revoked  # Alpha's connection at Intuit is not cut by Bravo's refused grant
    assert [status for *_, status, _ in rows(app)] == [ConnectionStatus.ACTIVE]

    bravo, status = consent(app, intuit, "bravo-owner", take_over=True, client=bravo)
    assert status == 302
    (alpha_row, bravo_row) = rows(app)
    assert alpha_row[2] is ConnectionStatus.DISCONNECTED and alpha_row[3].startswith("taken over on ")  # type: ignore[union-attr]
    assert "an administrator of the company" in alpha_row[3]  # type: ignore[operator]
    assert bravo_row[:3] == ("bravo-owner", intuit.realm_id, ConnectionStatus.ACTIVE)
    assert intuit.revoked == revoked  # nothing revoked at Intuit: Bravo's grant is the company's connection now
    with app.extensions["arpilot"].sessions() as db:
        alpha_connection = db.scalars(select(Connection).order_by(Connection.id)).first()
        assert alpha_connection is not None and alpha_connection.token_blob is None
        told = db.scalars(
            select(ActivityEntry).where(
                ActivityEntry.organization_id == alpha_connection.organization_id, ActivityEntry.level == "warning"
            )
        ).one()
    assert "taken over" in told.message and "history here is kept" in told.message

    dashboard = alpha.get("/").get_data(as_text=True)  # Alpha is told, and still sees its history
    assert "is now connected to another arpilot account" in dashboard
    assert "Alpha&#39;s reminder history" in alpha.get("/activity").get_data(as_text=True)
    assert "Alpha" not in bravo.get("/activity").get_data(as_text=True)
    tally["company_hand_overs"] += 1


def test_the_refusal_offers_the_take_over(app: Flask, intuit: FakeIntuit) -> None:
    consent(app, intuit, "alpha-bookkeeper")
    intuit.subject = "bravo-owner"
    client = app.test_client()
    started = client.get("/connect/quickbooks")
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(started.headers["Location"]).query))["state"]
    response = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": state, "realmId": intuit.realm_id},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "administrator" in html
    assert 'href="/connect/quickbooks?take_over=1"' in html


def xero_consent(client: FlaskClient, tenant: str, *, take_over: bool = False) -> int:
    started = client.get("/connect/xero", query_string={"take_over": "1"} if take_over else None)
    location = click_through(started.headers["Location"], decision="connect", accounts=[tenant])
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    return client.get("/connect/xero/callback", query_string=query).status_code


def test_a_xero_organisation_is_taken_over_the_same_way(make_app: MakeApp, database_url: str, tally) -> None:  # type: ignore[no-untyped-def]
    for sandbox in running_xero_sandbox():
        app = make_app(database_url=database_url, xero=sandbox.config)
        tenant = sandbox.tenant_ids()["demo"]
        alpha = app.test_client()
        assert xero_consent(alpha, tenant) == 302
        with transaction(app.extensions["arpilot"].sessions) as db:  # Alpha's was another Xero user
            db.scalars(select(User)).one().subject = "alpha-bookkeeper"
        bravo = app.test_client()
        assert xero_consent(bravo, tenant) == 409
        assert xero_consent(bravo, tenant, take_over=True) == 302
        (alpha_row, bravo_row) = rows(app)
        assert alpha_row[0] == "alpha-bookkeeper" and alpha_row[2] is ConnectionStatus.DISCONNECTED
        assert (alpha_row[3] or "").startswith("taken over") and bravo_row[2] is ConnectionStatus.ACTIVE
        assert "is now connected to another arpilot account" in alpha.get("/").get_data(as_text=True)
        tally["company_hand_overs"] += 1
