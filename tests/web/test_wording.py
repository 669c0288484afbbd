"""The wording editor: merge fields beside it, an unknown field refused beside its input, live
preview, a test to the owner, reset to stock; each organization sees only its own wording."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from integration.owner.reply_address import confirm_reply_address
from integration.owner.stored_wording import load_wordings
from integration.store.db import transaction
from reminders.delivery import OutboxSender
from reminders.wording import stock_wording
from tests.web.conftest import T0, Seeded, signed_in

EDITED = {
    "subject": "About {{ invoice_label }}, {{ customer_name }}",
    "opening": "Hi {{ customer_name }},\n\nA quick note from {{ company_name }}: {{ total_due }} is open.",
    "closing": "Thanks!",
}


@pytest.fixture
def orgs(two_orgs: tuple[Seeded, Seeded]) -> tuple[Seeded, Seeded]:
    return two_orgs


def _csrf(client: FlaskClient, path: str = "/settings/emails") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)  # type: ignore[union-attr]


def test_the_editor_lists_the_merge_fields_and_previews_the_stock_wording(
    app: Flask, orgs: tuple[Seeded, Seeded]
) -> None:
    page = signed_in(app, orgs[0]).get("/settings/emails/reminder_1").get_data(as_text=True)
    for field in ("customer_name", "invoice_label", "total_due", "company_name"):
        assert "{{ " + field + " }}" in page
    assert "referral_date" not in page  # only the final notice has a referral date
    assert "Payment reminder: invoices 1042 and 1047 from Harbor &amp; Pine" in page
    assert "stock wording" in page


def test_an_unknown_field_is_refused_beside_its_field_and_nothing_is_saved(
    app: Flask, orgs: tuple[Seeded, Seeded]
) -> None:
    client = signed_in(app, orgs[0])
    form = {**EDITED, "opening": "Dear {{ custmer_name }}", "csrf_token": _csrf(client), "action": "save"}
    response = client.post("/settings/emails/reminder_1", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="f-opening-error" data-error-for="opening">unknown merge field \{\{ custmer_name \}\}', page)
    assert 'id="f-subject-error" data-error-for="subject" hidden' in page
    with app.extensions["arpilot"].sessions() as db:
        assert load_wordings(db, orgs[0].organization_id) == {}


def test_live_preview_follows_the_typing(app: Flask, orgs: tuple[Seeded, Seeded]) -> None:
    client = signed_in(app, orgs[0])
    token = _csrf(client)
    good = client.post("/settings/emails/reminder_1/preview.json", data={**EDITED, "csrf_token": token}).get_json()
    assert (
        good["subject"] == "About invoices 1042 and 1047, Acme Widgets"
        and "A quick note from Harbor & Pine" in good["text"]
    )
    bad = client.post(
        "/settings/emails/reminder_1/preview.json", data={**EDITED, "subject": "{{ nope }}", "csrf_token": token}
    )
    assert bad.status_code == 200 and "nope" in bad.get_json()["errors"]["subject"] and "subject" not in bad.get_json()


def test_save_then_reset_to_stock_and_other_organizations_are_untouched(
    app: Flask, orgs: tuple[Seeded, Seeded]
) -> None:
    client = signed_in(app, orgs[0])
    token = _csrf(client)
    assert (
        client.post("/settings/emails/reminder_1", data={**EDITED, "csrf_token": token, "action": "save"}).status_code
        == 302
    )
    page = client.get("/settings/emails/reminder_1").get_data(as_text=True)
    assert "your wording" in page and "About invoices 1042 and 1047, Acme Widgets" in page
    assert "About {{" not in signed_in(app, orgs[1]).get("/settings/emails/reminder_1").get_data(as_text=True)
    html = client.get("/settings/emails/reminder_1/preview")
    assert html.status_code == 200 and "A quick note from Harbor &amp; Pine" in html.get_data(as_text=True)
    assert client.post("/settings/emails/reminder_1/reset", data={"csrf_token": token}).status_code == 302
    with app.extensions["arpilot"].sessions() as db:
        assert load_wordings(db, orgs[0].organization_id) == {}
    assert stock_wording("reminder_1").opening in client.get("/settings/emails/reminder_1").get_data(as_text=True)


def test_send_a_test_to_me_goes_to_the_confirmed_address(app: Flask, orgs: tuple[Seeded, Seeded]) -> None:
    client = signed_in(app, orgs[0])
    token = _csrf(client)
    form = {**EDITED, "csrf_token": token, "action": "test"}
    refused = client.post("/settings/emails/reminder_1", data=form)
    assert refused.status_code == 400 and "Confirm your reply address" in refused.get_data(as_text=True)
    with transaction(app.extensions["arpilot"].sessions) as db:
        confirm_reply_address(db, orgs[0].organization_id, "sam@harbor.example", T0)
    sent = client.post("/settings/emails/reminder_1", data=form)
    assert sent.status_code == 200 and "was sent to sam@harbor.example" in sent.get_data(as_text=True)
    (entry,) = OutboxSender(app.extensions["arpilot"].settings.outbox_dir).entries()
    assert (
        entry["to"] == ["sam@harbor.example"]
        and entry["subject"] == "[Test] About invoices 1042 and 1047, Acme Widgets"
    )
    with app.extensions["arpilot"].sessions() as db:
        assert load_wordings(db, orgs[0].organization_id) == {}  # a test saves nothing


def test_the_reply_address_is_confirmed_on_the_emails_page(app: Flask, orgs: tuple[Seeded, Seeded]) -> None:
    client = signed_in(app, orgs[0])
    page = client.get("/settings/emails").get_data(as_text=True)
    assert 'value="owner@9130001.example"' in page and "Not confirmed" in page  # suggested from sign-in
    token = _csrf(client)
    bad = client.post("/settings/emails/reply-address", data={"csrf_token": token, "reply_address": "not an address"})
    assert bad.status_code == 400 and 'id="f-reply-address-error"' in bad.get_data(as_text=True)
    assert (
        client.post(
            "/settings/emails/reply-address", data={"csrf_token": token, "reply_address": "owner@9130001.example"}
        ).status_code
        == 302
    )
    assert "Confirmed" in client.get("/settings/emails").get_data(as_text=True)


def test_unknown_stages_are_404(app: Flask, orgs: tuple[Seeded, Seeded]) -> None:
    assert signed_in(app, orgs[0]).get("/settings/emails/reminder_9").status_code == 404
