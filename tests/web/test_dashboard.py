"""The signed-in owner's dashboard after a real live cycle on the QuickBooks sandbox, and logging
what came of a call: the note written back at the provider, the pause the policy honours,
CSRF protection and organization scoping."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask import session as flask_session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import integration.cycle.run as cycle_module
from connectors.contract import AuthExpired
from integration.store.db import transaction
from integration.store.models import (
    Action,
    ActivityEntry,
    Connection,
    ConnectionStatus,
    InvoicePause,
    MirroredCustomer,
    Organization,
    User,
)
from integration.web import create_app, dashboard
from tests.cycle.conftest import World, make_world
from tests.cycle.xero_world import XeroWorld, make_xero_world
from tests.oauth.webflow import csrf_token
from tests.sandbox.conftest import small_scenario

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
OUTCOME_BUTTONS = ("Promised to pay", "Disputed", "Paid", "No answer")


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    yield from make_world(small_scenario(NOW.date()), sessions, tmp_path)


@pytest.fixture
def live_world(world: World) -> World:
    world.set_rules({"mode": "live"})
    assert world.cycle().status == "done"
    return world


@pytest.fixture
def app(world: World, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setattr(dashboard, "now", world.clock.now)  # the page's today is the sandbox's
    return create_app(dataclasses.replace(world.settings, database_url=database_url))


def sign_in(app: Flask, organization_id: int) -> FlaskClient:
    client = app.test_client()
    with app.extensions["arpilot"].sessions() as session:
        user = session.scalars(select(User).where(User.organization_id == organization_id)).first()
        assert user is not None
    with client.session_transaction() as cookie:
        cookie["user_id"], cookie["organization_id"] = user.id, organization_id
    return client


def other_organization(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        organization = Organization(name="Someone Else Ltd")
        session.add(organization)
        session.flush()
        session.add(
            User(organization_id=organization.id, provider="quickbooks", subject="intruder", email="x@else.example")
        )
        return organization.id


def call_task(world: World | XeroWorld, name_starts: str) -> Action:
    """The call task the live cycle made for the customer whose name starts so."""
    with world.sessions() as session:
        customer = session.scalars(select(MirroredCustomer).where(MirroredCustomer.name.startswith(name_starts))).one()
    return next(
        a for a in world.actions() if a.kind == "create_call_task" and a.payload["customer_id"] == customer.provider_id
    )


class _Form(HTMLParser):
    """Inputs and the labels that point at them."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.inputs.append(values)
        if tag == "label" and values.get("for"):
            self.labelled.add(values["for"] or "")


def test_owner_sees_the_cycles_work_on_the_dashboard(live_world: World, app: Flask) -> None:
    response = sign_in(app, live_world.organization_id).get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Aging: an accessible SVG with a title, and the same figures as a table.
    assert re.search(r'<svg[^>]+role="img"[^>]+aria-labelledby="aging-USD-title aging-USD-desc"', html)
    assert '<title id="aging-USD-title">Open invoices in USD by days past due</title>' in html
    assert "<caption>Open balances in USD</caption>" in html
    # The trend: receivables today are every open balance (450.50 + 200 + 99.99 + 75.25).
    assert "Today: $825.74 owed" in html  # the amount in the owner's locale (web/formatting.py)
    assert 'class="line line-receivable"' in html and 'class="line line-dso"' in html
    # The call list: both call tasks, with talking points and the four outcome buttons.
    assert html.count('<li class="call" id="call-') == 2
    assert "O&#39;Brien\\Sons Hardware" in html and "Cobalt Dental" in html
    assert "Invoice 1003: 200.00 USD open, 25 days late" in html
    assert re.search(
        r"""<a href="/settings/customers/\d+">Cobalt Dental's settings: pause, exclude, payment plan</a>""", html
    )
    for label in OUTCOME_BUTTONS:
        assert html.count(f">{label}</button>") == 2
    # Today's actions, the outbox (the reminder's subject), connection health.
    assert "Today's actions" in html and "Reminder email" in html and "Call task" in html
    subject = next(a.payload["subject"] for a in live_world.actions() if a.kind == "send_reminder")
    assert str(escape(subject)) in html
    assert "Last cycle: done" in html and 'class="badge badge-ok">active' in html
    next_run = re.search(r"<td><time datetime=\"([^\"]+)\">", html.split('id="connections-heading"')[1])
    assert next_run is not None
    # Every visible input has a label.
    form = _Form()
    form.feed(html)
    assert form.inputs and all(i.get("id") in form.labelled for i in form.inputs), form.inputs


