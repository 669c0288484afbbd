"""Letters to post: listed for the signed-in organization only, drawn as a PDF, marked posted once
(logged in the activity like an email); another organization's letter is a 404."""

from __future__ import annotations

import io

import pypdf
import pytest
from flask import Flask
from sqlalchemy import select

from connectors.contract import PostalAddress
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Letter, MirroredCustomer
from integration.store.postal import address_json
from tests.oauth.webflow import csrf_token
from tests.web.conftest import Seeded, signed_in


def _letter(app: Flask, seeded: Seeded, subject: str) -> int:
    with transaction(app.extensions["arpilot"].sessions) as db:
        letter = Letter(
            organization_id=seeded.organization_id,
            connection_id=seeded.connection_id,
            action_id=seeded.action_ids[0],
            customer_provider_id="58",
            customer_name="stored name",
            subject=subject,
            body_text="Hello,\n\nInvoice 1002 for $500.00 is overdue.\n",
        )
        db.add(letter)
        db.flush()
        return letter.id


@pytest.fixture
def letters(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> tuple[int, int]:
    return _letter(app, two_orgs[0], "Invoice 1002 is overdue"), _letter(app, two_orgs[1], "Rival's letter")


def test_the_page_lists_this_organizations_letters_with_their_actions(
    app: Flask, two_orgs: tuple[Seeded, Seeded], letters: tuple[int, int]
) -> None:
    mine, theirs = letters
    html = signed_in(app, two_orgs[0]).get("/letters").get_data(as_text=True)
    assert "<h1>Letters to post</h1>" in html and "Invoice 1002 is overdue" in html
    assert "Rival" not in html
    assert f'action="/letters/{mine}/posted"' in html and f'href="/letters/{mine}.pdf"' in html
    assert f"/letters/{theirs}" not in html
    assert 'href="/letters"' in html  # in the navigation


def test_a_letter_downloads_as_a_pdf_with_the_customer_and_the_emails_words(
    app: Flask, two_orgs: tuple[Seeded, Seeded], letters: tuple[int, int]
) -> None:
    response = signed_in(app, two_orgs[0]).get(f"/letters/{letters[0]}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    for expected in (
        "Acme <b>Tools</b> & Co",
        "Harbor & Pine",
        "12 Harbor Rd",
        "Boulder CO 80302",
        "Invoice 1002 is overdue",
        "Invoice 1002 for $500.00 is overdue.",
    ):
        assert expected in text


def test_marking_posted_records_it_once(app: Flask, two_orgs: tuple[Seeded, Seeded], letters: tuple[int, int]) -> None:
    client = signed_in(app, two_orgs[0])
    for _ in range(2):
        response = client.post(
            f"/letters/{letters[0]}/posted", data={"csrf_token": csrf_token(client)}, follow_redirects=True
        )
        assert response.status_code == 200
    assert "is marked posted" in response.get_data(as_text=True)
    assert f'action="/letters/{letters[0]}/posted"' not in response.get_data(as_text=True)
    with app.extensions["arpilot"].sessions() as db:
        logged = db.scalars(select(ActivityEntry).where(ActivityEntry.kind == "letter_posted")).all()
        assert [(e.organization_id, e.action_id) for e in logged] == [
            (two_orgs[0].organization_id, two_orgs[0].action_ids[0])
        ]
        assert db.get_one(Letter, letters[0]).posted_at is not None


def test_another_organizations_letter_is_404_like_a_missing_one(
    app: Flask, two_orgs: tuple[Seeded, Seeded], letters: tuple[int, int]
) -> None:
    client = signed_in(app, two_orgs[0])
    theirs = letters[1]
    foreign, missing = client.get(f"/letters/{theirs}.pdf"), client.get("/letters/999999.pdf")
    assert foreign.status_code == missing.status_code == 404 and foreign.data == missing.data
    assert client.post(f"/letters/{theirs}/posted", data={"csrf_token": csrf_token(client)}).status_code == 404
    with app.extensions["arpilot"].sessions() as db:
        assert db.get_one(Letter, theirs).posted_at is None


def test_marking_posted_needs_the_csrf_token(
    app: Flask, two_orgs: tuple[Seeded, Seeded], letters: tuple[int, int]
) -> None:
    assert signed_in(app, two_orgs[0]).post(f"/letters/{letters[0]}/posted").status_code == 400


def test_the_dashboard_counts_the_letters_waiting_to_be_posted(
    app: Flask, two_orgs: tuple[Seeded, Seeded], letters: tuple[int, int]
) -> None:
    client = signed_in(app, two_orgs[0])
    html = client.get("/").get_data(as_text=True)
    assert "<strong>1 letter to post.</strong>" in html and 'href="/letters"' in html
    client.post(f"/letters/{letters[0]}/posted", data={"csrf_token": csrf_token(client)})
    assert "letter to post" not in client.get("/").get_data(as_text=True)


def test_a_customer_without_a_postal_address_is_said_plainly_and_no_empty_letter_is_drawn(
    app: Flask, two_orgs: tuple[Seeded, Seeded], letters: tuple[int, int]
) -> None:
    with transaction(app.extensions["arpilot"].sessions) as db:
        db.get_one(MirroredCustomer, two_orgs[0].customer_id).billing_address = address_json(
            PostalAddress((), "Boulder", "CO", "80302", "US")  # a place but no street: no letter reaches it
        )
    client = signed_in(app, two_orgs[0])
    html = client.get("/letters").get_data(as_text=True)
    assert "No postal address in the books: add one in QuickBooks." in html
    assert f'href="/letters/{letters[0]}.pdf"' not in html
    response = client.get(f"/letters/{letters[0]}.pdf", follow_redirects=True)
    assert response.mimetype == "text/html" and response.request.path == "/letters"
    assert "cannot be printed. No postal address in the books: add one in QuickBooks." in response.get_data(
        as_text=True
    )
