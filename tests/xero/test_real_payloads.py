"""The examples of Xero's published OpenAPI spec (tests/fixtures/real/xero, each naming where in
the spec it comes from), read through the real mapping and checked field by field."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.contract import (
    Contact,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentApplication,
    PostalAddress,
    SyncRequest,
)
from connectors.xero.connector import XeroConnector
from connectors.xero.mapping import (
    MappingError,
    credit_from_xero,
    customer_from_xero,
    in_group,
    invoice_from_xero,
    is_receivable_credit,
    is_receivable_payment,
    is_sales_invoice,
    parse_ms_instant,
    payment_from_xero,
    payment_terms_from_xero,
    postal_address_of,
)
from connectors.xero.timezones import iana_zone
from tests.xero.canned import CannedXero
from tests.xero.conftest import check_exchanges
from tests.xero_conformance import response_examples

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


def _usable(raw: Any) -> bool:
    return raw["Status"] in ("AUTHORISED", "PAID")


def _check_invoice(raw: Any) -> None:
    invoice = invoice_from_xero(raw)
    assert invoice.total == Money(raw["Total"], raw["CurrencyCode"])
    owed = raw["AmountDue"] if raw["Status"] in ("AUTHORISED", "PAID") else Decimal(0)
    assert invoice.balance == Money(owed, raw["CurrencyCode"])
    assert invoice.issue_date == parse_ms_instant(raw["Date"]).date()


def _check_payment(raw: Any) -> None:
    payment = payment_from_xero(raw)
    # Amount is in the invoice's currency, whatever the bank account's (BankAmount, CurrencyRate).
    amount = Money(raw["Amount"], raw["Invoice"]["CurrencyCode"])
    assert payment.amount == amount
    assert payment.applied_to == (PaymentApplication(raw["Invoice"]["InvoiceID"], amount),)
    assert payment.deleted == (raw["Status"] == "DELETED")


def _check_credit(entity: str) -> Callable[[Any], None]:
    def check(raw: Any) -> None:
        credit = credit_from_xero(raw, entity)
        left = raw["RemainingCredit"] if _usable(raw) else Decimal(0)
        assert (credit.total, credit.remaining) == (
            Money(raw["Total"], raw["CurrencyCode"]),
            Money(left, raw["CurrencyCode"]),
        )
        kept = [a for a in raw.get("Allocations") or () if not a.get("IsDeleted")]
        assert [a.amount.amount for a in credit.allocations] == [a["Amount"] for a in kept]

    return check


def _check_contact(raw: Any) -> None:
    customer = customer_from_xero(raw, "NZD")
    assert customer.provider_id == raw["ContactID"] and customer.name == raw["Name"]
    terms = payment_terms_from_xero(raw)
    assert customer.terms_id == (terms.provider_id if terms else None)
    assert in_group(raw, "no such group") is False


# Per collection: which records arpilot keeps (the rest are suppliers' or refunds) and what it checks.
_FAMILIES: dict[str, tuple[Callable[[Any], bool], Callable[[Any], None]]] = {
    "Invoices": (is_sales_invoice, _check_invoice),
    "Payments": (is_receivable_payment, _check_payment),
    "CreditNotes": (is_receivable_credit("credit_note"), _check_credit("credit_note")),
    "Overpayments": (is_receivable_credit("overpayment"), _check_credit("overpayment")),
    "Prepayments": (is_receivable_credit("prepayment"), _check_credit("prepayment")),
    # Contacts as the contact endpoints answer: PUT .../ContactGroups/{id}/Contacts echoes bare ids.
    "Contacts": (lambda raw: "Name" in raw, _check_contact),
}


@pytest.mark.parametrize("envelope", list(_FAMILIES))
def test_every_example_of_the_spec_maps_or_is_knowingly_left_out(envelope: str) -> None:
    keep, check = _FAMILIES[envelope]
    examples = response_examples(envelope)
    kept = [(where, raw) for where, raw in examples if keep(raw)]
    assert kept, f"the spec has no example arpilot reads under {envelope}"
    for where, raw in kept:
        try:
            check(raw)
        except (MappingError, AssertionError) as exc:
            raise AssertionError(f"{envelope} {where}: {exc}") from exc


def test_every_left_out_example_is_a_suppliers_record_or_a_refund() -> None:
    left_out = {
        (raw.get("Type"), raw.get("PaymentType"))
        for envelope, (keep, _) in _FAMILIES.items()
        if envelope != "Contacts"
        for _, raw in response_examples(envelope)
        if not keep(raw)
    }
    assert left_out == {
        ("ACCPAYCREDIT", None),
        ("SPEND-OVERPAYMENT", None),
        (None, "ARCREDITPAYMENT"),
        (None, "APCREDITPAYMENT"),
    }


def test_the_specs_organisation_gives_currency_zone_and_no_address() -> None:
    ((_, organisation),) = response_examples("Organisations")
    assert organisation["BaseCurrency"] == "NZD"
    assert iana_zone(organisation["Timezone"]) == "Pacific/Auckland"
    assert postal_address_of(organisation["Addresses"]) is None  # an empty list, as the example has it


_INVOICE = _body("invoices.json")["Invoices"][2]


@pytest.mark.parametrize(
    ("field", "written", "read"),
    [
        # Xero's own form, with and without the writer's offset (which never moves the instant).
        ("Date", "/Date(1541116800000+0000)/", dt.date(2018, 11, 2)),
        ("Date", "/Date(1541116800000)/", dt.date(2018, 11, 2)),
        ("UpdatedDateUTC", "/Date(1573755038314+1300)/", _ms(1573755038314)),
    ],
)
def test_invoice_dates_in_xeros_form_with_or_without_the_writers_offset(field: str, written: str, read: object) -> None:
    invoice = invoice_from_xero({**_INVOICE, field: written})
    got = {"Date": invoice.issue_date, "DueDate": invoice.due_date, "UpdatedDateUTC": invoice.updated_at}[field]
    assert got == read


@pytest.mark.parametrize("written", ["2018-11-02", "2018-11-02T00:00:00", "/Date(abc)/", "yesterday"])
def test_a_date_not_in_xeros_form_is_a_clear_error(written: str) -> None:
    # ISO appears only in the spec's request examples; its responses, and xero-python, use /Date(...)/.
    with pytest.raises(MappingError, match="Date is not a Xero"):
        invoice_from_xero({**_INVOICE, "Date": written})


_SPEC_CONTACT = _body("contact.json")["Contacts"][0]


def _dialled(kind: str, number: str | None) -> dict[str, str | None]:
    return {"PhoneType": kind, "PhoneNumber": number, "PhoneAreaCode": None, "PhoneCountryCode": None}


@pytest.mark.parametrize(
    ("phones", "phone"),
    [
        ([], None),
        # Xero sends all four kinds, blanks included, in no fixed order (the spec's contact: DDI first).
        (
            [_dialled("DDI", "111"), _dialled("DEFAULT", "222"), _dialled("FAX", "333"), _dialled("MOBILE", "444")],
            "222",
        ),
        ([_dialled("DDI", "111"), _dialled("DEFAULT", ""), _dialled("FAX", "333"), _dialled("MOBILE", "444")], "444"),
        ([_dialled("FAX", "333"), _dialled("DEFAULT", None), _dialled("DDI", "111"), _dialled("MOBILE", None)], "111"),
        # A fax line is never the number to call a customer on.
        ([_dialled("FAX", "333"), _dialled("DEFAULT", None), _dialled("DDI", ""), _dialled("MOBILE", "")], None),
    ],
)
def test_the_number_to_call_is_default_else_mobile_else_any_but_the_fax(
    phones: list[dict[str, str | None]], phone: str | None
) -> None:
    assert customer_from_xero({**_SPEC_CONTACT, "Phones": phones}, "NZD").phone == phone


@pytest.fixture
def server() -> Iterator[CannedXero]:
    with CannedXero() as canned:
        yield canned
        check_exchanges(canned, answers_checked=False)


# entity arpilot syncs -> the collection Xero answers with, and the canned server's list of it.
_SYNCED = {
    "invoice": "Invoices",
    "customer": "Contacts",
    "payment": "Payments",
    "credit_note": "CreditNotes",
    "overpayment": "Overpayments",
    "prepayment": "Prepayments",
}


@pytest.mark.parametrize("entity", list(_SYNCED))
def test_the_specs_list_examples_sync_through_xero_python_unchanged(
    entity: str, server: CannedXero, connector: XeroConnector
) -> None:
    """The spec's GET list example of each collection, answered by a loopback Xero (the requests
    checked against the spec, the answers read by xero-python's own models), synced by the real connector:
    nothing rejected, and the same records the mapping makes of the example on its own."""
    envelope = _SYNCED[entity]
    records = [raw for where, raw in response_examples(envelope) if where.startswith(f"GET /{envelope} #")]
    if entity == "invoice":
        server.invoices = records
    elif entity == "customer":
        server.contacts = {raw["ContactID"]: raw for raw in records}
    elif entity == "payment":
        server.payments = records
    else:
        server.credits[envelope] = records
    pages = list(connector.changes(SyncRequest(entity, None)))
    assert [page.rejected for page in pages] == [()] * len(pages)
    synced = [record for page in pages for record in page.records]
    expected = [
        record
        for raw in sorted(records, key=lambda raw: parse_ms_instant(raw["UpdatedDateUTC"]))
        if _FAMILIES[envelope][0](raw)
        for record in connector._map(entity, raw)
    ]
    assert synced == expected and expected
    if entity == "payment":
        # xero-python's models cannot read this example (its BatchPayment says IsReconciled "false"):
        # the connector reads Xero's JSON raw, so one odd field arpilot never reads costs nothing.
        with pytest.raises(ValueError, match="bool value expected"):
            check_exchanges(server, answers_checked=False)
        server.recorded.clear()