def test_promise_to_pay_is_noted_at_quickbooks_and_pauses_the_invoice(live_world: World, app: Flask) -> None:
    task = call_task(live_world, "O'Brien")
    client = sign_in(app, live_world.organization_id)
    response = client.post(
        f"/calls/{task.id}/outcome",
        data={
            "csrf_token": csrf_token(client),
            "outcome": "promised",
            "promised_on": "2026-12-04",
            "comment": "Cheque in the post",
        },
    )
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Recorded “Promised to pay” by Dec 4, 2026" in page and f'id="call-{task.id}"' not in page
    notes = live_world.notes()
    for invoice_id in task.payload["invoice_ids"]:
        assert "customer promised to pay by 2026-12-04. Cheque in the post" in notes[invoice_id]
    with live_world.sessions() as session:
        pauses = {p.invoice_provider_id: p.promise_to_pay for p in session.scalars(select(InvoicePause))}
        entry = session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "call_outcome")).one()
        recorded = session.scalars(
            select(ActivityEntry.invoice_provider_id).where(ActivityEntry.kind == "owner_invoice_settings")
        ).all()
    assert pauses == dict.fromkeys(task.payload["invoice_ids"], dt.date(2026, 12, 4))
    assert sorted(recorded) == sorted(task.payload["invoice_ids"])  # like a promise set on the settings page
    assert (entry.action_id, entry.details["outcome"], entry.details["note"]) == (task.id, "promised", "written")
    # A week on, invoice 1003 would be at past due 30; the promise holds the ladder for it.
    before = {a.id for a in live_world.actions()}
    live_world.clock.advance(dt.timedelta(days=7))
    assert live_world.cycle().status == "done"
    later = [a for a in live_world.actions() if a.id not in before]
    assert not [a for a in later if set(a.payload["invoice_ids"]) & set(task.payload["invoice_ids"])]


def test_dispute_and_no_answer(live_world: World, app: Flask) -> None:
    client = sign_in(app, live_world.organization_id)
    cobalt = call_task(live_world, "Cobalt")
    token = csrf_token(client)
    assert (
        client.post(f"/calls/{cobalt.id}/outcome", data={"csrf_token": token, "outcome": "no_answer"}).status_code
        == 302
    )
    page = client.get("/").get_data(as_text=True)
    assert f'id="call-{cobalt.id}"' in page and "tried 1×" in page  # still to call, with the try in its history
    assert "Call outcome: No answer." in page
    with transaction(live_world.sessions) as session:  # the owner had already recorded a promise on the invoice
        session.add(
            InvoicePause(
                connection_id=live_world.connection_id,
                invoice_provider_id=cobalt.payload["invoice_ids"][0],
                promise_to_pay=dt.date(2026, 12, 20),
                note="said after Christmas",
            )
        )
    assert (
        client.post(f"/calls/{cobalt.id}/outcome", data={"csrf_token": token, "outcome": "disputed"}).status_code == 302
    )
    assert f'id="call-{cobalt.id}"' not in client.get("/").get_data(as_text=True)
    note = live_world.notes()[cobalt.payload["invoice_ids"][0]]
    assert "arpilot: call to customer: no answer." in note and "customer disputes the invoice" in note
    with live_world.sessions() as session:
        pause = session.scalars(select(InvoicePause)).one()
    assert (pause.invoice_provider_id, pause.disputed, pause.promise_to_pay, pause.note) == (
        cobalt.payload["invoice_ids"][0],
        True,
        dt.date(2026, 12, 20),
        "said after Christmas",
    )  # what stood stays


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"outcome": "promised"}, "Enter the date the customer promised to pay by."),
        ({"outcome": "promised", "promised_on": "2026-11-01"}, "The promised date cannot be in the past."),
        ({"outcome": "promised", "promised_on": "4 December"}, "Enter the promised date as YYYY-MM-DD."),
        ({"outcome": "maybe"}, "Choose what came of the call."),
        # a promise past the rules' horizon (a year by default) would pause the invoice forever
        ({"outcome": "promised", "promised_on": "9999-12-31"}, "A promised date can be at most 365 days ahead"),
    ],
)
def test_a_bad_outcome_is_refused_beside_the_field_and_records_nothing(
    live_world: World,
    app: Flask,
    form: dict[str, str],
    message: str,
) -> None:
    task = call_task(live_world, "Cobalt")
    client = sign_in(app, live_world.organization_id)
    notes = live_world.notes()
    response = client.post(f"/calls/{task.id}/outcome", data={"csrf_token": csrf_token(client), **form})
    assert response.status_code == 400
    assert f'class="field-error" id="' in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    assert live_world.notes() == notes
    with live_world.sessions() as session:
        assert session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "call_outcome")).all() == []


