"""The examples of Xero's published OpenAPI spec (tests/fixtures/real/xero, each naming where in
the spec it comes from), read through the real mapping and checked field by field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.contract import (
    Contact,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentApplication,
    PostalAddress,
)
from connectors.xero.mapping import (
    customer_from_xero,
    invoice_from_xero,
    is_receivable_payment,
    is_sales_invoice,
    payment_from_xero,
    payment_terms_from_xero,
)

REAL = Path(__file__).parents[1] / "fixtures" / "real" / "xero"


def _body(name: str) -> Any:
    # As the connector parses Xero: decimals from the JSON text, never through float.
    return json.loads((REAL / name).read_text(), parse_float=Decimal)["body"]


def _ms(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)


def _nzd(text: str) -> Money:
    return Money(Decimal(text), "NZD")


CONTACT = "a3675fc4-f8dd-4f03-ba5b-f1870566bcd7"


def test_the_specs_invoices_map_field_by_field() -> None:
    raw = _body("invoices.json")["Invoices"]
    assert all(is_sales_invoice(r) for r in raw)
    assert [invoice_from_xero(r) for r in raw] == [
        Invoice(
            "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2",
            "INV-0001",
            CONTACT,
            dt.date(2018, 10, 20),
            dt.date(2018, 12, 30),
            _nzd("40.00"),
            _nzd("0"),
            InvoiceStatus.VOIDED,
            _ms(1541176290160),
        ),
        Invoice(
            "046d8a6d-1ae1-4b4d-9340-5601bdf41b87",
            "INV-0002",
            CONTACT,
            dt.date(2018, 10, 20),
            dt.date(2018, 12, 30),
            _nzd("46.00"),
            _nzd("0.00"),
            InvoiceStatus.PAID,
            _ms(1541176592690),
        ),
        Invoice(
            "7ef31b20-de17-4312-8382-412f869b1510",
            "INV-0003",
            CONTACT,
            dt.date(2018, 11, 2),
            dt.date(2018, 11, 7),
            _nzd("115.00"),
            _nzd("115.00"),
            InvoiceStatus.OPEN,
            _ms(1541176648927),
        ),
    ]


def test_the_specs_contacts_map_field_by_field() -> None:
    raw = _body("contacts.json")["Contacts"]
    # The examples carry no DefaultCurrency: the organisation's is used.
    assert [customer_from_xero(r, "NZD") for r in raw] == [
        Customer(
            "5cc8cf28-567e-4d43-b287-687cfcaec47c",
            "Katherine Warren",
            "kat.warren@clampett.com",
            "(626) 847-1294",
            "NZD",
            None,
            True,
            _ms(1503348544227),
            (Contact("kat.warren@clampett.com", "Katherine Warren"),),
            country="United States",
            region="CA",
            billing_address=PostalAddress((), "Palo Alto", "CA", "94020", "United States"),
        ),  # the POBOX address: the STREET one is blank
        Customer(
            "3ec601ad-eddc-4ccb-a8ac-736e88293b1b",
            "Lisa Parker",
            "lparker@parkerandco.com",
            "(510) 266-3583",
            "NZD",
            None,
            True,
            _ms(1503348546760),
            (Contact("lparker@parkerandco.com", "Lisa Parker"),),
            country="United States",
            region="AK",
            billing_address=PostalAddress((), "Anchorage", "AK", "99501", "United States"),
        ),
    ]
    assert [payment_terms_from_xero(r) for r in raw] == [None, None]
    # Neither example keeps a street line: no letter can reach them (the letters page says so).
    addresses = [customer_from_xero(r, "NZD").billing_address for r in raw]
    assert all(a is not None and not a.postable for a in addresses)


def test_the_specs_contact_with_a_street_and_a_postal_address_maps_the_postal_one() -> None:
    (raw,) = _body("contact.json")["Contacts"]
    customer = customer_from_xero(raw, "NZD")
    assert customer.billing_address == PostalAddress(
        ("1234 Fake Street",), "Vancouver", "British Columbia", "V6B 2T4", None, attention="Blake"
    )
    assert customer.billing_address is not None and customer.billing_address.postable
    assert (customer.country, customer.region) == (None, "British Columbia")


def test_the_specs_payments_map_field_by_field_and_credit_note_payments_are_not_receipts() -> None:
    raw = _body("payments.json")["Payments"]
    receipts = [r for r in raw if is_receivable_payment(r)]
    assert [r["PaymentType"] for r in raw] == ["ACCRECPAYMENT", "ARCREDITPAYMENT"] and len(receipts) == 1
    assert payment_from_xero(receipts[0]) == Payment(
        "99ea7f6b-c513-4066-bc27-b7c65dcd76c2",
        CONTACT,
        dt.date(2018, 11, 29),
        _nzd("46.00"),
        (PaymentApplication("046d8a6d-1ae1-4b4d-9340-5601bdf41b87", _nzd("46.00")),),
        _ms(1541176592690),
    )
