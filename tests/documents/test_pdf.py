"""The PDFs open (pypdf reads them back), carry the customer's name and the statement's totals as
the company's locale writes them, and survive hostile text."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any, cast

import pypdf
import pytest
from pypdf.generic import DictionaryObject

import integration.documents
from connectors.contract import Credit, Invoice, Money
from integration.documents.letter import build_letter
from integration.documents.pdf import font_files, letter_pdf, statement_pdf, summary_pdf
from integration.documents.statement import build_statement
from reminders.formatting import money, parse_locale
from tests.documents.books import (
    COMPANY,
    CREDITS,
    INVOICES,
    NOW,
    PAYMENTS,
    TODAY,
    US_COMPANY,
    bhd,
    credit,
    customer,
    invoice,
    usd,
)


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def page_size_mm(data: bytes) -> tuple[int, int]:
    box = pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox
    return round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)


def test_the_font_is_the_packages_own_with_its_license() -> None:
    """No font package on the machine is needed: both files come from integration/documents/fonts."""
    folder = Path(integration.documents.__file__).parent / "fonts"
    assert font_files() == (folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf")
    assert all(path.read_bytes().startswith(b"\x00\x01\x00\x00") for path in font_files())  # TrueType
    assert "Bitstream Vera" in (folder / "LICENSE.txt").read_text()
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in pypdf.PdfReader(io.BytesIO(statement_pdf(_statement()))).pages
        for font in cast(DictionaryObject, cast(DictionaryObject, page["/Resources"])["/Font"]).values()
    }
    assert {name.rpartition("+")[2] for name in fonts} == {"DejaVuSansBook", "DejaVuSansBold"}  # subsets, embedded


def _statement(**company: Any):  # type: ignore[no-untyped-def]
    return build_statement(dataclasses.replace(COMPANY, **company), customer(), INVOICES, PAYMENTS, CREDITS, NOW)


@pytest.mark.parametrize(
    ("name", "currency", "locale", "sign"),
    [
        ("Ελληνικά Τρόφιμα Α.Ε.", "EUR", "el_GR", "€"),  # Greek
        ("ООО «Ромашка»", "JPY", "ru_RU", "¥"),  # Cyrillic
        ("Łódź Çağrı Ñoño Søren Þór", "INR", "en_IN", "₹"),  # accented Latin
    ],
)
def test_names_in_other_scripts_and_currency_signs_print_as_written(
    name: str, currency: str, locale: str, sign: str
) -> None:
    book = (invoice("X-1", 3, "1234", currency=currency),)
    company = dataclasses.replace(COMPANY, name=name, currency=currency, locale=locale)
    text = text_of(statement_pdf(build_statement(company, customer(name, currency=currency), book, (), (), NOW)))
    assert text.count(name) >= 2  # the company's heading and the customer's address
    assert f"Total due ({currency}):" in text and sign in text


def test_a_statement_opens_and_shows_the_name_and_totals_in_euros() -> None:
    data = statement_pdf(build_statement(COMPANY, customer(), INVOICES, PAYMENTS, CREDITS, NOW))
    assert data.startswith(b"%PDF-")
    text = text_of(data)
    assert "Café Zoë Ltd" in text
    assert "Müller & Söhne GmbH" in text
    assert "Total due (EUR): 1.400,74\xa0€" in text  # de_DE, as Babel writes it
    assert "1.000,00 €" in text and "9,99 €" in text  # a table's no-break space is drawn as a space
    assert "Credit available (EUR): 30,00\xa0€" in text
    assert "CN-1" in text and "pay-1" in text and "pay-old" not in text
    assert page_size_mm(data) == (210, 297)  # A4 for a German company


def test_a_us_statement_is_on_letter_paper_in_dollars() -> None:
    book = (invoice("U-1", 3, "1234.50", currency="USD"),)
    data = statement_pdf(build_statement(US_COMPANY, customer("Acme ¥€ Trading", currency="USD"), book, (), (), NOW))
    text = text_of(data)
    assert "Acme ¥€ Trading" in text
    assert "Total due (USD): $1,234.50" in text
    assert page_size_mm(data) == (216, 279)


def test_the_same_statement_gives_the_same_bytes() -> None:
    statement = build_statement(COMPANY, customer(), INVOICES, PAYMENTS, CREDITS, NOW)
    assert statement_pdf(statement) == statement_pdf(statement)


@pytest.mark.parametrize(
    "name",
    [
        "Nul\x00Byte\x07 Corp",
        "Ω" * 5000,
        "W" * 3000 + " Holdings",
        "شركة الأمل للتجارة",  # Arabic, right to left
        "חברת בדיקה בע״מ",  # Hebrew
        "株式会社テスト",  # not in DejaVu: drawn as missing glyphs, never a crash
        "\u202eevil\u202c \ud800 lone surrogate",
        "",
    ],
)
def test_hostile_names_never_break_a_statement_or_a_letter(name: str) -> None:
    statement = build_statement(COMPANY, customer(name), INVOICES, PAYMENTS, CREDITS, NOW)
    assert pypdf.PdfReader(io.BytesIO(statement_pdf(statement))).pages
    letter = build_letter(
        country="DE",
        company_name=name,
        company_address=("Hauptstraße 1", "10115 Berlin"),
        customer_name=name,
        customer_address=(name, "x" * 500),
        date=TODAY,
        subject=name,
        body=f"Dear {name},\n\n{name * 3}",
        signature=name,
    )
    assert pypdf.PdfReader(io.BytesIO(letter_pdf(letter, parse_locale("de_DE")))).pages


def test_nul_bytes_are_dropped_from_the_text() -> None:
    text = text_of(statement_pdf(build_statement(COMPANY, customer("Nul\x00Byte"), (), (), (), NOW)))
    assert "NulByte" in text


def test_the_packet_summary_carries_the_account_and_the_records_figures() -> None:
    statement = build_statement(COMPANY, customer(), INVOICES, PAYMENTS, CREDITS, NOW)
    text = text_of(summary_pdf(statement, [("Emails to the customer", "4"), ("Calls", "1")]))
    assert "Collections summary" in text
    assert "Total due (EUR): 1.400,74\xa0€" in text
    assert "Emails to the customer" in text and "Calls" in text


def test_a_letter_carries_its_date_subject_and_body() -> None:
    letter = build_letter(
        country="US",
        company_name="Acme Supply",
        company_address=("1 Main St", "Denver, CO 80202"),
        customer_name="Zoë's Bakery",
        customer_address=("22 Elm St", "Boulder, CO 80302"),
        date=dt.date(2026, 6, 10),
        subject="Invoice 1001 is overdue",
        body="Hello,\n\nInvoice 1001 for $120.00 is 10 days overdue.",
        signature="Ann at Acme Supply",
    )
    text = text_of(letter_pdf(letter, parse_locale("en_US")))
    for expected in (
        "Zoë's Bakery",
        "Jun 10, 2026",
        "Invoice 1001 is overdue",
        "is 10 days overdue",
        "Ann at Acme Supply",
    ):
        assert expected in text


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def _long_account() -> tuple[list[Invoice], list[Credit]]:
    """400 open invoices in three currencies (whole yen, three-decimal dinars), and unapplied credit."""
    amounts = {"USD": "123.45", "JPY": "15001", "BHD": "10.125"}
    invoices = [
        invoice(f"N-{n:04d}", n % 120 - 10, amounts[currency], currency=currency)
        for n in range(400)
        for currency in (("USD", "JPY", "BHD")[n % 3],)
    ]
    credits = [
        dataclasses.replace(credit("CN-9", 3, "50.00", "20.00"), total=usd("50.00"), remaining=usd("20.00")),
        dataclasses.replace(credit("CN-8", 300, "1.500", "1.500"), total=bhd("1.500"), remaining=bhd("1.500")),
    ]
    return invoices, credits


def test_a_400_invoice_account_prints_every_line_with_headings_on_every_page_and_exact_totals() -> None:
    invoices, credits = _long_account()
    statement = build_statement(US_COMPANY, customer("Acme Holdings", currency="USD"), invoices, (), credits, NOW)
    pages = _pages(statement_pdf(statement))
    assert len(pages) > 5
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Statement for Acme Holdings" in text  # a loose page still says whose it is
        if "N-0" in text:  # a page of the invoice table starts with its heading
            assert "Invoice Issued Due Days overdue Balance" in text
    text = "\n".join(pages)
    assert sorted(re.findall(r"N-\d{4}", text)) == sorted(i.number for i in invoices)  # each once, none cut
    locale = parse_locale("en_US")
    for currency in ("USD", "JPY", "BHD"):
        owed = sum((i.balance for i in invoices if i.balance.currency == currency), Money.zero(currency))
        assert f"Total due ({currency}): {money(owed, locale)}" in text
    assert "Total due (JPY): ¥1,995,133" in text and "Total due (BHD): BHD1,346.625" in text
    assert "Credit available (USD): $20.00" in text and "Credit available (BHD): BHD1.500" in text


@pytest.mark.parametrize(
    ("locale", "figures"),
    [
        ("en_US", ("98,765,432.125", "9,876,543,210", "12,345,678.99")),
        ("de_DE", ("98.765.432,125", "9.876.543.210", "12.345.678,99")),
        ("ar_BH", ("98,765,432.125", "9,876,543,210", "12,345,678.99")),
    ],
)
def test_large_amounts_and_long_invoice_numbers_are_printed_whole(locale: str, figures: tuple[str, ...]) -> None:
    """A cell too narrow wraps; it never cuts an amount or an invoice number short."""
    book = (
        invoice("BIG-1", 5, "98765432.125", currency="BHD"),
        invoice("BIG-2", 50, "9876543210", currency="JPY"),
        invoice("INV-2026-000123-REVISED-B", 200, "12345678.99", currency="USD"),
    )
    company = dataclasses.replace(COMPANY, locale=locale)
    text = text_of(statement_pdf(build_statement(company, customer(), book, (), (), NOW)))
    assert "…" not in text
    assert "INV-2026-000123-REVISED-B" in text.replace("\n", "")
    for figure in figures:  # the invoice's line, its aging bucket, the aging total and the total due
        assert text.count(figure) == 4, figure
    assert "Over 90 days" in text and "Not yet due" in text


def test_the_packet_summary_of_a_400_invoice_account_keeps_every_line_and_its_figures() -> None:
    invoices, credits = _long_account()
    statement = build_statement(US_COMPANY, customer("Acme Holdings", currency="USD"), invoices, (), credits, NOW)
    facts = [("Emails to the customer", "412"), ("Promises, disputes and payment plans " * 4, "3")]
    pages = _pages(summary_pdf(statement, facts))
    assert all(f"Collections summary for Acme Holdings Page {n} of {len(pages)}" in p for n, p in enumerate(pages, 1))
    text = "\n".join(pages)
    assert len(re.findall(r"N-\d{4}", text)) == 400 and "…" not in text
    assert "Emails to the customer 412" in text and "Total due (BHD): BHD1,346.625" in text