def test_a_refused_outcome_keeps_what_the_owner_typed(live_world: World, app: Flask) -> None:
    task = call_task(live_world, "Cobalt")
    client = sign_in(app, live_world.organization_id)
    comment = "Spoke to Dana in AP, pays after the board meets"
    response = client.post(
        f"/calls/{task.id}/outcome", data={"csrf_token": csrf_token(client), "outcome": "promised", "comment": comment}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter the date the customer promised to pay by." in html
    assert re.search(
        rf'<input type="text" id="comment-{task.id}" name="comment"[^>]*value="{re.escape(comment)}"', html
    )


def test_logging_an_outcome_needs_the_csrf_token(live_world: World, app: Flask) -> None:
    task = call_task(live_world, "Cobalt")
    client = sign_in(app, live_world.organization_id)
    response = client.post(f"/calls/{task.id}/outcome", data={"outcome": "paid"})
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)
    with live_world.sessions() as session:
        assert session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "call_outcome")).all() == []


def test_another_organizations_call_task_is_not_found(live_world: World, app: Flask) -> None:
    task = call_task(live_world, "Cobalt")
    intruder = sign_in(app, other_organization(live_world.sessions))
    page = intruder.get("/").get_data(as_text=True)
    assert "Cobalt Dental" not in page and "Harbor &amp; Pine" not in page
    token = own_csrf_token(app, intruder)  # an empty dashboard has no form to take one from
    response = intruder.post(f"/calls/{task.id}/outcome", data={"csrf_token": token, "outcome": "paid"})
    missing = intruder.post("/calls/999999/outcome", data={"csrf_token": token, "outcome": "paid"})
    assert response.status_code == missing.status_code == 404
    assert response.get_data(as_text=True) == missing.get_data(as_text=True)
    assert live_world.notes().get(task.payload["invoice_ids"][0], "").count("call to customer") == 0


def test_signed_out_posts_are_refused(live_world: World, app: Flask) -> None:
    task = call_task(live_world, "Cobalt")
    assert app.test_client().post(f"/calls/{task.id}/outcome", data={"outcome": "paid"}).status_code == 401


@pytest.mark.parametrize(("provider", "name"), [("quickbooks", "QuickBooks"), ("xero", "Xero")])
def test_needs_reconnect_banner_links_to_the_right_provider(
    live_world: World, app: Flask, provider: str, name: str
) -> None:
    with transaction(live_world.sessions) as session:
        connection = session.get(Connection, live_world.connection_id)
        assert connection is not None
        connection.status, connection.status_reason = ConnectionStatus.NEEDS_RECONNECT, "the grant was revoked"
        connection.provider = provider  # the page reads only the row: the same company as if it were on Xero
    html = sign_in(app, live_world.organization_id).get("/").get_data(as_text=True)
    banner = re.search(r'<div class="banner" role="alert">(.*?)</div>', html, re.S)
    assert (
        banner is not None
        and "needs to be reconnected" in banner.group(1)
        and "the grant was revoked" in banner.group(1)
    )
    assert f'<a class="btn" href="/connect/{provider}">Reconnect {name}</a>' in banner.group(1)


def own_csrf_token(app: Flask, client: FlaskClient) -> str:
    """A valid CSRF token for `client`'s own session, as any of its forms would carry."""
    with app.test_request_context(), client.session_transaction() as cookie:
        flask_session.update(cookie)
        token = generate_csrf()
        cookie.update(flask_session)
    return token


def test_observe_mode_shows_what_would_be_done(world: World, app: Flask) -> None:
    assert world.cycle().status == "observed"
    html = sign_in(app, world.organization_id).get("/").get_data(as_text=True)
    observed = html.split('id="observed-heading"')[1].split("</table>")[0]
    assert "Reminder email" in observed and "Call task" in observed and "Cobalt Dental" in observed
    assert "No calls to make." in html  # nothing was planned, so nobody is asked to phone yet


