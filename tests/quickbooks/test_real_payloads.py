"""Intuit's published example payloads (tests/fixtures/real/quickbooks, each naming its source),
read through the real client and mapping, and checked field by field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import responses

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
from connectors.quickbooks import mapping
from tests.quickbooks.helpers import COMPANY, make_connector

REAL = Path(__file__).parents[1] / "fixtures" / "real" / "quickbooks"


def _text(name: str) -> str:
    """The response body exactly as the provider documents it (the fixture's `body`)."""
    return json.dumps(json.loads((REAL / name).read_text())["body"])


def _raw(name: str) -> Any:
    return json.loads((REAL / name).read_text(), parse_float=Decimal)["body"]


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@responses.activate
def test_intuits_invoice_sample_maps_field_by_field() -> None:
    responses.get(f"{COMPANY}/invoice/239", body=_text("invoice.json"), content_type="application/json")
    assert make_connector().get_invoice("239") == Invoice(
        provider_id="239",
        number="1070",
        customer_id="1",
        issue_date=dt.date(2015, 7, 24),
        due_date=dt.date(2015, 8, 23),
        total=Money(Decimal("150.0"), "USD"),
        balance=Money(Decimal("150.0"), "USD"),
        status=InvoiceStatus.OPEN,
        updated_at=_utc("2015-07-24T10:35:08-07:00"),
        pay_link=None,
        email=None,
        sync_token="0",
    )


@responses.activate
def test_intuits_customer_sample_maps_field_by_field() -> None:
    responses.get(f"{COMPANY}/customer/2", body=_text("customer.json"), content_type="application/json")
    assert make_connector().get_customer("2") == Customer(
        provider_id="2",
        name="Bill's Windsurf Shop",
        email="Surf@Intuit.com",
        phone="(415) 444-6538",
        currency="USD",
        terms_id=None,
        active=True,
        updated_at=_utc("2014-09-18T12:56:01-07:00"),
        contacts=(Contact("Surf@Intuit.com", "Bill's Windsurf Shop", "billing"),),
        notes="",
        parent_id=None,
        bill_with_parent=False,
        full_name="Bill's Windsurf Shop",
        country=None,
        region="CA",  # BillAddr names the state, not the country
        billing_address=PostalAddress(("12 Ocean Dr.",), "Half Moon Bay", "CA", "94213"),  # not its Lat, Long, Id
    )


@responses.activate
def test_a_job_billed_with_its_parent_maps_with_its_parent() -> None:
    responses.get(f"{COMPANY}/customer/8", body=_text("customer_job.json"), content_type="application/json")
    assert make_connector().get_customer("8") == Customer(
        provider_id="8",
        name="0969 Ocean View Road",
        email="Sporting_goods@intuit.com",
        phone="(415) 555-9933",
        currency="USD",
        terms_id=None,
        active=True,
        updated_at=_utc("2015-07-23T11:00:14-07:00"),
        contacts=(Contact("Sporting_goods@intuit.com", "0969 Ocean View Road", "billing"),),
        notes="",
        parent_id="7",
        bill_with_parent=True,
        full_name="Freeman Sporting Goods:0969 Ocean View Road",
        billing_address=None,  # the sample keeps no BillAddr nor ShipAddr
    )


def test_intuits_payment_sample_maps_field_by_field() -> None:
    # The unapplied 10.00 of its 65.00 is the customer's credit; the line pays invoice 70.
    assert mapping.payment(_raw("payment.json")["Payment"], "USD") == Payment(
        provider_id="163",
        customer_id="20",
        date=dt.date(2015, 1, 16),
        amount=Money(Decimal("65.0"), "USD"),
        applied_to=(PaymentApplication("70", Money(Decimal("55.0"), "USD")),),
        updated_at=_utc("2015-01-16T15:08:12-08:00"),
        unapplied=Money(Decimal("10.0"), "USD"),
    )
