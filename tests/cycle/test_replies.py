"""A customer's reply to a real reminder, end to end on both sandboxes and both ways mail comes in.

The cycle sends a reminder whose Reply-To carries a reply token; the customer's reply arrives
through SendGrid's Inbound Parse webhook or the embedded inbox folder; it is matched by the token,
forwarded to the owner, shown on the dashboard and in the customer's record, and pauses that
customer's reminders, while an out-of-office reply pauses nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.cycle.gather import load_snapshot
from integration.cycle.run import cycle_once
from integration.inbound.inbox import read_inbox
from integration.inbound.ingest import InboundDeps
from integration.owner.reply_address import confirm_reply_address
from integration.owner.stored_rules import load_rules
from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.store.db import transaction
from integration.store.models import InboundReply, MirroredCustomer
from integration.web import create_app
from integration.web import inbound as inbound_web
from tests.cycle.conftest import NOW, make_world
from tests.cycle.xero_world import make_xero_world
from tests.sandbox.conftest import small_scenario
from tests.web.test_dashboard import sign_in

INBOUND = "replies@inbound.harborpine.example"
OWNER = "owner@harborpine.example"
SECRET = "inbound-test-secret"
LATER = dt.timedelta(days=15)


@pytest.fixture(params=["quickbooks", "xero"])
def any_world(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Any]:
    make = make_world if request.param == "quickbooks" else make_xero_world
    yield from make(small_scenario(NOW.date()), sessions, tmp_path)


def _reminded(world: Any, database_url: str) -> tuple[email.message.EmailMessage, MirroredCustomer, Flask]:
    """A live cycle with reply tokens on; the reminder Acme received, Acme, and the owner's web app."""
    _live_cycle_with_reply_tokens(world)
    return _reminder_to(world, "ap@acme.example"), _customer(world, "ap@acme.example"), _web_app(world, database_url)


def _live_cycle_with_reply_tokens(world: Any) -> None:
    with transaction(world.sessions) as session:
        confirm_reply_address(session, world.organization_id, OWNER, NOW)
    world.set_rules({"mode": "live", "pauses": {"reply_pause_days": 30}})
    deps = dataclasses.replace(world.deps(), inbound_address=INBOUND, token_secret=world.settings.secret_key)
    assert cycle_once(deps, world.connection_id).status == "done"


def _reminder_to(world: Any, customer_email: str) -> email.message.EmailMessage:
    entry = next(e for e in world.outbox.entries() if customer_email in e["to"])
    raw = (world.outbox.directory / entry["file"]).read_bytes()
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def _reply(reminder: email.message.EmailMessage, body: str, *, extra: str = "", subject: str | None = None) -> bytes:
    return (
        f"From: Accounts Payable <{reminder['To'].addresses[0].addr_spec}>\r\n"
        f"To: {reminder['Reply-To']}\r\n"
        f"Subject: {subject or 'Re: ' + str(reminder['Subject'])}\r\n"
        f"Message-ID: <{abs(hash(body))}@acme.example>\r\n{extra}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n\r\nOn Mon, 23 Nov 2026 arpilot wrote:\r\n> {reminder['Subject']}\r\n"
    ).encode()


def _web_app(world: Any, database_url: str) -> Flask:
    settings = dataclasses.replace(
        world.settings,
        database_url=database_url,
        inbound_address=INBOUND,
        inbound_secret=SECRET,
        outbox_dir=world.outbox.directory,
        embedded_clock=False,
    )
    return create_app(settings)


