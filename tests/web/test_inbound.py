"""`POST /inbound/sendgrid`: only SendGrid with the secret gets in, and every email that does is kept."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from integration.inbound.tokens import reply_address
from integration.store.models import InboundReply
from tests.conftest import MakeApp
from tests.inbound.test_mail import _form
from tests.web.conftest import Seeded, seed_organization, signed_in

SECRET = "s3cret-for-inbound"
AUTH = ("arpilot", SECRET)


@pytest.fixture
def app(make_app: MakeApp, database_url: str) -> Flask:
    return make_app(
        database_url=database_url,
        inbound_secret=SECRET,
        test_config={"ARPILOT_BODY_LIMITS": {"inbound.sendgrid": 20_000}},
    )


@pytest.fixture
def orgs(app: Flask) -> tuple[Seeded, Seeded]:
    sessions = app.extensions["arpilot"].sessions
    return seed_organization(sessions, "Harbor & Pine", "9130001", "Acme Tools"), seed_organization(
        sessions, "Other Org", "9130002", "Rival Customer"
    )


def _replies(app: Flask) -> list[InboundReply]:
    with app.extensions["arpilot"].sessions() as session:
        return list(session.scalars(select(InboundReply).order_by(InboundReply.id)))


def _post(app: Flask, fields: dict[str, bytes], auth: tuple[str, str] | None = AUTH):  # type: ignore[no-untyped-def]
    body, content_type = _form(fields)
    return app.test_client().post("/inbound/sendgrid", data=body, content_type=content_type, auth=auth)


def _email(sender: str, to: str, text: str, message_id: str = "<m1@acme.example>") -> dict[str, bytes]:
    return {
        "from": sender.encode(),
        "to": to.encode(),
        "subject": b"Re: Payment reminder",
        "text": text.encode(),
        "headers": f"Message-ID: {message_id}\n".encode(),
        "envelope": f'{{"to": ["{to}"]}}'.encode(),
    }


@pytest.mark.parametrize("auth", [None, ("arpilot", "wrong"), ("arpilot", "")])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_read(app: Flask, auth: tuple[str, str] | None) -> None:
    response = _post(app, _email("ap@example.com", "replies@inbound.arpilot.local", "hi"), auth=auth)
    assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"]
    assert _replies(app) == []


def test_without_a_configured_secret_the_webhook_is_closed(make_app: MakeApp, database_url: str) -> None:
    app = make_app(database_url=database_url, inbound_secret=None)
    response = _post(app, _email("ap@example.com", "replies@inbound.arpilot.local", "hi"))
    assert response.status_code == 503 and "ARPILOT_INBOUND_SECRET" in response.get_json()["error"]


def test_a_body_that_is_no_form_gets_a_clear_400_and_is_kept(app: Flask) -> None:
    response = app.test_client().post("/inbound/sendgrid", data=b'{"a": 1}', content_type="application/json", auth=AUTH)
    assert response.status_code == 400 and "multipart/form-data" in response.get_json()["error"]
    (kept,) = _replies(app)
    assert kept.status == "unreadable" and kept.raw == b'{"a": 1}'


def test_a_body_over_the_limit_is_refused_with_413(app: Flask) -> None:
    response = _post(app, _email("ap@example.com", "replies@inbound.arpilot.local", "x" * 30_000))
    assert response.status_code == 413 and _replies(app) == []


def test_an_email_from_nobody_known_is_kept_as_unmatched_with_the_reason(
    app: Flask, orgs: tuple[Seeded, Seeded]
) -> None:
    response = _post(app, _email("stranger@nowhere.example", "replies@inbound.arpilot.local", "hello"))
    assert response.status_code == 200 and response.get_json()["status"] == "unmatched"
    (kept,) = _replies(app)
    assert kept.organization_id is None and "no reply token" in (kept.problem or "")
    for seeded in orgs:
        assert "stranger@nowhere.example" not in signed_in(app, seeded).get("/").get_data(as_text=True)


def test_an_unknown_token_falls_back_to_the_sender_and_a_redelivery_is_recognised(app: Flask) -> None:
    mine = seed_organization(app.extensions["arpilot"].sessions, "Harbor & Pine", "9130001", "Acme Tools")
    forged = "replies+r999999-0123456789ab@inbound.arpilot.local"
    first = _post(app, _email("AP@example.com", forged, "The invoice is wrong"))
    assert first.get_json()["status"] == "reply"
    (reply,) = _replies(app)
    assert (reply.matched_by, reply.organization_id, reply.says_paid) == ("sender", mine.organization_id, False)
    assert reply.action_id is not None  # the thread: the latest reminder to that customer
    again = _post(app, _email("AP@example.com", forged, "The invoice is wrong"))
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate" and len(_replies(app)) == 1


def test_a_sender_known_to_two_organizations_is_matched_to_neither(app: Flask, orgs: tuple[Seeded, Seeded]) -> None:
    response = _post(app, _email("ap@example.com", "replies@inbound.arpilot.local", "The invoice is wrong"))
    assert response.get_json()["status"] == "unmatched"
    (kept,) = _replies(app)
    assert kept.organization_id is None and "several customers" in (kept.problem or "")


def test_a_token_reply_shows_only_to_its_own_organization(app: Flask, orgs: tuple[Seeded, Seeded]) -> None:
    mine, other = orgs
    token = reply_address("replies@inbound.arpilot.local", mine.action_ids[0], app.config["SECRET_KEY"])
    assert _post(app, _email("someone@else.example", token, "We paid <b>yesterday</b>")).get_json()["status"] == "reply"
    (reply,) = _replies(app)
    assert (reply.matched_by, reply.action_id, reply.says_paid) == ("token", mine.action_ids[0], True)
    assert "We paid &lt;b&gt;yesterday&lt;/b&gt;" in signed_in(app, mine).get("/").get_data(as_text=True)
    assert "We paid" not in signed_in(app, other).get("/").get_data(as_text=True)
    assert signed_in(app, other).post(f"/replies/{reply.id}/checked").status_code in (400, 404)


def test_the_owner_closes_the_check_task(app: Flask, orgs: tuple[Seeded, Seeded]) -> None:
    token = reply_address("replies@inbound.arpilot.local", orgs[0].action_ids[0], app.config["SECRET_KEY"])
    _post(app, _email("ap@example.com", token, "We have already paid this."))
    (reply,) = _replies(app)
    client = signed_in(app, orgs[0])
    page = client.get("/").get_data(as_text=True)
    assert "Check: they say it is paid." in page
    token_field = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"/replies/{reply.id}/checked", data={"csrf_token": token_field}).status_code == 302
    assert "Check: they say it is paid." not in client.get("/").get_data(as_text=True)
