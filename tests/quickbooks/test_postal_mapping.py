"""QuickBooks addresses to PostalAddress: a customer's BillAddr (ShipAddr only when it has none),
the company's CompanyAddr (else LegalAddr), and hostile text cleaned without losing the record."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.contract import PostalAddress
from connectors.quickbooks import mapping
from tests.quickbooks.helpers import customer_json

FULL = {
    "Id": "94",
    "Line1": "Attn: Accounts Payable",
    "Line2": "22 Elm St",
    "Line3": "Suite 4",
    "Line4": "Building B",
    "Line5": "Dock 3",
    "City": "Boulder",
    "CountrySubDivisionCode": "CO",
    "PostalCode": "80302",
    "Country": "USA",
    "Lat": "40.01",
    "Long": "-105.27",
}


def _address(**fields: Any) -> PostalAddress | None:
    return mapping.customer(customer_json(**fields), "USD").billing_address


def test_every_line_of_bill_addr_is_kept_in_order_and_lat_long_are_not() -> None:
    assert _address(BillAddr=FULL) == PostalAddress(
        ("Attn: Accounts Payable", "22 Elm St", "Suite 4", "Building B", "Dock 3"), "Boulder", "CO", "80302", "USA"
    )


def test_ship_addr_only_when_bill_addr_is_absent_or_blank() -> None:
    ship = {"Line1": "9 Dock Rd", "City": "Denver", "PostalCode": "80202"}
    bill = {"Line1": "1 Main St", "City": "Boulder"}
    assert _address(BillAddr=bill, ShipAddr=ship) == PostalAddress(("1 Main St",), "Boulder")
    assert _address(ShipAddr=ship) == PostalAddress(("9 Dock Rd",), "Denver", postal_code="80202")
    assert _address(BillAddr={"Id": "3", "Line1": "  ", "Lat": "INVALID"}, ShipAddr=ship) == PostalAddress(
        ("9 Dock Rd",), "Denver", postal_code="80202"
    )
    assert _address() is None


@pytest.mark.parametrize(
    ("bill", "expected"),
    [
        (  # blank and whitespace-only lines dropped, runs of whitespace (tabs, newlines) made one space
            {"Line1": "", "Line2": " \t ", "Line3": "12\tOcean\n Dr.", "City": " Half  Moon Bay "},
            PostalAddress(("12 Ocean Dr.",), "Half Moon Bay"),
        ),
        (  # NUL bytes and lone surrogates cannot be stored: dropped, the rest kept
            {"Line1": "12 Oc\x00ean Dr.", "City": "Half Moon\udcff Bay", "PostalCode": "\x00"},
            PostalAddress(("12 Ocean Dr.",), "Half Moon Bay"),
        ),
        (  # fields of the wrong type are no text; a postal code sent as a number is
            {"Line1": {"a": 1}, "Line2": ["x"], "Line3": True, "City": "Boulder", "PostalCode": 80302},
            PostalAddress((), "Boulder", postal_code="80302"),
        ),
        (  # other control characters stay as the books hold them (the letter drops them when it prints)
            {"Line1": "1 Main\x07 St", "Line2": "\u202eevil"},
            PostalAddress(("1 Main\x07 St", "\u202eevil")),
        ),
        ({"Line1": "x" * 5000}, PostalAddress(("x" * 500,))),
    ],
)
def test_hostile_text_is_cleaned_and_the_customer_is_kept(bill: dict, expected: PostalAddress) -> None:
    customer = mapping.customer(customer_json(BillAddr=bill), "USD")
    assert customer.provider_id == "58" and customer.billing_address == expected


@pytest.mark.parametrize("bill", [[FULL], "12 Ocean Dr.", 5, None])
def test_a_bill_addr_that_is_not_an_object_is_no_address(bill: object) -> None:
    assert _address(BillAddr=bill) is None


def test_the_company_address_is_company_addr_else_legal_addr() -> None:
    company = {"CompanyName": "Harbor & Pine", "LegalAddr": {"Line1": "5 Legal Way", "City": "Denver"}}
    assert mapping.company_address(company) == PostalAddress(("5 Legal Way",), "Denver")
    company["CompanyAddr"] = {"Line1": "1 Pine St", "City": "Boulder", "CountrySubDivisionCode": "CO"}
    assert mapping.company_address(company) == PostalAddress(("1 Pine St",), "Boulder", "CO")
    assert mapping.company_address({"CompanyName": "No Address Co", "Country": "US"}) is None


def test_an_address_is_postable_with_a_street_and_a_place() -> None:
    assert PostalAddress(("1 Main St",), "Boulder").postable
    assert PostalAddress(("Bill's Windsurf Shop", "12 Ocean Dr.", "Half Moon Bay, CA 94213")).postable  # free-form
    assert not PostalAddress((), "Palo Alto", "CA", "94020", "United States").postable  # no street
    assert not PostalAddress(("1 Main St",)).postable  # no place