def _deliver(channel: str, world: Any, app: Flask, raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    if channel == "inbox":
        inbox = world.settings.var_dir / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / f"{len(list(inbox.iterdir()))}.eml").write_bytes(raw)
        deps = InboundDeps(
            world.sessions,
            world.outbox,
            INBOUND,
            world.settings.secret_key,
            "reminders@arpilot.local",
            clock=world.clock.now,
        )
        assert [f.result.status for f in read_inbox(deps, inbox) if f.result] != []
        return
    monkeypatch.setattr(inbound_web.common, "now", world.clock.now)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    form = {
        "to": str(message["To"]),
        "from": str(message["From"]),
        "subject": str(message["Subject"]),
        "text": message.get_body().get_content(),  # type: ignore[union-attr]
        "headers": "".join(f"{k}: {v}\n" for k, v in message.items()),
        "envelope": f'{{"to": ["{message["To"].addresses[0].addr_spec}"], "from": "x@acme.example"}}',
        "charsets": '{"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "text": "utf-8"}',
    }
    response = app.test_client().post(
        "/inbound/sendgrid", data=form, content_type="multipart/form-data", auth=("arpilot", SECRET)
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def _reminders_later(world: Any, customer_id: str) -> list[Any]:
    """The reminders the policy would send this customer 15 days on (reminder 1 is due by then)."""
    later = world.clock.now() + LATER
    with world.sessions() as session:
        rules = load_rules(session, world.organization_id)
        snapshot = load_snapshot(session, world.connection_id, later)
    return [
        a for a in decide(snapshot, rules, later) if a.kind is ActionKind.SEND_REMINDER and a.customer_id == customer_id
    ]


def _customer(world: Any, email_address: str) -> MirroredCustomer:
    with world.sessions() as session:
        return session.scalars(
            select(MirroredCustomer).where(
                MirroredCustomer.connection_id == world.connection_id, MirroredCustomer.email == email_address
            )
        ).one()


@pytest.mark.parametrize("channel", ["sendgrid", "inbox"])
def test_a_reply_pauses_the_customer_and_reaches_the_owner_dashboard_and_record(
    any_world: Any,
    channel: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = any_world
    reminder, customer, app = _reminded(world, database_url)
    assert str(reminder["Reply-To"]).split("<")[-1].startswith("replies+r")  # the token rides in the address
    assert OWNER in reminder.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert _reminders_later(world, customer.provider_id)  # without a reply the ladder goes on

    hostile = "We paid on Friday <script>alert('x')</script>, see remittance."
    _deliver(channel, world, app, _reply(reminder, hostile), monkeypatch)

    with world.sessions() as session:
        reply = session.scalars(select(InboundReply)).one()
    assert (reply.status, reply.matched_by, reply.customer_provider_id) == ("reply", "token", customer.provider_id)
    assert reply.says_paid and reply.paused_until is not None
    assert _reminders_later(world, customer.provider_id) == []  # paused
    forward = [e for e in world.outbox.entries() if e["to"] == [OWNER]]
    assert len(forward) == 1 and "Reply from Acme Plumbing" in forward[0]["subject"]

    client = sign_in(app, world.organization_id)
    page = client.get("/").get_data(as_text=True)
    assert (
        "Replies from customers" in page and "We paid on Friday &lt;script&gt;" in page and "<script>alert" not in page
    )
    assert "Check: they say it is paid." in page and "Reminders paused until" in page
    assert "in reply to the check in email" in page  # the thread: the reminder the customer answered
    record = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "We paid on Friday &lt;script&gt;" in record and "reminders paused until" in record


@pytest.mark.parametrize("channel", ["sendgrid", "inbox"])
def test_an_out_of_office_reply_is_recorded_and_pauses_nothing(
    any_world: Any,
    channel: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = any_world
    reminder, customer, app = _reminded(world, database_url)
    raw = _reply(
        reminder,
        "I am out of the office until Monday.",
        extra="Auto-Submitted: auto-replied\r\n",
        subject="Automatic reply: " + str(reminder["Subject"]),
    )
    _deliver(channel, world, app, raw, monkeypatch)
    with world.sessions() as session:
        reply = session.scalars(select(InboundReply)).one()
    assert (reply.status, reply.paused_until, reply.says_paid) == ("automatic", None, False)
    assert _reminders_later(world, customer.provider_id)  # reminders continue
    assert [e for e in world.outbox.entries() if e["to"] == [OWNER]] == []
    page = sign_in(app, world.organization_id).get("/").get_data(as_text=True)
    assert "Automatic reply: reminders continue" in page