def test_an_outcome_is_kept_when_the_provider_cannot_take_the_note(
    live_world: World,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(*_: object) -> object:
        def connector(*_: object) -> object:
            raise AuthExpired("the grant was revoked")

        return connector

    monkeypatch.setattr(dashboard, "connector_factory", unreachable)
    task = call_task(live_world, "Cobalt")
    client = sign_in(app, live_world.organization_id)
    notes = live_world.notes()
    response = client.post(f"/calls/{task.id}/outcome", data={"csrf_token": csrf_token(client), "outcome": "disputed"})
    assert response.status_code == 302
    assert "but the note could not be written in the accounting system: the grant was revoked" in client.get(
        "/"
    ).get_data(as_text=True)
    assert live_world.notes() == notes
    with live_world.sessions() as session:
        entry = session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "call_outcome")).one()
        pause = session.scalars(select(InvoicePause)).one()
    assert (entry.level, entry.details["note"], entry.details["note_error"]) == (
        "warning",
        "failed",
        "the grant was revoked",
    )
    assert pause.disputed  # the owner's word holds the ladder even so


def test_a_double_submit_records_the_call_once(live_world: World, app: Flask) -> None:
    task = call_task(live_world, "Cobalt")
    client = sign_in(app, live_world.organization_id)
    form = {"csrf_token": csrf_token(client), "outcome": "paid"}
    assert client.post(f"/calls/{task.id}/outcome", data=form).status_code == 302
    assert client.post(f"/calls/{task.id}/outcome", data={**form, "outcome": "disputed"}).status_code == 302
    assert "This call was already recorded as “Paid”" in client.get("/").get_data(as_text=True)
    assert live_world.notes()[task.payload["invoice_ids"][0]].count("call to customer") == 1
    with live_world.sessions() as session:
        assert len(session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "call_outcome")).all()) == 1
        assert session.scalars(select(InvoicePause)).all() == []


def test_on_xero_the_outcome_goes_into_the_invoices_history(
    sessions: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for xero in make_xero_world(small_scenario(NOW.date()), sessions, tmp_path):
        xero.set_rules({"mode": "live"})
        assert xero.cycle().status == "done"
        monkeypatch.setattr(dashboard, "now", xero.clock.now)
        app = create_app(dataclasses.replace(xero.settings, database_url=database_url))
        client = sign_in(app, xero.organization_id)
        assert "<td>Xero</td>" in client.get("/").get_data(as_text=True)
        task = call_task(xero, "Cobalt")
        form = {"csrf_token": csrf_token(client), "outcome": "promised", "promised_on": "2026-12-01"}
        assert client.post(f"/calls/{task.id}/outcome", data=form).status_code == 302
        history = xero.history()[task.payload["invoice_ids"][0]]
        assert any("customer promised to pay by 2026-12-01" in record["Details"] for record in history)


def test_in_observe_mode_an_outcome_is_recorded_but_nothing_is_written_in_the_books(
    live_world: World, app: Flask
) -> None:
    live_world.set_rules({"mode": "observe"})  # the owner went back to observe mode after a live cycle
    task = call_task(live_world, "Cobalt")
    client = sign_in(app, live_world.organization_id)
    notes = live_world.notes()
    form = {"csrf_token": csrf_token(client), "outcome": "promised", "promised_on": "2026-12-01"}
    assert client.post(f"/calls/{task.id}/outcome", data=form).status_code == 302
    assert "Observe mode: no note was written in the accounting system." in client.get("/").get_data(as_text=True)
    assert live_world.notes() == notes
    with live_world.sessions() as session:
        entry = session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "call_outcome")).one()
        pause = session.scalars(select(InvoicePause)).one()
    assert entry.details["note"] == "not written: observe mode" and pause.promise_to_pay == dt.date(2026, 12, 1)


def test_a_failing_connection_shows_since_when_and_why(
    world: World, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15.3: after failed cycles the owner reads "sync failing since <time>: <reason>"."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("CustomerRef")

    monkeypatch.setattr(cycle_module, "sync_connection", broken)
    assert world.cycle().status == "failed"
    world.clock.advance(dt.timedelta(minutes=3))
    assert world.cycle().status == "failed"
    html = sign_in(app, world.organization_id).get("/").get_data(as_text=True)
    banner = re.search(r'<div class="banner" role="alert">(.*?)</div>', html, re.S)
    assert banner is not None, html
    text = re.sub(r"<[^>]+>", "", banner.group(1))
    assert "sync failing since Nov 23, 2026, 10:00\u202fAM" in text and "KeyError" in text and "CustomerRef" in text
    assert "2 cycles in a row failed" in text
