"""The team: roles enforced on every post (a collector logs calls and nothing else, a viewer reads),
and invitations that expire, work once and can be withdrawn; an invited person who signs in with
Xero joins the owner's organization instead of getting one of their own."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from integration.owner.reply_address import suggested_reply_address
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Invitation, Organization, OrganizationRules, User
from integration.store.team import set_role, token_hash
from tests.oauth.xero_flow import XeroSandbox
from tests.oauth.xero_flow import consent as xero_consent
from tests.web.conftest import Seeded, seed_organization, signed_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(client: FlaskClient, path: str = "/team") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def _member(app: Flask, seeded: Seeded, role: str, subject: str) -> Seeded:
    """A second person in `seeded`'s organization with `role`, as a Seeded to sign in with."""
    with transaction(app.extensions["arpilot"].sessions) as db:
        user = User(organization_id=seeded.organization_id, provider="xero", subject=subject, role=role)
        db.add(user)
        db.flush()
        return Seeded(**{**seeded.__dict__, "user_id": user.id})


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed_organization(app.extensions["arpilot"].sessions, "Harbor & Pine", "9130001", "Acme Tools")


def test_a_collector_logs_a_call_but_cannot_change_settings(app: Flask, seeded: Seeded) -> None:
    client = signed_in(app, _member(app, seeded, "collector", "collector-1"))
    token = _token(client, "/")
    sessions = app.extensions["arpilot"].sessions
    outcomes = select(func.count()).where(ActivityEntry.kind == "call_outcome")
    with sessions() as db:
        before = db.scalar(outcomes)
    call_task = seeded.action_ids[2]
    logged = client.post(f"/calls/{call_task}/outcome", data={"csrf_token": token, "outcome": "no_answer"})
    assert logged.status_code == 302
    refused = client.post("/settings", data={"csrf_token": token, "observe": "on"})
    assert refused.status_code == 403 and "Only an owner can change this" in refused.get_data(as_text=True)
    assert client.post("/team/invitations", data={"csrf_token": token, "email": "x@example.com"}).status_code == 403
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(OrganizationRules)) == 0  # nothing saved
        assert db.scalar(outcomes) == before + 1
    assert client.get("/settings").status_code == 200  # reading is open to every member


def test_a_viewer_reads_every_page_and_posts_nothing_but_the_switcher_and_sign_out(app: Flask, seeded: Seeded) -> None:
    client = signed_in(app, _member(app, seeded, "viewer", "viewer-1"))
    for path in ("/", "/settings", "/companies", "/team", "/activity"):
        assert client.get(path).status_code == 200, path
    team = client.get("/team").get_data(as_text=True)
    assert "Invite someone" not in team and "Change role" not in team  # the owner's controls are not offered
    token = _token(client, "/")
    outcome = client.post(f"/calls/{seeded.action_ids[2]}/outcome", data={"csrf_token": token, "outcome": "no_answer"})
    assert outcome.status_code == 403
    disconnect = client.post(f"/connections/{seeded.connection_id}/disconnect", data={"csrf_token": token})
    assert disconnect.status_code == 403
    switched = client.post("/companies/select", data={"csrf_token": token, "company": str(seeded.connection_id)})
    assert switched.status_code == 302
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/team").status_code == 302  # signed out


def _invite(client: FlaskClient, email: str = "sam@example.com", role: str = "collector") -> str:
    page = client.post("/team/invitations", data={"csrf_token": _token(client), "email": email, "role": role})
    assert page.status_code == 200, page.data
    link = re.search(r'id="invite-link" value="([^"]+)"', page.get_data(as_text=True))
    assert link, "the page shows the link to copy"
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link.group(1).replace("&amp;", "&")).query))["token"]


def test_an_invitation_is_stored_hashed_and_a_bad_address_is_refused_plainly(app: Flask, seeded: Seeded) -> None:
    owner = signed_in(app, seeded)
    token = _invite(owner)
    with app.extensions["arpilot"].sessions() as db:
        invitation = db.scalars(select(Invitation)).one()
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    assert (invitation.email, invitation.role) == ("sam@example.com", "collector")
    outbox = app.extensions["arpilot"].settings.outbox_dir
    [sent] = [p for p in outbox.rglob("*.eml") if token in p.read_text()]  # the link was emailed too
    assert "sam@example.com" in sent.read_text()
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=7)
    bad = owner.post(
        "/team/invitations", data={"csrf_token": _token(owner), "email": "not an address", "role": "viewer"}
    )
    assert bad.status_code == 400 and "Enter the email address" in bad.get_data(as_text=True)
    assert 'value="not an address"' in bad.get_data(as_text=True)  # what was typed is kept
    forged = owner.post("/team/invitations", data={"csrf_token": _token(owner), "email": "a@b.example", "role": "god"})
    assert forged.status_code == 400 and "Choose a role" in forged.get_data(as_text=True)


