"""Xero Addresses to PostalAddress: the POBOX address (the postal one), else STREET; several,
empty and hostile addresses map without losing the contact."""

from __future__ import annotations

import pytest

from connectors.contract import PostalAddress
from connectors.xero.mapping import customer_from_xero, postal_address_of
from tests.xero.samples import contact_json

STREET = {
    "AddressType": "STREET",
    "AddressLine1": "101 Green St",
    "AddressLine2": "5th floor",
    "City": "San Francisco",
    "Region": "CA",
    "PostalCode": "94041",
    "Country": "US",
    "AttentionTo": "Rod Drury",
}
POBOX = {
    "AddressType": "POBOX",
    "AddressLine1": "PO Box 42",
    "AddressLine2": "",
    "AddressLine3": "",
    "AddressLine4": "",
    "City": "Oakland",
    "Region": "CA",
    "PostalCode": "94601",
    "Country": "US",
}


def _address(addresses: object) -> PostalAddress | None:
    return customer_from_xero(contact_json(Addresses=addresses), "USD").billing_address


def test_the_postal_address_wins_over_the_street_address() -> None:
    assert _address([STREET, POBOX]) == PostalAddress(("PO Box 42",), "Oakland", "CA", "94601", "US")
    assert _address([STREET]) == PostalAddress(
        ("101 Green St", "5th floor"), "San Francisco", "CA", "94041", "US", attention="Rod Drury"
    )


def test_blank_addresses_are_passed_over_and_none_at_all_is_none() -> None:
    blank = {"AddressType": "POBOX", "AddressLine1": "", "City": " ", "Region": "", "PostalCode": "", "Country": ""}
    assert _address([blank, STREET]) == _address([STREET])
    assert _address([blank, {**blank, "AddressType": "STREET"}]) is None
    assert _address([]) is None and _address(None) is None


def test_the_first_of_several_of_one_type_and_all_four_lines() -> None:
    second = {**POBOX, "AddressLine1": "PO Box 99"}
    four = {**POBOX, "AddressLine1": "a", "AddressLine2": "b", "AddressLine3": "c", "AddressLine4": "d"}
    assert _address([POBOX, second]) == _address([POBOX])
    assert _address([four]) == PostalAddress(("a", "b", "c", "d"), "Oakland", "CA", "94601", "US")


def test_other_address_types_are_not_postal_addresses() -> None:
    assert _address([{**POBOX, "AddressType": "DELIVERY"}, {**POBOX, "AddressType": None}]) is None


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            {"AddressType": "POBOX", "AddressLine1": "1\x00 Main\u00a0St", "City": "Bould\udcffer", "Region": "\x00"},
            PostalAddress(("1 Main St",), "Boulder"),
        ),
        (
            {
                "AddressType": "POBOX",
                "AddressLine1": 7,
                "AddressLine2": {"x": 1},
                "City": ["Boulder"],
                "Country": False,
            },
            PostalAddress(("7",)),
        ),
        ({"AddressType": "POBOX", "AddressLine1": "   ", "AttentionTo": "\t"}, None),
    ],
)
def test_hostile_text_is_cleaned_and_the_contact_is_kept(address: dict, expected: PostalAddress | None) -> None:
    customer = customer_from_xero(contact_json(Addresses=[address]), "USD")
    assert customer.name == "Acme Ltd" and customer.billing_address == expected


@pytest.mark.parametrize("addresses", ["PO Box 42", 5, {"AddressType": "POBOX"}, ["junk", 3, None]])
def test_addresses_that_are_not_a_list_of_objects_are_no_address(addresses: object) -> None:
    assert postal_address_of(addresses) is None
