"""Intuit's published example payloads (tests/fixtures/real/quickbooks, each naming its source),
read through the real client and mapping, and checked field by field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

from connectors.contract import (
    Contact,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentApplication,
    PaymentTerms,
    PostalAddress,
    TermsKind,
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


def _variant(name: str, entity: str, **fields: Any) -> Any:
    """A published sample with `fields` replaced (None removes one): a schema-valid variant of it."""
    raw = {**_raw(name)[entity], **fields}
    return {key: value for key, value in raw.items() if value is not None}


_INVOICE_DATES = dt.date(2015, 7, 24), dt.date(2015, 8, 23)


@pytest.mark.parametrize(
    ("txn_date", "due_date"),
    [
        ("2015-07-24", "2015-08-23"),  # as Intuit's samples write them
        # xs:date (Finance.xsd's TxnDate and DueDate) may carry a time zone; the day stays the day written.
        ("2015-07-24Z", "2015-08-23Z"),
        ("2015-07-24-07:00", "2015-08-23+14:00"),
    ],
)
@responses.activate
def test_invoice_dates_in_every_form_xs_date_allows(txn_date: str, due_date: str) -> None:
    body = json.loads(_text("invoice.json"))  # through the real client, which reads the JSON text
    body["Invoice"].update(TxnDate=txn_date, DueDate=due_date)
    responses.get(f"{COMPANY}/invoice/239", json=body)
    invoice = make_connector().get_invoice("239")
    assert (invoice.issue_date, invoice.due_date) == _INVOICE_DATES


@pytest.mark.parametrize("txn_date", ["2015-01-16Z", "2015-01-16+05:30"])
def test_payment_and_credit_memo_dates_with_a_time_zone(txn_date: str) -> None:
    assert mapping.payment(_variant("payment.json", "Payment", TxnDate=txn_date), "USD").date == dt.date(2015, 1, 16)
    memo = _variant("payment.json", "Payment", TxnDate=txn_date, RemainingCredit=Decimal("5.00"))
    assert mapping.credit_memo(memo, "USD").date == dt.date(2015, 1, 16)


@pytest.mark.parametrize("written", ["2015-07-24T00:00:00", "24/07/2015", "2015-07-24-7:00", "2015-02-30"])
def test_a_date_xs_date_does_not_allow_is_a_clear_error(written: str) -> None:
    with pytest.raises(mapping.MalformedRecord, match=r"Invoice 239: TxnDate is not a date"):
        mapping.invoice(_variant("invoice.json", "Invoice", TxnDate=written), "USD")


_CREDIT_MEMO = {
    "MetaData": {"CreateTime": "2014-09-02T13:49:33-07:00", "LastUpdatedTime": "2014-09-02T13:49:33-07:00"},
    "Id": "73",
    "DocNumber": "1026",
    "TxnDate": "2014-09-02",
    "TotalAmt": Decimal("90.00"),
    "RemainingCredit": Decimal("0"),
    "Balance": Decimal("90.00"),  # older minor versions' figure, superseded by RemainingCredit
    "CustomerRef": {"value": "3", "name": "Cool Cars"},
    "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
}


def _without(raw: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key not in fields}


@pytest.mark.parametrize(
    ("read", "raw", "message"),
    [
        # Finance.xsd makes these amounts optional, but each decides something: read as 0, an
        # invoice without Balance was paid (its reminders ended without a word), a payment without
        # TotalAmt brought no money (no payment date for the customer's habits), a credit memo
        # without RemainingCredit had no credit left to count.
        (mapping.invoice, _variant("invoice.json", "Invoice", Balance=None), "Invoice 239: Balance is missing"),
        (mapping.invoice, _variant("invoice.json", "Invoice", TotalAmt=None), "Invoice 239: TotalAmt is missing"),
        (mapping.payment, _variant("payment.json", "Payment", TotalAmt=None), "Payment 163: TotalAmt is missing"),
        (mapping.credit_memo, _without(_CREDIT_MEMO, "TotalAmt"), "CreditMemo 73: TotalAmt is missing"),
        (
            mapping.credit_memo,
            _without(_CREDIT_MEMO, "RemainingCredit", "Balance"),
            "CreditMemo 73: RemainingCredit is missing",
        ),
    ],
)
def test_an_amount_that_decides_something_is_refused_when_absent_not_read_as_zero(
    read: Any, raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(mapping.MalformedRecord, match=message):
        read(raw, "USD")


def test_a_payment_without_unapplied_amount_has_none_unapplied() -> None:
    assert mapping.payment(_variant("payment.json", "Payment", UnappliedAmt=None), "USD").unapplied is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # A partly paid invoice in another currency: amounts in the invoice's currency, never converted.
        (
            {
                "CurrencyRef": {"value": "EUR", "name": "Euro"},
                "ExchangeRate": Decimal("1.0823"),
                "Balance": Decimal("50.00"),
            },
            {
                "total": Money(Decimal("150.0"), "EUR"),
                "balance": Money(Decimal("50.00"), "EUR"),
                "status": InvoiceStatus.OPEN,
            },
        ),
        # Integer amounts, as JSON may write a whole amount.
        ({"TotalAmt": 150, "Balance": 0}, {"total": Money(Decimal(150), "USD"), "status": InvoiceStatus.PAID}),
        # No DueDate (QuickBooks computes it from SalesTermRef when it is omitted on create).
        ({"DueDate": None, "SalesTermRef": {"value": "3", "name": "Net 30"}}, {"due_date": None}),
        # Several addresses in BillEmail; Cc and Bcc are QuickBooks' copies, not the customer's To.
        (
            {
                "BillEmail": {"Address": "ap@acme.com, cfo@acme.com"},
                "BillEmailCc": {"Address": "sales@us.com"},
                "BillEmailBcc": {"Address": "books@us.com"},
                "EmailStatus": "EmailSent",
            },
            {"email": "ap@acme.com, cfo@acme.com"},
        ),
        # Payments and credit linked to it change nothing but its Balance.
        (
            {"LinkedTxn": [{"TxnId": "100", "TxnType": "Payment"}, {"TxnId": "101", "TxnType": "CreditMemo"}]},
            {"balance": Money(Decimal("150.0"), "USD"), "status": InvoiceStatus.OPEN},
        ),
        ({"DocNumber": None}, {"number": "239"}),
        ({"CustomerRef": {"value": "1", "name": "Amy's Bird Sanctuary"}}, {"customer_id": "1"}),
    ],
)
def test_schema_valid_variants_of_intuits_invoice(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    invoice = mapping.invoice(_variant("invoice.json", "Invoice", **fields), "USD")
    assert {name: getattr(invoice, name) for name in expected} == expected


def test_a_payment_applying_an_invoice_and_a_credit_memo_pays_only_the_invoice() -> None:
    # Intuit's documented shape: the invoice line carries what the invoice was settled by, the credit
    # memo line the credit used; TotalAmt is the money received.
    lines = [
        {"Amount": Decimal("100.00"), "LinkedTxn": [{"TxnId": "70", "TxnType": "Invoice"}]},
        {"Amount": Decimal("20.00"), "LinkedTxn": [{"TxnId": "9", "TxnType": "CreditMemo"}]},
    ]
    raw = _variant("payment.json", "Payment", Line=lines, TotalAmt=Decimal("80.00"), UnappliedAmt=Decimal("0"))
    paid = mapping.payment(raw, "USD")
    assert paid.amount == Money(Decimal("80.00"), "USD") and paid.unapplied is None
    assert paid.applied_to == (PaymentApplication("70", Money(Decimal("100.00"), "USD")),)


_TIME = {"MetaData": {"CreateTime": "2014-09-11T14:41:49-07:00", "LastUpdatedTime": "2014-09-11T14:41:49-07:00"}}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Intuit's Term samples: STANDARD (DueDays, with a discount) and DATE_DRIVEN.
        (
            {"Id": "3", "Name": "Net 30", "Type": "STANDARD", "DueDays": 30, "DiscountPercent": 0, "DiscountDays": 0},
            PaymentTerms("3", "Net 30", TermsKind.NET_DAYS, days=30),
        ),
        (
            {"Id": "4", "Name": "2% 10 Net 30", "Type": "STANDARD", "DueDays": 30, "DiscountPercent": Decimal("2")},
            PaymentTerms("4", "2% 10 Net 30", TermsKind.NET_DAYS, days=30),
        ),
        (
            {"Id": "8", "Name": "15th", "Type": "DATE_DRIVEN", "DayOfMonthDue": 15, "DueNextMonthDays": 5},
            PaymentTerms("8", "15th", TermsKind.DAY_OF_MONTH, day_of_month=15, next_month_if_within_days=5),
        ),
        (
            {"Id": "9", "Name": "EOM", "Type": "DATE_DRIVEN", "DayOfMonthDue": 31},
            PaymentTerms("9", "EOM", TermsKind.DAY_OF_MONTH, day_of_month=31, next_month_if_within_days=0),
        ),
    ],
)
def test_intuits_terms(raw: dict[str, Any], expected: PaymentTerms) -> None:
    assert mapping.terms({**raw, **_TIME, "Active": True}) == expected


@pytest.mark.parametrize(
    ("fields", "remaining"),
    [
        ({}, Decimal("0")),  # used up: RemainingCredit wins over the older Balance
        ({"RemainingCredit": None}, Decimal("90.00")),  # an older minor version: Balance only
        ({"RemainingCredit": Decimal("40.00"), "Balance": None}, Decimal("40.00")),
    ],
)
def test_the_credit_left_on_a_credit_memo(fields: dict[str, Any], remaining: Decimal) -> None:
    raw = {key: value for key, value in {**_CREDIT_MEMO, **fields}.items() if value is not None}
    credit = mapping.credit_memo(raw, "USD")
    assert (credit.total, credit.remaining) == (Money(Decimal("90.00"), "USD"), Money(remaining, "USD"))


def test_intuits_company_info_sample() -> None:
    raw = {
        "CompanyName": "Larry's Bakery",
        "LegalName": "Larry's Bakery",
        "CompanyAddr": {
            "Id": "1",
            "Line1": "123 Sierra Way",
            "City": "San Pablo",
            "CountrySubDivisionCode": "CA",
            "PostalCode": "87999",
            "Country": "US",
        },
        "LegalAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "CountrySubDivisionCode": "CA"},
        "Country": "US",
        "Email": {"Address": "donotreply@intuit.com"},
        "SupportedLanguages": "en",
        "Id": "1",
        "SyncToken": "4",
    }
    assert mapping.company_name(raw) == "Larry's Bakery"
    assert mapping.company_timezone(raw) == "America/Los_Angeles"
    assert mapping.company_address(raw) == PostalAddress(("123 Sierra Way",), "San Pablo", "CA", "87999", "US")


@pytest.mark.parametrize(
    ("phones", "phone"),
    [
        ({}, "(415) 444-6538"),  # Intuit's sample: PrimaryPhone
        ({"PrimaryPhone": None, "Mobile": {"FreeFormNumber": "(415) 555-0101"}}, "(415) 555-0101"),
        ({"PrimaryPhone": {"FreeFormNumber": ""}, "AlternatePhone": {"FreeFormNumber": "555-0102"}}, "555-0102"),
        # A fax line is never the number to call a customer on.
        ({"PrimaryPhone": None, "Fax": {"FreeFormNumber": "(415) 555-0199"}}, None),
    ],
)
def test_the_number_to_call_is_primary_else_mobile_else_alternate_never_the_fax(
    phones: dict[str, Any], phone: str | None
) -> None:
    assert mapping.customer(_variant("customer.json", "Customer", **phones), "USD").phone == phone


@pytest.mark.parametrize(
    ("addresses", "zone"),
    [
        # QuickBooks US companies often keep the state and no country in an address (Intuit's customer
        # sample does): the company's own Country says which country's state it is.
        (
            {"CompanyAddr": {"Line1": "2150 Pearl St", "City": "Boulder", "CountrySubDivisionCode": "CO"}},
            "America/Denver",
        ),
        ({"LegalAddr": {"City": "San Pablo", "CountrySubDivisionCode": "CA"}}, "America/Los_Angeles"),
        # The address's own country wins over the company's.
        ({"CompanyAddr": {"Country": "CA", "CountrySubDivisionCode": "BC"}}, "America/Vancouver"),
        # An address with neither: the company's country alone, by its documented default.
        ({"CompanyAddr": {"Line1": "1 Main St"}}, "America/New_York"),
    ],
)
def test_company_zone_reads_the_state_of_an_address_without_a_country(addresses: dict[str, Any], zone: str) -> None:
    assert mapping.company_timezone({"CompanyName": "Larry's Bakery", "Country": "US", **addresses}) == zone


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Active": False}, {"active": False}),
        ({"CurrencyRef": {"value": "CAD", "name": "Canadian Dollar"}}, {"currency": "CAD"}),
        (
            {"PrimaryEmailAddr": {"Address": "ap@shop.com, Owner@Shop.com;ap@shop.com"}},
            {
                "email": "ap@shop.com, Owner@Shop.com",
                "contacts": (
                    Contact("ap@shop.com", "Bill's Windsurf Shop", "billing"),
                    Contact("Owner@Shop.com", "Bill's Windsurf Shop", "billing"),
                ),
            },
        ),
        ({"PrimaryEmailAddr": None}, {"email": None, "contacts": ()}),
        ({"SalesTermRef": {"value": "3", "name": "Net 30"}}, {"terms_id": "3"}),
        # BillWithParent without a ParentRef: not a job, billed on its own.
        ({"BillWithParent": True, "Job": False}, {"parent_id": None, "bill_with_parent": False}),
    ],
)
def test_schema_valid_variants_of_intuits_customer(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    customer = mapping.customer(_variant("customer.json", "Customer", **fields), "USD")
    assert {name: getattr(customer, name) for name in expected} == expected