def test_an_expired_or_withdrawn_invitation_is_refused(app: Flask, seeded: Seeded) -> None:
    owner = signed_in(app, seeded)
    expired, withdrawn = _invite(owner, "old@example.com"), _invite(owner, "gone@example.com")
    with transaction(app.extensions["arpilot"].sessions) as db:
        row = db.scalars(select(Invitation).where(Invitation.email == "old@example.com")).one()
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        withdrawn_id = db.scalars(select(Invitation.id).where(Invitation.email == "gone@example.com")).one()
    assert (
        owner.post(
            "/team/invitations/revoke", data={"csrf_token": _token(owner), "invitation_id": str(withdrawn_id)}
        ).status_code
        == 302
    )
    stranger = app.test_client()
    page = stranger.get("/join", query_string={"token": expired})
    assert page.status_code == 400 and "has expired" in page.get_data(as_text=True)
    page = stranger.get("/join", query_string={"token": withdrawn})
    assert page.status_code == 400 and "withdrawn" in page.get_data(as_text=True)
    page = stranger.get("/join", query_string={"token": "made-up"})
    assert page.status_code == 400 and "not valid" in page.get_data(as_text=True)


def test_an_invited_person_joins_with_xero_once(make_app, xero_sandbox: XeroSandbox) -> None:  # type: ignore[no-untyped-def]
    app = make_app(xero=xero_sandbox.config, xero_webhook_key=xero_sandbox.webhook_key)
    seeded = seed_organization(app.extensions["arpilot"].sessions, "Harbor & Pine", "9130001", "Acme Tools")
    token = _invite(signed_in(app, seeded), "sam@example.com", "collector")
    invitee = app.test_client()
    welcome = invitee.get("/join", query_string={"token": token})
    assert welcome.status_code == 200 and "Join Harbor &amp; Pine" in welcome.get_data(as_text=True)
    tenant = xero_sandbox.tenant_ids()["demo"]
    joined = invitee.get("/connect/xero/callback", query_string=xero_consent(invitee, [tenant]))
    assert joined.status_code == 302 and joined.headers["Location"] == "/"
    with app.extensions["arpilot"].sessions() as db:
        member = db.scalars(select(User).where(User.provider == "xero")).one()
        assert (member.organization_id, member.role) == (seeded.organization_id, "collector")
        assert db.scalar(select(func.count()).select_from(Organization)) == 1  # no account of their own
        assert db.scalars(select(Invitation)).one().accepted_user_id == member.id
    assert "You joined Harbor &amp; Pine as collector." in invitee.get("/").get_data(as_text=True)
    # Single use: the link now refuses anyone, the invitee included.
    again = app.test_client().get("/join", query_string={"token": token})
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    # Signing in again later signs the member in; it connects no company (only owners add companies).
    later = app.test_client()
    assert later.get("/connect/xero/callback", query_string=xero_consent(later, [tenant])).status_code == 302
    with app.extensions["arpilot"].sessions() as db:
        assert db.scalar(select(func.count()).where(User.organization_id == seeded.organization_id)) == 2
    with later.session_transaction() as session:
        assert session["user_id"] == member.id


def test_the_owner_changes_roles_and_removes_members_but_never_the_last_owner(app: Flask, seeded: Seeded) -> None:
    viewer = _member(app, seeded, "viewer", "viewer-2")
    owner = signed_in(app, seeded)
    changed = owner.post(
        "/team/members/role", data={"csrf_token": _token(owner), "user_id": str(viewer.user_id), "role": "collector"}
    )
    assert changed.status_code == 302
    last = owner.post(
        "/team/members/role", data={"csrf_token": _token(owner), "user_id": str(seeded.user_id), "role": "viewer"}
    )
    assert last.status_code == 400 and "at least one owner" in last.get_data(as_text=True)
    assert (
        owner.post(
            "/team/members/remove", data={"csrf_token": _token(owner), "user_id": str(seeded.user_id)}
        ).status_code
        == 400
    )
    other = seed_organization(app.extensions["arpilot"].sessions, "Other Org", "9130002", "Rival")
    stranger = owner.post("/team/members/remove", data={"csrf_token": _token(owner), "user_id": str(other.user_id)})
    assert stranger.status_code == 400 and "no such member" in stranger.get_data(as_text=True)
    removed_client = signed_in(app, viewer)
    assert (
        owner.post(
            "/team/members/remove", data={"csrf_token": _token(owner), "user_id": str(viewer.user_id)}
        ).status_code
        == 302
    )
    with app.extensions["arpilot"].sessions() as db:
        assert [u.role for u in db.scalars(select(User).where(User.organization_id == seeded.organization_id))] == [
            "owner"
        ]
        assert db.get(User, other.user_id) is not None
    assert removed_client.get("/team").status_code == 302  # their browser is signed out


def test_the_suggested_reply_address_is_an_owners(app: Flask, seeded: Seeded) -> None:
    sessions = app.extensions["arpilot"].sessions
    with transaction(sessions) as db:
        db.add(User(organization_id=seeded.organization_id, provider="xero", subject="o2", email="boss@example.com"))
        db.flush()
        set_role(db, seeded.organization_id, seeded.user_id, "collector", dt.datetime.now(dt.UTC))
    with sessions() as db:
        assert suggested_reply_address(db, seeded.organization_id) == "boss@example.com"  # not the collector's
