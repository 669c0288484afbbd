"""The collections packet: one customer's whole record as a ZIP of HTML and CSV, and the customer page."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pypdf
import pytest
from flask import Flask

from connectors.contract import Money
from integration.owner.records import customer_record
from integration.web.packet import _cell, packet_filename
from reminders.formatting import money, parse_locale
from tests.web.conftest import Seeded, signed_in

FILES = [
    "index.html",
    "style.css",
    "customer.csv",
    "invoices.csv",
    "payments.csv",
    "promises.csv",
    "plans.csv",
    "credit-policy-acceptance.csv",
    "emails.csv",
    "calls.csv",
    "notes-and-account-actions.csv",
    "activity.csv",
    "summary.pdf",
]


def _download(app: Flask, seeded: Seeded, customer_id: int | None = None) -> zipfile.ZipFile:
    response = signed_in(app, seeded).get(f"/customers/{customer_id or seeded.customer_id}/collections-packet.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def _table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


def test_packet_holds_every_item_of_the_customer(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    archive = _download(app, mine)
    assert archive.namelist() == FILES
    assert [r["number"] for r in _table(archive, "invoices.csv")] == list(mine.invoice_numbers)
    assert [r["provider_id"] for r in _table(archive, "payments.csv")] == ["P9"]
    promises = {r["invoice_id"]: r for r in _table(archive, "promises.csv")}
    assert promises["131"]["promise_to_pay"] == "2026-11-30" and promises["132"]["disputed"] == "True"
    assert promises["131"]["invoice_number"] == mine.invoice_numbers[1]
    a1, a2, a3, a4, a5, _quiet = mine.action_ids
    assert [int(r["action_id"]) for r in _table(archive, "emails.csv")] == [a1, a2]
    assert [int(r["action_id"]) for r in _table(archive, "calls.csv")] == [a3]
    assert [int(r["action_id"]) for r in _table(archive, "notes-and-account-actions.csv")] == [a4, a5]
    emails = _table(archive, "emails.csv")
    assert (emails[1]["reason"], emails[1]["status"], emails[1]["reference"]) == (
        "two invoices past due: one email",
        "done",
        "email:m2",
    )
    activity = _table(archive, "activity.csv")
    assert [int(r["entry_id"]) for r in activity] == list(mine.entry_ids[:3])  # not the cycle's
    assert json.loads(activity[2]["details"]) == {"outcome": "promised", "comment": "<i>Spoke to Jo</i> in accounts"}
    index = archive.read("index.html").decode()
    for text in (
        *mine.invoice_numbers,
        "two invoices past due: one email",
        "14 days late: call the customer",
        "dispute noted",
        "60 days overdue: credit hold",
        "Nov 30, 2026",  # the promise, written for a reader (the CSV files keep ISO dates)
        "Wrong quantity",
        "ap@example.com",
    ):
        assert text in index
    assert "Quiet Co" not in index and "9130002" not in index


def test_the_summary_pdf_opens_and_its_totals_match_the_mirror(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    reader = pypdf.PdfReader(io.BytesIO(_download(app, mine).read("summary.pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    with app.extensions["arpilot"].sessions() as db:
        record = customer_record(db, mine.organization_id, mine.customer_id)
    assert record.open_balance == {"USD": 1000}  # two open invoices of 500.00 in the seeded book
    for currency, amount in record.open_balance.items():
        assert f"Total due ({currency}): {money(Money(amount, currency), parse_locale('en_US'))}" in text
    assert "Acme <b>Tools</b> & Co" in text  # the name as text, not markup
    assert "Emails to the customer" in text and "Rival" not in text


def test_html_in_names_and_notes_is_escaped(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    index = _download(app, mine).read("index.html").decode()
    assert "Acme &lt;b&gt;Tools&lt;/b&gt; &amp; Co" in index and "<b>Tools</b>" not in index
    assert "&lt;script&gt;alert(" in index and "<script>" not in index
    assert "&lt;i&gt;Spoke to Jo&lt;/i&gt; in accounts" in index and "<i>" not in index  # the call's comment
    page = signed_in(app, mine).get(f"/customers/{mine.customer_id}").get_data(as_text=True)
    assert "Acme &lt;b&gt;Tools&lt;/b&gt;" in page and "<script>alert" not in page


def test_filename_is_the_sanitized_customer_name(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    response = signed_in(app, mine).get(f"/customers/{mine.customer_id}/collections-packet.zip")
    assert response.headers["Content-Disposition"] == "attachment; filename=collections-packet-acme-b-tools-b-co.zip"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('Café Zoë / "Ltd"', "collections-packet-cafe-zoe-ltd.zip"),
        ("../../etc/passwd", "collections-packet-etc-passwd.zip"),
        ("株式会社", "collections-packet-customer.zip"),
        ("x" * 300, f"collections-packet-{'x' * 60}.zip"),
    ],
)
def test_packet_filename(name: str, expected: str) -> None:
    assert packet_filename(name) == expected


def test_spreadsheet_formulas_are_written_as_text() -> None:
    assert _cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert _cell("@SUM(A1)") == "'@SUM(A1)" and _cell("+1 555 0199") == "'+1 555 0199"
    assert _cell("-12.50") == "-12.50" and _cell(None) == "" and _cell("Acme") == "Acme"


def test_same_record_same_bytes(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    client = signed_in(app, mine)
    url = f"/customers/{mine.customer_id}/collections-packet.zip"
    assert client.get(url).data == client.get(url).data


def test_another_organizations_customer_is_404_like_a_missing_one(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    client = signed_in(app, mine)
    for path in ("/customers/{}/collections-packet.zip", "/customers/{}"):
        foreign, missing = client.get(path.format(theirs.customer_id)), client.get(path.format(999_999))
        assert foreign.status_code == missing.status_code == 404
        assert foreign.data == missing.data and b"Rival" not in foreign.data


def test_customer_pages_link_the_packet(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    page = signed_in(app, mine).get(f"/customers/{mine.customer_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'href="/customers/{mine.customer_id}/collections-packet.zip"' in html
    assert f'href="/activity?customer={mine.customer_id}"' in html
    assert f'href="/settings/customers/{mine.customer_id}"' in html
    settings_page = signed_in(app, mine).get(f"/settings/customers/{mine.customer_id}").get_data(as_text=True)
    assert f'href="/customers/{mine.customer_id}/collections-packet.zip"' in settings_page
    assert f'href="/customers/{mine.customer_id}"' in settings_page


def test_packet_needs_a_signed_in_owner(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    response = app.test_client().get(f"/customers/{two_orgs[0].customer_id}/collections-packet.zip")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_payment_plan_over_several_invoices_is_in_plans_csv(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    from integration.store.db import transaction
    from integration.store.models import AccountPlan, MirroredCustomer

    mine, theirs = two_orgs
    with transaction(app.extensions["arpilot"].sessions) as db:
        for seeded in (mine, theirs):
            customer = db.get_one(MirroredCustomer, seeded.customer_id)
            db.add(
                AccountPlan(
                    connection_id=seeded.connection_id,
                    customer_provider_id=customer.provider_id,
                    invoice_ids=["131", "132"],
                    instalments=[{"date": "2026-12-01", "amount": "100.00"}, {"date": "2027-01-01", "amount": "50.00"}],
                    proposed_by="customer",
                )
            )
    rows = _table(_download(app, mine), "plans.csv")
    assert [(r["instalment_date"], r["amount"], r["proposed_by"]) for r in rows] == [
        ("2026-12-01", "100.00", "customer"),
        ("2027-01-01", "50.00", "customer"),
    ]
    assert rows[0]["invoice_numbers"] == f"{mine.invoice_numbers[1]} {mine.invoice_numbers[2]}"
