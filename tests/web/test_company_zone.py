"""Settings > Time zone: each company's zone, changed by its owner from a list of IANA zones."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from integration.store.db import transaction
from integration.store.models import ActivityEntry, Connection, Organization
from tests.web.conftest import Seeded, signed_in


def _token(client: FlaskClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/settings").get_data(as_text=True))
    assert match
    return match.group(1)


def _zones(app: Flask, seeded: Seeded) -> tuple[str | None, str]:
    with app.extensions["arpilot"].sessions() as db:
        return db.get(Connection, seeded.connection_id).timezone, db.get(Organization, seeded.organization_id).timezone


def test_the_settings_page_shows_each_companys_zone_in_a_select(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, _ = two_orgs
    with transaction(app.extensions["arpilot"].sessions) as db:
        db.get(Connection, mine.connection_id).timezone = "Pacific/Auckland"
    html = signed_in(app, mine).get("/settings").get_data(as_text=True)
    assert f'id="tz-{mine.connection_id}"' in html and '<option value="Pacific/Auckland" selected>' in html
    assert '<option value="America/Denver">' in html and '<option value="Europe/London">' in html


def test_the_owner_changes_a_companys_zone_and_the_organization_follows_its_first(
    app: Flask, two_orgs: tuple[Seeded, Seeded]
) -> None:
    mine, theirs = two_orgs
    client = signed_in(app, mine)
    response = client.post(
        f"/settings/timezone/{mine.connection_id}", data={"csrf_token": _token(client), "timezone": "Europe/London"}
    )
    assert response.status_code == 302
    assert _zones(app, mine) == ("Europe/London", "Europe/London")
    assert "Europe/London is saved" in client.get("/settings").get_data(as_text=True)
    with app.extensions["arpilot"].sessions() as db:
        logged = db.scalars(select(ActivityEntry).where(ActivityEntry.kind == "timezone_changed")).one()
    assert logged.organization_id == mine.organization_id and "Europe/London" in logged.message
    assert _zones(app, theirs) == (None, "UTC")


def test_a_zone_that_is_not_one_is_refused_and_nothing_changes(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    client = signed_in(app, mine)
    token = _token(client)
    for bad in ("Mars/Olympus", "", "America/Denver; DROP TABLE", "../../etc/passwd"):
        response = client.post(f"/settings/timezone/{mine.connection_id}", data={"csrf_token": token, "timezone": bad})
        assert response.status_code == 302
        assert "is not a time zone" in client.get("/settings").get_data(as_text=True)
    assert _zones(app, mine) == (None, "UTC")
    refused = client.post(
        f"/settings/timezone/{theirs.connection_id}", data={"csrf_token": token, "timezone": "Europe/London"}
    )
    assert refused.status_code == 404 and _zones(app, theirs) == (None, "UTC")
