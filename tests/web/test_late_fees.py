"""The customer's settings page lists the late fees arpilot charged, and the owner reverses one
with a note: void in the books, noted on the overdue invoice, recorded; never another
organization's fee, never without a note, never in observe mode."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.owner.stored_rules import save_rules
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import Action, ActivityEntry, MirroredCustomer
from integration.web import create_app, late_fees
from tests.cycle.conftest import NOW, World, make_world
from tests.sandbox.conftest import small_scenario
from tests.web.test_dashboard import other_organization, sign_in

GO_AHEAD = {"enabled": True, "approve_first": False}


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    yield from make_world(small_scenario(NOW.date()), sessions, tmp_path)


def live_rules(world: World, mode: str = "live") -> None:
    data = Rules.default().to_json()
    data["mode"], data["late_fees"] = mode, {**data["late_fees"], **GO_AHEAD}
    with transaction(world.sessions) as session:
        save_rules(session, world.organization_id, data)


@pytest.fixture
def charged(world: World) -> Action:
    live_rules(world)
    assert world.cycle().status == "done"
    return next(a for a in world.actions() if a.kind == "charge_late_fee")


@pytest.fixture
def app(world: World, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setattr(late_fees, "now", world.clock.now)
    return create_app(dataclasses.replace(world.settings, database_url=database_url))


def page_of(world: World, charged: Action) -> str:
    with world.sessions() as session:
        customer = session.scalars(
            select(MirroredCustomer).where(MirroredCustomer.provider_id == charged.payload["customer_id"])
        ).one()
    return f"/settings/customers/{customer.id}"


def token(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def test_the_page_lists_the_fee_with_a_labelled_reversal_form(world: World, charged: Action, app: Flask) -> None:
    html = sign_in(app, world.organization_id).get(page_of(world, charged)).get_data(as_text=True)
    assert '<h2 id="late-fees">Late fees</h2>' in html
    assert "Late fee LF-1003 on invoice 1003" in html and "$25.00" in html  # in the owner's locale (en_US)
    assert f'<label for="fee-{charged.id}-note">' in html and f'id="fee-{charged.id}-note"' in html


def test_reversing_voids_the_fee_with_the_note_and_records_it(world: World, charged: Action, app: Flask) -> None:
    client = sign_in(app, world.organization_id)
    path = page_of(world, charged)
    refused = client.post(
        f"/settings/late-fees/{charged.id}/reverse", data={"note": "  ", "csrf_token": token(client, path)}
    )
    assert refused.status_code == 302
    assert "Say why you reverse this fee" in client.get(path).get_data(as_text=True)
    done = client.post(
        f"/settings/late-fees/{charged.id}/reverse",
        data={"note": "Goodwill: first time late", "csrf_token": token(client, path)},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"{path}#late-fees")
    html = client.get(path).get_data(as_text=True)
    assert "is void in the accounting system" in html and "Goodwill: first time late" in html
    with world.sessions() as session:
        row = session.get(Action, charged.id)
        assert row is not None and row.payload["reversed"]["note"] == "Goodwill: first time late"
        assert session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "late_fee_reversed")).one()
    invoices = world.qbo.sandbox.companies[world.qbo.realm].entities["Invoice"]
    (fee_record,) = [r for r in invoices.values() if r.get("DocNumber") == "LF-1003"]
    assert fee_record.get("_voided") and "Goodwill: first time late" in fee_record["PrivateNote"]
    assert "reversed on" in world.notes()[charged.payload["invoice_ids"][0]]
    again = client.post(
        f"/settings/late-fees/{charged.id}/reverse", data={"note": "twice", "csrf_token": token(client, path)}
    )
    assert again.status_code == 302 and "already reversed" in client.get(path).get_data(as_text=True)


def test_observe_mode_writes_nothing(world: World, charged: Action, app: Flask) -> None:
    live_rules(world, "observe")
    client = sign_in(app, world.organization_id)
    path = page_of(world, charged)
    client.post(f"/settings/late-fees/{charged.id}/reverse", data={"note": "no", "csrf_token": token(client, path)})
    assert "Observe mode" in client.get(path).get_data(as_text=True)
    assert "reversed" not in world.actions()[[a.id for a in world.actions()].index(charged.id)].payload


def test_another_organizations_fee_is_not_found(world: World, charged: Action, app: Flask) -> None:
    intruder = sign_in(app, other_organization(world.sessions))
    found = re.search(r'name="csrf_token" value="([^"]+)"', intruder.get("/settings").get_data(as_text=True))
    assert found
    response = intruder.post(
        f"/settings/late-fees/{charged.id}/reverse", data={"note": "mine now", "csrf_token": found.group(1)}
    )
    assert response.status_code == 404
