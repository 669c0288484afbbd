"""The customer's page on both providers' sandboxes: the link a reminder carries opens it; forged,
expired and revoked links and other customers' invoices are refused; each thing a customer says is
recorded as the owner's word (pause or promise), noted in the books, logged, and confirmed by email;
the credit policy's acceptance is kept and asked for again when the policy changes; too many
requests are answered 429."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import re
from collections.abc import Iterator
from decimal import Decimal
from email.policy import default as default_policy
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.customer.links import link_for
from integration.customer.tokens import PageKey, sign_link
from integration.owner.reply_address import confirm_reply_address
from integration.store.db import transaction
from integration.store.models import (
    ActivityEntry,
    InboundReply,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
    PolicyAcceptance,
)
from integration.web import create_app, customer_page, dashboard
from integration.web.request_limits import Limit
from reminders.delivery import OutboxSender
from tests.cycle.conftest import NOW, World
from tests.cycle.xero_world import XeroWorld, live_world
from tests.sandbox.conftest import APOSTROPHE_NAME, small_scenario
from tests.web.conftest import add_jobs, reprice
from tests.web.test_dashboard import other_organization, sign_in

PUBLIC = "https://arpilot.test"
TOKEN_IN_TEXT = re.compile(r"https://arpilot\.test(/c/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


@pytest.fixture(params=["quickbooks", "xero"])
def world(
    request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[World | XeroWorld]:
    for world in live_world(request.param, small_scenario(NOW.date()), sessions, tmp_path):
        assert world.cycle().status == "done"  # the mirror holds the customers and their invoices
        yield world


@pytest.fixture
def before_first_cycle(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    for world in live_world("quickbooks", small_scenario(NOW.date()), sessions, tmp_path):
        assert isinstance(world, World)
        yield world


@pytest.fixture
def qbo(before_first_cycle: World) -> World:
    assert before_first_cycle.cycle().status == "done"
    return before_first_cycle


def make_app(world: World | XeroWorld, database_url: str, monkeypatch: pytest.MonkeyPatch, **config: object) -> Flask:
    monkeypatch.setattr(customer_page, "now", world.clock.now)  # the page's today is the sandbox's
    monkeypatch.setattr(dashboard, "now", world.clock.now)
    settings = dataclasses.replace(world.settings, database_url=database_url, base_url=PUBLIC)
    return create_app(settings, test_config=config or None)


def customer(world: World | XeroWorld, name: str) -> MirroredCustomer:
    with world.sessions() as session:
        return session.scalars(select(MirroredCustomer).where(MirroredCustomer.name == name)).one()


def invoices_of(world: World | XeroWorld, row: MirroredCustomer) -> list[MirroredInvoice]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(MirroredInvoice)
                .where(
                    MirroredInvoice.connection_id == row.connection_id,
                    MirroredInvoice.customer_provider_id == row.provider_id,
                    MirroredInvoice.status == "open",
                )
                .order_by(MirroredInvoice.number)
            )
        )


def path_for(world: World | XeroWorld, row: MirroredCustomer) -> str:
    with world.sessions() as session:
        return link_for(session, PUBLIC, world.settings.secret_key, world.organization_id, row, world.clock.now())[
            len(PUBLIC) :
        ]


def form_key(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="form_key" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def notes_on(world: World | XeroWorld, invoice_id: str) -> str:
    if isinstance(world, XeroWorld):
        return " ".join(record["Details"] for record in world.history().get(invoice_id, ()))
    return world.notes().get(invoice_id, "")


def sent(outbox_dir: Path) -> list[dict[str, object]]:
    return OutboxSender(outbox_dir).entries()


def entries(world: World | XeroWorld, kind: str) -> list[ActivityEntry]:
    with world.sessions() as session:
        return list(session.scalars(select(ActivityEntry).where(ActivityEntry.kind == kind).order_by(ActivityEntry.id)))


def pause_of(world: World | XeroWorld, invoice: MirroredInvoice) -> InvoicePause | None:
    with world.sessions() as session:
        return session.scalars(
            select(InvoicePause).where(
                InvoicePause.connection_id == invoice.connection_id,
                InvoicePause.invoice_provider_id == invoice.provider_id,
            )
        ).one_or_none()


# --- the link in the reminder ---------------------------------------------------------------------


def test_the_reminder_carries_the_link_and_the_link_opens_the_customers_page(
    before_first_cycle: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    qbo = before_first_cycle
    assert qbo.cycle(public_base_url=PUBLIC, token_secret=qbo.settings.secret_key).status == "done"
    reminder = next(e for e in qbo.outbox.entries() if "ap@obrien.example" in e["to"])
    message = email.message_from_bytes(
        (qbo.outbox.directory / str(reminder["file"])).read_bytes(), policy=default_policy
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    path = TOKEN_IN_TEXT.search(text)
    assert path is not None and f'href="{PUBLIC}{path.group(1)}"' in html
    page = make_app(qbo, database_url, monkeypatch).test_client().get(path.group(1))
    assert page.status_code == 200
    shown = page.get_data(as_text=True)
    obrien = customer(qbo, APOSTROPHE_NAME)
    assert [f"Invoice {i.number}" in shown for i in invoices_of(qbo, obrien)] == [True, True]
    # Nothing of another customer: Acme's and Cobalt's invoices and names are not on it.
    for other in ("Acme Plumbing", "Cobalt Dental"):
        assert other not in shown
        for invoice in invoices_of(qbo, customer(qbo, other)):
            assert f"Invoice {invoice.number}<" not in shown
    assert "Harbor &amp; Pine Landscaping" in shown and "noindex" in shown
    assert "Set-Cookie" not in page.headers  # no session for a customer


# --- links refused ----------------------------------------------------------------------------


def test_forged_expired_and_revoked_links_open_nothing(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(qbo, database_url, monkeypatch)
    client = app.test_client()
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    assert client.get(path).status_code == 200
    key = PageKey(qbo.organization_id, obrien.connection_id, obrien.provider_id, 1)
    forged = sign_link(key, "not-the-apps-secret" * 3, qbo.clock.now())
    expired = sign_link(key, qbo.settings.secret_key, qbo.clock.now() - dt.timedelta(days=61))
    elsewhere = sign_link(
        PageKey(other_organization(qbo.sessions), obrien.connection_id, obrien.provider_id, 1),
        qbo.settings.secret_key,
        qbo.clock.now(),
    )
    for bad in (f"/c/{forged}", f"/c/{expired}", f"/c/{elsewhere}", path[:-3], "/c/nonsense"):
        refused = client.get(bad)
        assert refused.status_code == 404
        assert "This page cannot be opened" in refused.get_data(as_text=True)
        assert APOSTROPHE_NAME.replace("'", "&#39;") not in refused.get_data(as_text=True)
    # The owner revokes: the link sent so far stops, a new one opens.
    owner = sign_in(app, qbo.organization_id)
    settings_page = owner.get(f"/settings/customers/{obrien.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', settings_page)
    assert token and "Revoke every link sent so far" in settings_page
    assert (
        owner.post(f"/settings/customers/{obrien.id}/revoke-links", data={"csrf_token": token.group(1)}).status_code
        == 302
    )
    assert client.get(path).status_code == 404
    assert client.get(path_for(qbo, obrien)).status_code == 200
    assert [e.kind for e in entries(qbo, "customer_links_revoked")] == ["customer_links_revoked"]


def test_another_customers_invoice_cannot_be_acted_on(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, customer(qbo, APOSTROPHE_NAME))
    acme_invoice = invoices_of(qbo, customer(qbo, "Acme Plumbing"))[0]
    response = client.post(
        f"{path}/invoices/{acme_invoice.id}/dispute", data={"form_key": form_key(client, path), "reason": "not mine"}
    )
    assert response.status_code == 404
    assert client.get(f"{path}/invoices/{acme_invoice.id}").status_code == 404
    assert pause_of(qbo, acme_invoice) is None and entries(qbo, "customer_page") == []


def test_a_job_billed_with_its_parent_is_on_the_parents_page(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    obrien = customer(qbo, APOSTROPHE_NAME)
    add_jobs(qbo.sessions, obrien.connection_id, obrien.provider_id)
    page = make_app(qbo, database_url, monkeypatch).test_client().get(path_for(qbo, obrien)).get_data(as_text=True)
    assert "Invoice J-job-1" in page  # billed through O'Brien: theirs to pay
    assert "Invoice J-job-2" not in page  # billed on its own account


def test_the_owner_signed_in_can_use_their_customers_page_too(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visitor with a session (the owner trying the link) is held to the session's CSRF token as well."""
    app = make_app(qbo, database_url, monkeypatch)
    owner = sign_in(app, qbo.organization_id)
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    invoice = invoices_of(qbo, obrien)[0]
    page = owner.get(f"{path}/invoices/{invoice.id}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    form = {"form_key": form_key(owner, path), "promised_on": "2026-12-01"}
    assert owner.post(f"{path}/invoices/{invoice.id}/promise", data=form).status_code == 400  # no CSRF token
    assert (
        owner.post(f"{path}/invoices/{invoice.id}/promise", data={**form, "csrf_token": csrf.group(1)}).status_code
        == 303
    )


def test_a_form_without_the_pages_key_is_refused(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_app(qbo, database_url, monkeypatch).test_client()
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    invoice = invoices_of(qbo, obrien)[0]
    assert client.post(f"{path}/invoices/{invoice.id}/dispute", data={"reason": "wrong"}).status_code == 404
    assert pause_of(qbo, invoice) is None or not pause_of(qbo, invoice).disputed  # type: ignore[union-attr]


# --- what the customer says ----------------------------------------------------------------------


def test_a_promise_is_the_owners_promise_noted_logged_and_confirmed(
    world: World | XeroWorld, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(world, database_url, monkeypatch)
    client = app.test_client()
    obrien = customer(world, APOSTROPHE_NAME)
    path = path_for(world, obrien)
    invoice = invoices_of(world, obrien)[0]
    response = client.post(
        f"{path}/invoices/{invoice.id}/promise", data={"form_key": form_key(client, path), "promised_on": "2026-12-04"}
    )
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"we have recorded your promise to pay invoice {invoice.number}" in thanks
    assert "You promised to pay by 2026-12-04" in thanks
    pause = pause_of(world, invoice)
    assert pause is not None and pause.promise_to_pay == dt.date(2026, 12, 4)
    assert f"customer promises to pay invoice {invoice.number} by 2026-12-04" in notes_on(world, invoice.provider_id)
    [entry] = entries(world, "customer_page")
    assert (entry.details["said"], entry.details["note"]) == ("promise", "written")
    confirmation = [e for e in sent(world.settings.outbox_dir) if e["key"] == f"customer-page-confirm:{entry.id}"]
    assert confirmation and confirmation[0]["to"] == ["ap@obrien.example"]


def test_a_broken_promise_moves_the_ladder_on(qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_app(qbo, database_url, monkeypatch).test_client()
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    invoice = invoices_of(qbo, obrien)[0]
    form = {"form_key": form_key(client, path), "promised_on": "2026-11-25"}
    assert client.post(f"{path}/invoices/{invoice.id}/promise", data=form).status_code == 303
    before = {a.id for a in qbo.actions()}
    qbo.clock.advance(dt.timedelta(days=8))
    assert qbo.cycle().status == "done"
    later = [a for a in qbo.actions() if a.id not in before and invoice.provider_id in a.payload.get("invoice_ids", ())]
    assert any("did not pay by the promised 2026-11-25" in a.reason for a in later)


def test_a_dispute_pauses_the_invoice_and_tells_the_owner_at_once(
    world: World | XeroWorld, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(world, database_url, monkeypatch)
    owner = sign_in(app, world.organization_id)
    _confirm_reply_address(world)
    client = app.test_client()
    obrien = customer(world, APOSTROPHE_NAME)
    path = path_for(world, obrien)
    invoice = invoices_of(world, obrien)[0]
    form = {"form_key": form_key(client, path), "reason": "We were billed for 3 visits, not 2."}
    assert client.post(f"{path}/invoices/{invoice.id}/dispute", data=form).status_code == 303
    pause = pause_of(world, invoice)
    assert pause is not None and pause.disputed
    assert "We were billed for 3 visits, not 2." in notes_on(world, invoice.provider_id)
    [entry] = entries(world, "customer_page")
    mail = {e["key"]: e for e in sent(world.settings.outbox_dir)}
    assert mail[f"customer-page-dispute:{entry.id}"]["to"] == ["owner@harborpine.example"]
    assert mail[f"customer-page-confirm:{entry.id}"]["to"] == ["ap@obrien.example"]
    assert "disputes invoice" in owner.get(f"/customers/{obrien.id}").get_data(as_text=True)


def test_already_paid_pauses_the_invoice_and_opens_a_check_task(
    world: World | XeroWorld, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(world, database_url, monkeypatch)
    client = app.test_client()
    obrien = customer(world, APOSTROPHE_NAME)
    path = path_for(world, obrien)
    invoice = invoices_of(world, obrien)[0]
    form = {"form_key": form_key(client, path), "paid_on": "2026-11-20", "amount": "200.00", "reference": "ACH 7781"}
    assert client.post(f"{path}/invoices/{invoice.id}/paid", data=form).status_code == 303
    pause = pause_of(world, invoice)
    assert pause is not None and pause.says_paid and not pause.disputed
    assert "paid on 2026-11-20: 200.00 USD, reference ACH 7781" in notes_on(world, invoice.provider_id)
    with world.sessions() as session:
        task = session.scalars(select(InboundReply)).one()
    assert (task.says_paid, task.task_done_at, task.customer_provider_id) == (True, None, obrien.provider_id)
    dashboard_page = sign_in(app, world.organization_id).get("/").get_data(as_text=True)
    assert "Check: they say it is paid." in dashboard_page
    assert [e["key"] for e in sent(world.settings.outbox_dir)] == [
        f"customer-page-confirm:{entries(world, 'customer_page')[0].id}"
    ]
    # The policy holds the invoice's ladder while the owner checks.
    assert world.cycle().status == "done"
    assert not [
        a
        for a in world.actions()
        if a.kind == "send_reminder" and invoice.provider_id in a.payload["invoice_ids"] and a.status.value == "planned"
    ]
    # The owner looks for the payment and marks it checked: the invoice's reminders resume.
    owner = sign_in(app, world.organization_id)
    settings_page = owner.get(f"/settings/customers/{obrien.id}").get_data(as_text=True)
    assert "Customer says it is paid" in settings_page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', settings_page)
    assert csrf
    assert owner.post(f"/replies/{task.id}/checked", data={"csrf_token": csrf.group(1)}).status_code == 302
    assert pause_of(world, invoice) is None
    assert "Check: they say it is paid." not in owner.get("/").get_data(as_text=True)
    assert any("checked by the owner" in e.message for e in entries(world, "owner_invoice_settings"))


def test_the_owner_may_untick_customer_says_paid_on_the_invoice(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(qbo, database_url, monkeypatch)
    client = app.test_client()
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    invoice = invoices_of(qbo, obrien)[0]
    form = {"form_key": form_key(client, path), "paid_on": "2026-11-20", "amount": "200.00"}
    assert client.post(f"{path}/invoices/{invoice.id}/paid", data=form).status_code == 303
    owner = sign_in(app, qbo.organization_id)
    csrf = re.search(
        r'name="csrf_token" value="([^"]+)"', owner.get(f"/settings/customers/{obrien.id}").get_data(as_text=True)
    )
    assert csrf
    kept = {"csrf_token": csrf.group(1), "says_paid": "on"}
    assert owner.post(f"/settings/invoices/{invoice.id}", data=kept).status_code == 302
    assert pause_of(qbo, invoice).says_paid  # type: ignore[union-attr]  # saving the form keeps what it shows
    assert owner.post(f"/settings/invoices/{invoice.id}", data={"csrf_token": csrf.group(1)}).status_code == 302
    assert pause_of(qbo, invoice) is None


def test_in_observe_mode_nothing_is_written_in_the_books(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    qbo.set_rules({"mode": "observe"})
    client = make_app(qbo, database_url, monkeypatch).test_client()
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    invoice = invoices_of(qbo, obrien)[0]
    notes = qbo.notes()
    form = {"form_key": form_key(client, path), "promised_on": "2026-12-01"}
    assert client.post(f"{path}/invoices/{invoice.id}/promise", data=form).status_code == 303
    assert qbo.notes() == notes
    assert entries(qbo, "customer_page")[0].details["note"] == "not written: observe mode"


@pytest.mark.parametrize(
    ("said", "form", "message"),
    [
        ("paid", {"paid_on": "2026-11-20", "amount": "lots"}, "Enter the amount you paid as a number, like 250.00."),
        ("paid", {"paid_on": "2026-12-20", "amount": "5"}, "The date you paid cannot be after today (2026-11-23)."),
        ("dispute", {"reason": "   "}, "Tell us what is wrong with this invoice."),
        ("promise", {"promised_on": "2030-01-01"}, "Choose a date no later than 2027-11-23."),
        ("promise", {"promised_on": "next week"}, "Enter the date you will pay by as a date like 2026-12-01."),
    ],
)
def test_a_bad_input_is_refused_beside_its_field_and_records_nothing(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch, said: str, form: dict[str, str], message: str
) -> None:
    client = make_app(qbo, database_url, monkeypatch).test_client()
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    invoice = invoices_of(qbo, obrien)[0]
    notes = qbo.notes()
    response = client.post(f"{path}/invoices/{invoice.id}/{said}", data={"form_key": form_key(client, path), **form})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    for typed in form.values():
        if typed.strip():
            assert f'value="{typed}"' in page or f">{typed}</textarea>" in page  # what was typed is kept
    assert pause_of(qbo, invoice) is None and entries(qbo, "customer_page") == [] and qbo.notes() == notes


# --- the credit policy --------------------------------------------------------------------------


def test_the_acceptance_is_kept_shown_and_asked_again_when_the_policy_changes(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(qbo, database_url, monkeypatch)
    client = app.test_client()
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    page = client.get(path).get_data(as_text=True)
    assert "I accept the credit policy" in page and "credit policy" in page
    version = re.search(r'name="version" value="([0-9a-f]{64})"', page)
    assert version
    refused = client.post(
        f"{path}/policy",
        data={"form_key": form_key(client, path), "version": version.group(1), "name": "Pat O'Brien", "title": ""},
    )
    assert refused.status_code == 400 and "Enter your job title." in refused.get_data(as_text=True)
    form = {
        "form_key": form_key(client, path),
        "version": version.group(1),
        "name": "Pat O'Brien",
        "title": "Accounts payable",
    }
    accepted = client.post(f"{path}/policy", data=form, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert accepted.status_code == 303
    again = client.get(path).get_data(as_text=True)
    assert "I accept the credit policy" not in again and "Accepted by Pat O&#39;Brien (Accounts payable)" in again
    with qbo.sessions() as session:
        row = session.scalars(select(PolicyAcceptance)).one()
    assert (row.policy_version, row.name, row.title, row.ip) == (
        version.group(1),
        "Pat O'Brien",
        "Accounts payable",
        "203.0.113.9",
    )
    record = sign_in(app, qbo.organization_id).get(f"/customers/{obrien.id}").get_data(as_text=True)
    assert "accepted by Pat O&#39;Brien (Accounts payable)" in record
    # The owner changes a rule the policy states: the customer is asked again.
    qbo.set_rules({"mode": "live", "pauses": {"promise_grace_days": 5}})
    changed = client.get(path).get_data(as_text=True)
    assert "I accept the credit policy" in changed and "The policy has changed" in changed
    # An acceptance of the old text is refused, not recorded as accepting the new one.
    stale = client.post(f"{path}/policy", data=form)
    assert stale.status_code == 400 and "changed while the page was open" in stale.get_data(as_text=True)


def test_an_acceptance_a_year_old_is_asked_again(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, customer(qbo, APOSTROPHE_NAME))
    version = re.search(r'name="version" value="([0-9a-f]{64})"', client.get(path).get_data(as_text=True))
    assert version
    form = {"form_key": form_key(client, path), "version": version.group(1), "name": "Pat", "title": "Owner"}
    assert client.post(f"{path}/policy", data=form).status_code == 303
    qbo.clock.advance(dt.timedelta(days=364))
    later = path_for(qbo, customer(qbo, APOSTROPHE_NAME))  # the link in a later reminder
    assert "I accept the credit policy" not in client.get(later).get_data(as_text=True)
    qbo.clock.advance(dt.timedelta(days=1))
    assert "I accept the credit policy" in client.get(later).get_data(as_text=True)


# --- rate limits ----------------------------------------------------------------------------------


def test_too_many_requests_for_one_link_are_answered_429(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_app(qbo, database_url, monkeypatch, ARPILOT_CUSTOMER_LINK_LIMIT=Limit(3, 60)).test_client()
    path = path_for(qbo, customer(qbo, APOSTROPHE_NAME))
    answers = [client.get(path, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]


def test_too_many_requests_from_one_address_are_answered_429(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_app(qbo, database_url, monkeypatch).test_client()
    answers = {client.get(f"/c/guess{n}").status_code for n in range(61)}
    assert answers == {404, 429}
    refused = client.get("/c/guess-again")
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def _confirm_reply_address(world: World | XeroWorld) -> None:
    with transaction(world.sessions) as session:
        confirm_reply_address(session, world.organization_id, "owner@harborpine.example", world.clock.now())


def test_allowing_customers_to_propose_plans_states_it_and_asks_for_acceptance_again(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    qbo.set_rules({"mode": "live", "plans": {"customer_max_instalments": 0}})
    app = make_app(qbo, database_url, monkeypatch)
    client = app.test_client()
    path = path_for(qbo, customer(qbo, APOSTROPHE_NAME))
    page = client.get(path).get_data(as_text=True)
    assert "propose a payment plan" not in page
    version = re.search(r'name="version" value="([0-9a-f]{64})"', page)
    assert version
    form = {"form_key": form_key(client, path), "version": version.group(1), "name": "Pat", "title": "Accounts"}
    assert client.post(f"{path}/policy", data=form).status_code == 303
    assert "I accept the credit policy" not in client.get(path).get_data(as_text=True)
    qbo.set_rules({"mode": "live", "plans": {"customer_max_instalments": 2, "first_payment_within_days": 7}})
    changed = client.get(path).get_data(as_text=True)
    assert "on your account page: up to 2 instalments, the first within 7 days." in changed
    assert "I accept the credit policy" in changed and "The policy has changed" in changed


def _priced(world: World, database_url: str, monkeypatch: pytest.MonkeyPatch, currency: str, balance: str):  # type: ignore[no-untyped-def]
    """O'Brien's first open invoice in `currency`, and a client on their page: (client, page path, invoice)."""
    obrien = customer(world, APOSTROPHE_NAME)
    invoice = invoices_of(world, obrien)[0]
    reprice(world.sessions, [invoice.provider_id], currency, balance)
    return make_app(world, database_url, monkeypatch).test_client(), path_for(world, obrien), invoice


def test_a_payment_in_dinars_is_recorded_to_the_fils(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, path, invoice = _priced(qbo, database_url, monkeypatch, "BHD", "10.125")
    assert "In BHD, like 250.000" in client.get(f"{path}/invoices/{invoice.id}").get_data(as_text=True)
    form = {"form_key": form_key(client, path), "paid_on": "2026-11-20", "amount": "10.125", "reference": "TT 77"}
    assert client.post(f"{path}/invoices/{invoice.id}/paid", data=form).status_code == 303
    (entry,) = entries(qbo, "customer_page")
    assert entry.details["amount"] == "10.125" and "10.125 BHD, reference TT 77" in entry.message


def test_a_payment_in_half_a_yen_is_refused_keeping_what_was_typed(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, path, invoice = _priced(qbo, database_url, monkeypatch, "JPY", "15000")
    form = {"form_key": form_key(client, path), "paid_on": "2026-11-20", "amount": "14999.5", "reference": "x" * 150}
    refused = client.post(f"{path}/invoices/{invoice.id}/paid", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Enter the amount you paid as a number above zero, like 250." in page
    assert 'value="14999.5"' in page and f'value="{"x" * 150}"' in page
    assert entries(qbo, "customer_page") == [] and pause_of(qbo, invoice) is None


def test_a_customer_with_no_email_is_recorded_and_the_missing_confirmation_kept(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    obrien = customer(qbo, APOSTROPHE_NAME)
    with transaction(qbo.sessions) as session:
        row = session.get_one(MirroredCustomer, obrien.id)
        row.email, row.contacts = None, []
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, obrien)
    invoice = invoices_of(qbo, obrien)[0]
    form = {"form_key": form_key(client, path), "promised_on": "2026-12-01"}
    assert client.post(f"{path}/invoices/{invoice.id}/promise", data=form).status_code == 303
    (entry,) = entries(qbo, "customer_page")
    assert entry.details["confirmation_error"] == "the customer has no valid email address on file"
    pause = pause_of(qbo, invoice)
    assert pause is not None and pause.promise_to_pay == dt.date(2026, 12, 1)
    assert not [e for e in sent(qbo.settings.outbox_dir) if str(e["key"]).startswith("customer-page-confirm")]


def test_a_long_account_is_listed_a_page_at_a_time_with_every_total(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """400 open invoices in three currencies: each page of the list stays small, the totals are the
    whole account's, and the plan and credit policy stay reachable below the first page."""
    obrien = customer(qbo, APOSTROPHE_NAME)
    own = sum(i.balance for i in invoices_of(qbo, obrien))
    amounts = {"USD": Decimal("123.45"), "JPY": Decimal(15001), "BHD": Decimal("10.125")}
    with transaction(qbo.sessions) as session:
        for n in range(400):
            currency = ("USD", "JPY", "BHD")[n % 3]
            session.add(
                MirroredInvoice(
                    connection_id=obrien.connection_id,
                    provider_id=f"long-{n}",
                    customer_provider_id=obrien.provider_id,
                    number=f"L-{n:04d}",
                    issue_date=dt.date(2026, 9, 1),
                    due_date=dt.date(2026, 10, 1) + dt.timedelta(days=n % 50),
                    total=amounts[currency],
                    balance=amounts[currency],
                    currency=currency,
                    status="open",
                    provider_updated_at=NOW,
                )
            )
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, obrien)
    first = client.get(path)
    html = first.get_data(as_text=True)
    assert len(first.data) < 100_000
    assert "Total open: <strong>BHD1,346.625</strong>, <strong>¥1,995,133</strong>" in html
    assert f"<strong>${own + 134 * Decimal('123.45'):,.2f}</strong>" in html
    assert "Showing invoices 1–50 of 40" in html and 'id="plan-heading"' in html and 'id="policy-heading"' in html
    seen = set(re.findall(r"Invoice (L-\d{4})</h3>", html))
    page = 1
    while (found := re.search(r'href="([^"]+page=(\d+)[^"]*)" rel="next"', html)) is not None:
        page += 1
        assert int(found.group(2)) == page
        html = client.get(found.group(1).replace("&amp;", "&").split("#")[0]).get_data(as_text=True)
        seen |= set(re.findall(r"Invoice (L-\d{4})</h3>", html))
    assert len(seen) == 400 and page == 9
    assert "Showing invoices 401–" in html and 'rel="prev"' in html
    for odd in ("0", "999", "abc", "-1"):
        assert client.get(path, query_string={"page": odd}).status_code == 200


HOSTILE = "<script>alert('x')</script> \u202eevil\u202c 🎉 " + "W" * 440  # 500 characters, the column's width


def test_hostile_names_and_numbers_are_escaped_and_what_is_said_is_recorded(
    qbo: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    obrien = customer(qbo, APOSTROPHE_NAME)
    invoice = invoices_of(qbo, obrien)[0]
    with transaction(qbo.sessions) as session:
        session.get_one(MirroredCustomer, obrien.id).name = HOSTILE[:500]
        session.get_one(MirroredInvoice, invoice.id).number = "<img src=x onerror=alert(1)>"
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, obrien)
    for url in (path, f"{path}/invoices/{invoice.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html or url != path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    reason = "Wrong <b>quantity</b> \u202e 🎉 " + "x" * 900
    form = {"form_key": form_key(client, path), "reason": reason}
    assert client.post(f"{path}/invoices/{invoice.id}/dispute", data=form).status_code == 303
    (entry,) = entries(qbo, "customer_page")
    assert entry.details["reason"] == reason.strip() and HOSTILE[:500] in entry.message
    thanks = client.get(path, query_string={"recorded": "dispute", "invoice": invoice.id}).get_data(as_text=True)
    assert "dispute of invoice &lt;img src=x onerror=alert(1)&gt;" in thanks
