"""A customer's statement on request: the PDF download and the email with the PDF attached, once a
day, within the signed-in organization only."""

from __future__ import annotations

import email
import io
from email import policy

import pypdf
from flask import Flask
from sqlalchemy import select

from integration.store.models import ActivityEntry
from reminders.delivery import OutboxSender
from tests.oauth.webflow import csrf_token
from tests.web.conftest import Seeded, add_jobs, signed_in


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_statement_downloads_as_a_pdf_with_the_mirrors_total(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    response = signed_in(app, mine).get(f"/customers/{mine.customer_id}/statement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=statement-acme-b-tools-b-co-")
    text = _text(response.data)
    assert "Acme <b>Tools</b> & Co" in text
    assert "Total due (USD): $1,000.00" in text  # the seeded book's two open invoices of $500.00
    assert "Rival" not in text


def test_another_organizations_customer_is_404_like_a_missing_one(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    client = signed_in(app, mine)
    foreign = client.get(f"/customers/{theirs.customer_id}/statement.pdf")
    missing = client.get("/customers/999999/statement.pdf")
    assert foreign.status_code == missing.status_code == 404 and foreign.data == missing.data
    token = csrf_token(client)
    sent = client.post(f"/customers/{theirs.customer_id}/statement/email", data={"csrf_token": token})
    assert sent.status_code == 404
    assert OutboxSender(app.extensions["arpilot"].settings.outbox_dir).entries() == []


def test_emailing_sends_the_pdf_once_a_day_and_logs_it(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    client = signed_in(app, mine)
    url = f"/customers/{mine.customer_id}/statement/email"
    first = client.post(url, data={"csrf_token": csrf_token(client)}, follow_redirects=True)
    assert first.status_code == 200
    assert "The statement was emailed to ap@example.com." in first.get_data(as_text=True)
    outbox = OutboxSender(app.extensions["arpilot"].settings.outbox_dir)
    (entry,) = outbox.entries()
    assert entry["to"] == ["ap@example.com"] and entry["attachments"][0].endswith(".pdf")
    eml = email.message_from_bytes(outbox.path_for(entry["key"]).read_bytes(), policy=policy.default)
    (pdf,) = eml.iter_attachments()
    assert "Total due (USD): $1,000.00" in _text(pdf.get_content())
    plain = eml.get_body(("plain",))
    assert plain is not None and "Total due: $1,000.00." in plain.get_content()

    again = client.post(url, data={"csrf_token": csrf_token(client)}, follow_redirects=True)
    assert "statement already went to ap@example.com; it was not sent again." in again.get_data(as_text=True)
    assert len(outbox.entries()) == 1
    with app.extensions["arpilot"].sessions() as db:
        logged = db.scalars(select(ActivityEntry).where(ActivityEntry.kind == "statement_emailed")).all()
    assert [(e.organization_id, e.customer_provider_id) for e in logged] == [(mine.organization_id, "58")]


def test_the_post_needs_the_csrf_token(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    response = signed_in(app, mine).post(f"/customers/{mine.customer_id}/statement/email")
    assert response.status_code == 400
    assert OutboxSender(app.extensions["arpilot"].settings.outbox_dir).entries() == []


def test_the_customers_page_offers_both(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    html = signed_in(app, mine).get(f"/customers/{mine.customer_id}").get_data(as_text=True)
    assert f'href="/customers/{mine.customer_id}/statement.pdf"' in html
    assert f'action="/customers/{mine.customer_id}/statement/email"' in html
    assert '<h2 id="statement">Statement of account</h2>' in html


def test_jobs_billed_with_the_customer_are_on_its_statement(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    """A QuickBooks job with BillWithParent is statemented through its parent, as its reminders are;
    a job billed on its own is not."""
    mine = two_orgs[0]
    add_jobs(app.extensions["arpilot"].sessions, mine.connection_id, "58")
    text = _text(signed_in(app, mine).get(f"/customers/{mine.customer_id}/statement.pdf").data)
    assert "J-job-1" in text and "Total due (USD): $1,080.00" in text
    assert "J-job-2" not in text
