"""The owner's Approve list on the web after a real live cycle (issue 14): approve with the owner's
referral date, skip, a bad date refused beside its field, the digest's signed link, scoping; and a
delivered email whose note the books refused reads "done with a warning", never "failed"."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from integration.owner.approvals import approvals_link
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus
from integration.web import create_app, dashboard
from tests.cycle.conftest import World, make_world
from tests.cycle.test_send_time import _scenario
from tests.oauth.webflow import csrf_token
from tests.web.test_dashboard import other_organization, sign_in


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    yield from make_world(_scenario(), sessions, tmp_path)


@pytest.fixture
def app(world: World, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setattr(dashboard, "now", world.clock.now)
    monkeypatch.setattr("integration.web.approvals.now", world.clock.now)
    world.set_rules({"mode": "live"})
    assert world.cycle().status == "done"
    return create_app(dataclasses.replace(world.settings, database_url=database_url))


def _notice(world: World) -> Action:
    return next(a for a in world.actions() if a.kind == "send_reminder" and a.payload["stage"] == "final_notice")


def test_the_final_notice_waits_in_the_approve_list_and_goes_out_with_the_owners_date(world: World, app: Flask) -> None:
    client = sign_in(app, world.organization_id)
    assert "wait for your approval" in client.get("/").get_data(as_text=True)
    notice = _notice(world)
    html = client.get("/approvals").get_data(as_text=True)
    assert f'id="action-{notice.id}"' in html and "Acme Plumbing" in html and "Referral date" in html
    token = csrf_token(client)
    bad = client.post(
        f"/approvals/{notice.id}", data={"decision": "approve", "referral_date": "2026-11-01", "csrf_token": token}
    )
    assert bad.status_code == 400 and "after today" in bad.get_data(as_text=True)
    assert _notice(world).status is ActionStatus.AWAITING_APPROVAL  # nothing changed
    done = client.post(
        f"/approvals/{notice.id}", data={"decision": "approve", "referral_date": "2026-12-14", "csrf_token": token}
    )
    assert done.status_code == 302
    assert _notice(world).payload["approval"] == {"decision": "approved", "referral_date": "2026-12-14"}
    shown = client.get("/approvals").get_data(as_text=True)  # the chosen day read back in the owner's form
    assert "Approved, naming Dec 14, 2026 as the referral date" in shown
    assert world.cycle().status == "done"
    (entry,) = [e for e in world.outbox.entries() if e["subject"].startswith("Final notice")]
    assert "Dec 14, 2026" in entry["subject"]


def test_skip_closes_the_step_and_sends_nothing(world: World, app: Flask) -> None:
    client = sign_in(app, world.organization_id)
    hold = next(a for a in world.actions() if a.kind == "credit_hold_on")
    response = client.post(f"/approvals/{hold.id}", data={"decision": "skip", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    skipped = next(a for a in world.actions() if a.id == hold.id)
    assert skipped.status is ActionStatus.SKIPPED and skipped.last_error == "skipped by the owner"
    again = client.post(f"/approvals/{hold.id}", data={"decision": "approve", "csrf_token": csrf_token(client)})
    assert again.status_code == 400 and "no longer waiting" in again.get_data(as_text=True)


def test_the_digest_link_is_signed_for_one_organization_and_needs_its_owner(
    world: World, app: Flask, sessions: sessionmaker[Session]
) -> None:
    secret = world.settings.secret_key
    link = approvals_link("http://localhost", secret, world.organization_id).removeprefix("http://localhost")
    assert app.test_client().get(link).status_code == 302  # not signed in: to the sign-in page
    assert sign_in(app, world.organization_id).get(link).status_code == 200
    intruder = other_organization(sessions)
    assert sign_in(app, intruder).get(link).status_code == 404  # a link for another organization
    forged = approvals_link("http://localhost", "not the secret", world.organization_id).removeprefix(
        "http://localhost"
    )
    assert sign_in(app, world.organization_id).get(forged).status_code == 404
    other = sign_in(app, intruder)
    notice = _notice(world)
    response = other.post(f"/approvals/{notice.id}", data={"decision": "approve", "csrf_token": csrf_token(other)})
    assert response.status_code == 404 and _notice(world).status is ActionStatus.AWAITING_APPROVAL


def test_a_delivered_email_with_a_refused_note_reads_done_with_a_warning(world: World, app: Flask) -> None:
    email = next(a for a in world.actions() if a.kind == "send_reminder" and a.status is ActionStatus.DONE)
    with transaction(world.sessions) as session:  # as the executor leaves it (tests/cycle/test_send_time.py)
        row = session.get(Action, email.id)
        assert row is not None
        row.warning = "delivered, but the note could not be written into the books: the books are closed"
    client = sign_in(app, world.organization_id)
    html = client.get("/").get_data(as_text=True)
    assert "sent, note not written" in html
    activity = client.get("/activity").get_data(as_text=True)
    assert "done with warning" in activity and "the books are closed" in activity
