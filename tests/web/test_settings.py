"""The settings page with Flask's test client: rules, preview, observe and live, customer and invoice
controls, scoping to the signed-in organization and CSRF on every POST."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.cycle.gather import load_snapshot
from integration.owner.stored_rules import load_rules
from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import (
    ActivityEntry,
    Connection,
    CustomerOverride,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
    Organization,
    OrganizationRules,
    User,
)
from integration.web.formatting import day_text, style_of
from integration.web.settings import PREVIEW_CSP
from tests.web.forms import rules_form

TODAY = dt.datetime.now(dt.UTC).date()
UPDATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass
class Owner:
    organization_id: int
    connection_id: int
    user_id: int
    customer_id: int  # the mirror row ids of Acme and its invoice 1001 (ten days late)
    invoice_id: int


def _add_owner(sessions: sessionmaker[Session], name: str, realm: str) -> Owner:
    with transaction(sessions) as db:
        organization = Organization(name=name)
        db.add(organization)
        db.flush()
        connection = Connection(
            organization_id=organization.id, provider="quickbooks", external_id=realm, display_name=name
        )
        user = User(
            organization_id=organization.id,
            provider="quickbooks",
            subject=f"sub-{realm}",
            email=f"owner@{realm}.example",
        )
        db.add_all([connection, user])
        db.flush()
        customer = MirroredCustomer(
            connection_id=connection.id,
            provider_id="c1",
            name=f"Acme of {name}",
            email="ap@acme.example",
            phone="555-0100",
            currency="USD",
            terms_id=None,
            provider_updated_at=UPDATED,
        )
        invoice = MirroredInvoice(
            connection_id=connection.id,
            provider_id="i1",
            customer_provider_id="c1",
            number="1001",
            issue_date=TODAY - dt.timedelta(days=40),
            due_date=TODAY - dt.timedelta(days=10),
            total=Decimal("500.00"),
            balance=Decimal("400.00"),
            currency="USD",
            status="open",
            provider_updated_at=UPDATED,
        )
        db.add_all([customer, invoice])
        db.flush()
        return Owner(organization.id, connection.id, user.id, customer.id, invoice.id)


@pytest.fixture
def sessions(app: Flask) -> sessionmaker[Session]:
    return app.extensions["arpilot"].sessions


@pytest.fixture
def owner(sessions: sessionmaker[Session]) -> Owner:
    return _add_owner(sessions, "Harbor & Pine", "realm-a")


@pytest.fixture
def other(sessions: sessionmaker[Session]) -> Owner:
    return _add_owner(sessions, "Other Co", "realm-b")


def _sign_in(app: Flask, who: Owner) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"], session["organization_id"] = who.user_id, who.organization_id
    return client


@pytest.fixture
def client(app: Flask, owner: Owner) -> FlaskClient:
    return _sign_in(app, owner)


def _token(client: FlaskClient, path: str = "/settings") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"{path} shows no form with a CSRF token"
    return match.group(1)


def _error_beside(html: str, input_id: str) -> str:
    """The error message tied to an input (its aria-describedby names the error's id)."""
    match = re.search(rf'<p class="field-error" id="{re.escape(input_id)}-error">([^<]+)</p>', html)
    assert match, f"no error beside {input_id}"
    assert re.search(
        rf'id="{re.escape(input_id)}"[^>]*aria-describedby="[^"]*{re.escape(input_id)}-error"[^>]*aria-invalid="true"',
        html,
    )
    return match.group(1)


# --- the page and its guards ---------------------------------------------------------------------


def test_settings_page_shows_every_group_with_labelled_inputs(client: FlaskClient) -> None:
    html = client.get("/settings").get_data(as_text=True)
    assert '<a href="/settings"' in html and ">Settings</a>" in html  # in the main navigation
    for title in (
        "Reminder timeline",
        "Good-customer grace",
        "Mid-month billing",
        "Credit hold",
        "Quiet hours and limits",
        "Sender identity",
        "Email channel",
        "Disputes, promises and payment plans",
        "How customers are classified",
    ):
        assert f">{title}</h2>" in html
    for legend in (
        "Check-in",
        "Courtesy heads-up",
        "Reminder 1",
        "Reminder 2",
        "Past due 30",
        "Past due 60",
        "Final notice",
    ):
        assert f"<legend>{legend}</legend>" in html
    assert (
        '<label for="f-observe">Observe mode</label>' in html
        and 'id="f-observe" name="observe" value="on" checked' in html
    )
    assert html.count(">Days after due</label>") == 5 and ">Days before due</label>" in html
    _every_input_labelled(html)


def _every_input_labelled(html: str) -> None:
    inputs = re.findall(r'<(?:input|select|textarea)\b(?![^>]*type="hidden")[^>]*>', html)
    ids = [re.search(r'\bid="([^"]+)"', tag) for tag in inputs]
    assert inputs and all(ids), "an input without an id cannot have a label"
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert {m.group(1) for m in ids if m} <= labelled  # every input has its label
    assert "style=" not in html and "<script>" not in html  # the CSP allows neither


GETS = [
    "/settings",
    "/settings/live",
    "/settings/customers",
    "/settings/preview/reminder_1",
    "/settings/preview/reminder_1.json",
]


def _posts(who: Owner) -> list[str]:
    return [
        "/settings",
        "/settings/preview",
        "/settings/live",
        "/settings/observe",
        f"/settings/built-in-reminders/{who.connection_id}",
        f"/settings/customers/{who.customer_id}",
        f"/settings/invoices/{who.invoice_id}",
    ]


def test_every_route_works_for_the_signed_in_owner(client: FlaskClient, owner: Owner) -> None:
    for path in [*GETS, f"/settings/customers/{owner.customer_id}"]:
        assert client.get(path).status_code == 200, path


def test_visitors_are_sent_to_sign_in(app: Flask, owner: Owner) -> None:
    client = app.test_client()
    for path in [*GETS, f"/settings/customers/{owner.customer_id}"]:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/", path
    for path in _posts(owner):
        assert client.post(path).status_code == 401, path


def test_another_organizations_rows_are_404(
    app: Flask, owner: Owner, other: Owner, sessions: sessionmaker[Session]
) -> None:
    client = _sign_in(app, owner)
    token = _token(client)
    assert client.get(f"/settings/customers/{other.customer_id}").status_code == 404
    for path in (
        f"/settings/customers/{other.customer_id}",
        f"/settings/invoices/{other.invoice_id}",
        f"/settings/built-in-reminders/{other.connection_id}",
    ):
        assert client.post(path, data={"csrf_token": token, "disputed": "on", "paused": "on"}).status_code == 404, path
    assert client.get("/settings/customers/999999").status_code == 404
    with sessions() as db:
        assert db.scalars(select(InvoicePause)).all() == [] and db.scalars(select(CustomerOverride)).all() == []
        assert db.get(Connection, other.connection_id).built_in_reminders_off_at is None  # type: ignore[union-attr]
    listed = client.get("/settings/customers").get_data(as_text=True)
    assert "Acme of Harbor &amp; Pine" in listed and "Acme of Other Co" not in listed


def test_every_post_needs_the_csrf_token(client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]) -> None:
    for path in _posts(owner):
        response = client.post(path, data={"disputed": "on", "paused": "on", "preview": "reminder_1"})
        assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True), path
    with sessions() as db:
        assert db.scalars(select(OrganizationRules)).all() == [] and db.scalars(select(InvoicePause)).all() == []


# --- saving rules --------------------------------------------------------------------------------


def test_saved_rules_round_trip(client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]) -> None:
    form = rules_form(
        Rules.default(),
        **{
            "ladder.stages[2].offset_days": "5",
            "ladder.stages[1].offset_days": "7",
            "sender.reply_to": "ar@harbor.example",
            "sender.signature": "Dana\r\nHarbor & Pine",
            "grace.profile_classes": ["reliable"],
            "schedule.business_days": ["1", "3"],
            "schedule.holidays": "2026-12-25\r\n2027-01-01",
            "credit_hold.min_overdue_amount": "250.50",
            "grace.enabled": False,
        },
    )
    response = client.post("/settings", data={**form, "csrf_token": _token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/settings"
    with sessions() as db:
        saved = load_rules(db, owner.organization_id)
    assert saved.ladder.stage("reminder_1").offset_days == 5 and saved.ladder.stage("courtesy").offset_days == -7
    assert saved.sender.reply_to == "ar@harbor.example" and saved.sender.signature == "Dana\nHarbor & Pine"
    assert saved.grace.profile_classes == ("reliable",) and not saved.grace.enabled
    assert saved.schedule.business_days == (1, 3) and [d.isoformat() for d in saved.schedule.holidays] == [
        "2026-12-25",
        "2027-01-01",
    ]
    assert saved.credit_hold.min_overdue_amount == Decimal("250.50") and saved.mode == "observe"
    html = client.get("/settings").get_data(as_text=True)
    assert (
        'name="ladder.stages[2].offset_days" value="5"' in html
        and 'name="ladder.stages[1].offset_days" value="7"' in html
    )


def test_bad_values_are_shown_beside_their_fields_and_nothing_is_lost(
    client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]
) -> None:
    form = rules_form(
        Rules.default(),
        **{
            "ladder.stages[4].offset_days": "10",  # past due 30 before reminder 2 (14 days)
            "sender.reply_to": "not-an-address",
            "grace.max_days": "lots",
            "sender.from_name": "Dana at Harbor",
            "schedule.send_from_hour": "19",  # after send_until_hour 18
        },
    )
    response = client.post("/settings", data={**form, "csrf_token": _token(client)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (
        _error_beside(html, "f-ladder-stages-4-offset_days")
        == "Past due 30 must come later than Reminder 2, which is sent 14 days after the due date; you entered 10 days."
    )
    assert "Reply-to address: must be an email address" in _error_beside(html, "f-sender-reply_to")
    assert "whole number" in _error_beside(html, "f-grace-max_days")
    assert (
        _error_beside(html, "f-schedule-send_until_hour")
        == "Send until hour must be between 8:00\u202fPM and midnight; you entered 6:00\u202fPM."
    )
    for typed in ('value="not-an-address"', 'value="lots"', 'value="Dana at Harbor"', 'value="10"', 'value="19"'):
        assert typed in html  # what the owner typed comes back
    too_early = rules_form(Rules.default(), **{"ladder.stages[1].offset_days": "70"})  # courtesy, in days before due
    html = client.post("/settings", data={**too_early, "csrf_token": _token(client)}).get_data(as_text=True)
    assert (
        _error_beside(html, "f-ladder-stages-1-offset_days")
        == "Days before due must be at most 60 days; you entered 70."
    )
    with sessions() as db:
        assert db.scalars(select(OrganizationRules)).all() == []  # nothing saved, the defaults still rule


def test_a_sender_that_could_never_send_is_refused_beside_its_field(
    client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]
) -> None:
    """The settings page refuses what the sender would refuse on every reminder (issue 14)."""
    form = rules_form(Rules.default(), **{"sender.reply_to": "ap@harbor.example,ar@harbor.example"})
    response = client.post("/settings", data={**form, "csrf_token": _token(client)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "one address" in _error_beside(html, "f-sender-reply_to")
    with sessions() as db:
        assert db.scalars(select(OrganizationRules)).all() == []
    form = rules_form(Rules.default(), **{"sender.from_name": "Dana\rPine"})
    html = client.post("/settings", data={**form, "csrf_token": _token(client)}).get_data(as_text=True)
    assert "line break" in _error_beside(html, "f-sender-from_name")


def test_an_email_stage_that_also_re_sends_the_invoice_is_refused_beside_the_box(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """One message per customer per stage (issue 14): arpilot's email or the accounting system's send."""
    form = rules_form(Rules.default(), **{"ladder.stages[4].resend_invoice": True})
    response = client.post("/settings", data={**form, "csrf_token": _token(client)})
    assert response.status_code == 400
    assert "one message" in _error_beside(response.get_data(as_text=True), "f-ladder-stages-4-resend_invoice")
    with sessions() as db:
        assert db.scalars(select(OrganizationRules)).all() == []


def test_one_email_channel_for_every_email_stage(
    client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]
) -> None:
    form = rules_form(Rules.default(), email_channel="accounting_system_email", **{"ladder.stages[3].channel": "call"})
    assert client.post("/settings", data={**form, "csrf_token": _token(client)}).status_code == 302
    with sessions() as db:
        channels = [s.channel for s in load_rules(db, owner.organization_id).ladder.stages]
    assert channels == ["accounting_system_email"] * 3 + ["call"] + ["accounting_system_email"] * 3
    html = client.get("/settings").get_data(as_text=True)
    assert '<option value="accounting_system_email" selected>' in html


# --- preview -------------------------------------------------------------------------------------


def test_preview_without_javascript_shows_the_stage_as_typed_and_saves_nothing(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    form = rules_form(
        Rules.default(),
        **{
            "sender.from_name": "Dana Pine",
            "sender.signature": "Dana Pine\n<script>x()</script>",
            "ladder.stages[2].offset_days": "6",
        },
    )
    response = client.post("/settings/preview", data={**form, "preview": "reminder_1", "csrf_token": _token(client)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Preview: Reminder 1" in html and "Dana Pine" in html and 'value="Dana Pine"' in html
    frame = re.search(r'<iframe src="([^"]+)" title="Email preview: Reminder 1" sandbox=""', html)
    assert frame
    document = client.get(frame.group(1).replace("&amp;", "&"))
    assert document.status_code == 200 and document.headers["Content-Security-Policy"] == PREVIEW_CSP
    body = document.get_data(as_text=True)
    assert "Dana Pine" in body and "6 days overdue" in body
    assert "<script>" not in body and "&lt;script&gt;" in body  # what the owner types is text, never markup
    with sessions() as db:
        assert db.scalars(select(OrganizationRules)).all() == []


def test_preview_json_follows_the_typing(client: FlaskClient) -> None:
    query = {
        "sender.from_name": "Pat",
        "sender.signature": "Pat\nHarbor & Pine",
        "ladder.stages[6].offset_days": "95",
        "ladder.stages[6].template": "final_notice",
        "email_channel": "email",
    }
    result = client.get("/settings/preview/final_notice.json", query_string=query).get_json()
    assert result["subject"] and "Pat" in result["text"] and result["channel"] == "email"
    assert urlsplit(result["html_url"]).path == "/settings/preview/final_notice"
    bad = client.get("/settings/preview/final_notice.json", query_string={**query, "sender.reply_to": "nope"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "sender.reply_to"
    assert client.get("/settings/preview/no_such_stage.json").status_code == 404


# --- observe and live ----------------------------------------------------------------------------


def test_observe_by_default_then_confirm_and_switch_to_live(
    client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]
) -> None:
    token = _token(client)
    unticked = rules_form(Rules.default(), observe=False)
    response = client.post("/settings", data={**unticked, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/settings/live"
    with sessions() as db:
        assert load_rules(db, owner.organization_id).mode == "observe"  # not before the owner confirms
    confirm = client.get("/settings/live").get_data(as_text=True)
    assert "observe mode" in confirm and "Acme of Harbor &amp; Pine" in confirm
    assert "Reminder 1 email to ap@acme.example" in confirm and "Invoice 1001 is 10 days late" in confirm
    assert ">Switch to live mode</button>" in confirm
    assert (
        'name="reply_address" type="email" autocomplete="email" value="owner@realm-a.example"' in confirm
    )  # from sign-in
    # Going live confirms where customers' replies go: without an address it is refused beside the field.
    refused = client.post("/settings/live", data={"csrf_token": token})
    assert refused.status_code == 400 and "replies are forwarded to" in refused.get_data(as_text=True)
    bad = client.post("/settings/live", data={"csrf_token": token, "reply_address": "a@b.example, c@d.example"})
    assert bad.status_code == 400 and "not one email address" in bad.get_data(as_text=True)
    with sessions() as db:
        assert load_rules(db, owner.organization_id).mode == "observe"
    assert (
        client.post("/settings/live", data={"csrf_token": token, "reply_address": "me@harbor.example"}).status_code
        == 302
    )
    with sessions() as db:
        assert load_rules(db, owner.organization_id).mode == "live"
        logged = db.scalars(select(ActivityEntry).where(ActivityEntry.kind == "mode_changed")).one()
        assert logged.organization_id == owner.organization_id and logged.message.startswith("Live mode switched on")
    assert ">Switch to observe mode</button>" in client.get("/settings/live").get_data(as_text=True)
    ticked = rules_form(Rules.default(), observe=True)
    assert client.post("/settings", data={**ticked, "csrf_token": token}).status_code == 302
    with sessions() as db:
        assert load_rules(db, owner.organization_id).mode == "observe"


def test_prompt_to_turn_off_the_built_in_reminders_until_dismissed(
    client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as db:
        db.add(
            Connection(
                organization_id=owner.organization_id, provider="xero", external_id="tenant-a", display_name="Xero org"
            )
        )
    html = client.get("/settings").get_data(as_text=True)
    assert "Turn off QuickBooks's own reminders" in html and "Sales &gt; Reminders" in html
    assert "Turn off Xero's own reminders" in html and "Invoice settings &gt; Invoice Reminders" in html
    response = client.post(f"/settings/built-in-reminders/{owner.connection_id}", data={"csrf_token": _token(client)})
    assert response.status_code == 302
    html = client.get("/settings").get_data(as_text=True)
    assert (
        "Turn off QuickBooks" not in html and "Turn off Xero's own reminders" in html
    )  # each system dismissed on its own


# --- customers and invoices ----------------------------------------------------------------------


def _actions(sessions: sessionmaker[Session], who: Owner) -> list[Any]:
    now = dt.datetime.now(dt.UTC)
    with sessions() as db:
        return decide(load_snapshot(db, who.connection_id, now), load_rules(db, who.organization_id), now)


def test_customer_override_is_stored_and_honoured(
    client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]
) -> None:
    assert [a.kind for a in _actions(sessions, owner)][:1] == [ActionKind.SEND_REMINDER]
    token = _token(client, f"/settings/customers/{owner.customer_id}")
    bad = client.post(
        f"/settings/customers/{owner.customer_id}", data={"csrf_token": token, "paused": "on", "grace_days": "soon"}
    )
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "whole number" in _error_beside(html, "c-grace") and 'value="soon"' in html
    assert 'id="c-paused" name="paused" value="on" checked' in html  # the ticked box stays ticked
    good = client.post(
        f"/settings/customers/{owner.customer_id}", data={"csrf_token": token, "paused": "on", "grace_days": "7"}
    )
    assert good.status_code == 302
    with sessions() as db:
        override = db.scalars(select(CustomerOverride)).one()
    assert (override.paused, override.excluded, override.grace_days) == (True, False, 7)
    assert _actions(sessions, owner) == []
    listed = client.get("/settings/customers").get_data(as_text=True)
    assert "Paused" in listed
    _every_input_labelled(listed)
    _every_input_labelled(client.get(f"/settings/customers/{owner.customer_id}").get_data(as_text=True))


def test_a_disputed_invoice_gets_no_reminder(
    client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]
) -> None:
    token = _token(client, f"/settings/customers/{owner.customer_id}")
    response = client.post(
        f"/settings/invoices/{owner.invoice_id}", data={"csrf_token": token, "disputed": "on", "note": "wrong rate"}
    )
    assert response.status_code == 302
    with sessions() as db:
        pause = db.scalars(select(InvoicePause)).one()
        logged = db.scalars(select(ActivityEntry)).one()  # part of the customer's collection record
    assert pause.disputed and pause.note == "wrong rate"
    assert (logged.kind, logged.customer_provider_id, logged.invoice_provider_id) == (
        "owner_invoice_settings",
        "c1",
        "i1",
    )
    assert logged.message == "Invoice 1001: disputed; note: wrong rate (set by the owner)."
    assert [a for a in _actions(sessions, owner) if a.kind is ActionKind.SEND_REMINDER] == []
    assert "Reminder 1 email" not in client.get("/settings/live").get_data(as_text=True)
    cleared = client.post(f"/settings/invoices/{owner.invoice_id}", data={"csrf_token": token})
    assert cleared.status_code == 302
    with sessions() as db:
        assert db.scalars(select(InvoicePause)).all() == []


def test_promise_and_payment_plan_are_checked_then_stored_and_honoured(
    client: FlaskClient, owner: Owner, sessions: sessionmaker[Session]
) -> None:
    path = f"/settings/invoices/{owner.invoice_id}"
    token = _token(client, f"/settings/customers/{owner.customer_id}")
    past = client.post(path, data={"csrf_token": token, "promise_to_pay": (TODAY - dt.timedelta(days=3)).isoformat()})
    assert past.status_code == 400 and "cannot be in the past" in _error_beside(
        past.get_data(as_text=True), f"i{owner.invoice_id}-promise"
    )
    first, second = TODAY + dt.timedelta(days=10), TODAY + dt.timedelta(days=40)
    short = f"{first.isoformat()} 100.00\r\n{second.isoformat()} 100.00"
    response = client.post(path, data={"csrf_token": token, "plan": short})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "add up to 200.00 USD; the open balance is 400.00 USD" in _error_beside(
        html, f"i{owner.invoice_id}-plan"
    )
    assert f"{first.isoformat()} 100.00\n{second.isoformat()} 100.00</textarea>" in html
    with sessions() as db:
        assert db.scalars(select(InvoicePause)).all() == []
    plan = f"{second.isoformat()} 150.00\n{first.isoformat()} 250"
    assert (
        client.post(path, data={"csrf_token": token, "plan": plan, "promise_to_pay": first.isoformat()}).status_code
        == 302
    )
    with sessions() as db:
        pause = db.scalars(select(InvoicePause)).one()
    assert pause.plan == [
        {"date": first.isoformat(), "amount": "250.00"},
        {"date": second.isoformat(), "amount": "150.00"},
    ]
    assert pause.promise_to_pay == first and pause.plan_paid_before == Decimal("100.00")  # paid before the plan
    assert [a for a in _actions(sessions, owner) if a.kind is ActionKind.SEND_REMINDER] == []
    page = client.get(f"/settings/customers/{owner.customer_id}").get_data(as_text=True)
    assert "Payment plan" in page and f"Promised by {day_text(first, style_of('en_US', None))}" in page


def test_pages_work_before_anything_is_connected(app: Flask, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as db:
        organization = Organization(name="Fresh Co")
        db.add(organization)
        db.flush()
        user = User(organization_id=organization.id, provider="xero", subject="sub-fresh")
        db.add(user)
        db.flush()
        fresh = Owner(organization.id, 0, user.id, 0, 0)
    client = _sign_in(app, fresh)
    assert "No active connection" in client.get("/settings/live").get_data(as_text=True)
    assert "No customers yet" in client.get("/settings/customers").get_data(as_text=True)
    html = client.get("/settings").get_data(as_text=True)
    assert "Turn off" not in html and "your accounting system sends the invoice itself" in html
    assert client.get("/settings/preview/courtesy.json").get_json()["subject"]
