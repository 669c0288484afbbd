"""Xero JSON -> normalized records: exact money and dates, typed errors for anything malformed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.contract import (
    ConnectorError,
    Contact,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentTerms,
    TermsKind,
)
from connectors.xero.mapping import (
    MappingError,
    customer_from_xero,
    in_group,
    invoice_from_xero,
    parse_ms_date,
    parse_ms_instant,
    payment_from_xero,
    payment_terms_from_xero,
)
from tests.xero.samples import CONTACT_ID, contact_json, dumps, invoice_json, loads, payment_json, uid


def test_ms_dates_are_exact_and_the_offset_never_moves_the_instant() -> None:
    assert parse_ms_date("/Date(1546128000000+0000)/") == dt.date(2018, 12, 30)
    assert parse_ms_instant("/Date(1451988985943+1300)/") == dt.datetime(2016, 1, 5, 10, 16, 25, 943000, tzinfo=dt.UTC)
    assert parse_ms_instant("/Date(1552326816230)/") == dt.datetime(2019, 3, 11, 17, 53, 36, 230000, tzinfo=dt.UTC)
    assert parse_ms_instant("/Date(-86400000)/") == dt.datetime(1969, 12, 31, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["2019-01-01", "/Date(abc)/", "/Date(1)", "Date(1)/", "/Date(99999999999999999)/", ""])
def test_malformed_ms_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ms_instant(text)


def test_invoice_maps_with_exact_money_from_raw_json() -> None:
    raw = loads(dumps(invoice_json(1)))
    invoice = invoice_from_xero(raw)
    assert invoice == Invoice(
        provider_id=uid("invoice", 1),
        number="INV-0001",
        customer_id=CONTACT_ID,
        issue_date=dt.date(2026, 2, 1),
        due_date=dt.date(2026, 3, 3),
        total=Money(Decimal("100.10"), "USD"),
        balance=Money(Decimal("60.10"), "USD"),
        status=InvoiceStatus.OPEN,
        updated_at=dt.datetime(2026, 3, 2, 9, 31, 0, 123000, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    ("xero", "normalized"),
    [
        ("AUTHORISED", InvoiceStatus.OPEN),
        ("SUBMITTED", InvoiceStatus.DRAFT),
        ("PAID", InvoiceStatus.PAID),
        ("VOIDED", InvoiceStatus.VOIDED),
        ("DELETED", InvoiceStatus.DELETED),
        ("DRAFT", InvoiceStatus.DRAFT),
    ],
)
def test_invoice_statuses(xero: str, normalized: InvoiceStatus) -> None:
    assert invoice_from_xero(invoice_json(Status=xero)).status is normalized


@pytest.mark.parametrize("status", ["SUBMITTED", "DRAFT", "VOIDED", "DELETED"])
def test_nothing_is_owed_on_an_invoice_xero_does_not_count_as_receivable(status: str) -> None:
    # Xero's Balances.AccountsReceivable counts AUTHORISED invoices only: awaiting approval is not owed.
    assert invoice_from_xero(invoice_json(Status=status)).balance == Money.zero("USD")
    assert invoice_from_xero(invoice_json(Status="AUTHORISED")).balance == Money(Decimal("60.10"), "USD")


def test_draft_without_due_date_maps() -> None:
    raw = invoice_json(Status="DRAFT")
    del raw["DueDate"]
    assert invoice_from_xero(raw).due_date is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Type": "ACCPAY"}, "Type must be ACCREC"),
        ({"Status": "ARCHIVED"}, "Status is not a Xero invoice status"),
        ({"DueDate": "2026-03-03"}, "DueDate is not a Xero /Date(...)/ value"),
        ({"Total": 100.1}, "Total has the wrong type float"),
        ({"Total": "100.10"}, "Total has the wrong type str"),
        ({"AmountDue": True}, "AmountDue must not be a boolean"),
        ({"CurrencyCode": "XXX"}, "CurrencyCode is a currency arpilot does not handle"),
        ({"Contact": {"Name": "no id"}}, "ContactID is missing"),
        ({"UpdatedDateUTC": None}, "UpdatedDateUTC is missing"),
        ({"Total": Decimal("NaN")}, "Total is not a finite amount"),
    ],
)
def test_malformed_invoice_raises_mapping_error_naming_record_and_field(change: dict, message: str) -> None:
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        invoice_from_xero(invoice_json(**change))
    assert caught.value.record_id == uid("invoice", 1)
    assert isinstance(caught.value, ConnectorError)


def test_customer_from_contact() -> None:
    customer = customer_from_xero(contact_json(), "NZD")
    assert customer == Customer(
        provider_id=CONTACT_ID,
        name="Acme Ltd",
        email="ada@acme.example",
        phone="+1 212 555 0199",
        currency="USD",
        terms_id="DAYSAFTERBILLDATE:30",
        active=True,
        updated_at=dt.datetime(2026, 3, 2, 9, 30, 0, 123000, tzinfo=dt.UTC),
        contacts=(Contact("ada@acme.example", "Ada Lovelace"), Contact("ap@acme.example", "Bob Books")),
    )


def test_customer_defaults_and_statuses() -> None:
    bare = {"ContactID": "c1", "Name": "Bare", "UpdatedDateUTC": "/Date(0+0000)/", "ContactStatus": "ARCHIVED"}
    customer = customer_from_xero(bare, "NZD")
    assert (
        customer.currency,
        customer.email,
        customer.phone,
        customer.terms_id,
        customer.active,
        customer.contacts,
    ) == ("NZD", None, None, None, False, ())
    assert customer_from_xero(dict(bare, ContactStatus="GDPRREQUEST"), "NZD").deleted


@pytest.mark.parametrize(
    ("sales", "expected"),
    [
        (
            {"Day": 30, "Type": "DAYSAFTERBILLDATE"},
            PaymentTerms("DAYSAFTERBILLDATE:30", "Net 30", TermsKind.NET_DAYS, days=30),
        ),
        (
            {"Day": 15, "Type": "OFFOLLOWINGMONTH"},
            PaymentTerms(
                "OFFOLLOWINGMONTH:15",
                "Day 15 of the following month",
                TermsKind.DAY_OF_MONTH,
                day_of_month=15,
                next_month_if_within_days=31,
            ),
        ),
        (
            {"Day": 20, "Type": "OFCURRENTMONTH"},
            PaymentTerms(
                "OFCURRENTMONTH:20",
                "Day 20 of the invoice month",
                TermsKind.DAY_OF_MONTH,
                day_of_month=20,
                next_month_if_within_days=0,
            ),
        ),
    ],
)
def test_payment_terms_from_contact(sales: dict, expected: PaymentTerms) -> None:
    assert payment_terms_from_xero(contact_json(PaymentTerms={"Sales": sales})) == expected


@pytest.mark.parametrize(
    "sales",
    [
        {"Day": 32, "Type": "OFFOLLOWINGMONTH"},
        {"Day": 1, "Type": "WEEKLY"},
        {"Day": "15", "Type": "OFFOLLOWINGMONTH"},
        {"Type": "OFFOLLOWINGMONTH"},
    ],
)
def test_malformed_terms_raise(sales: dict) -> None:
    with pytest.raises(MappingError):
        payment_terms_from_xero(contact_json(PaymentTerms={"Sales": sales}))


def test_bills_only_terms_mean_no_sales_terms() -> None:
    assert payment_terms_from_xero(contact_json(PaymentTerms={"Bills": {"Day": 1, "Type": "OFCURRENTMONTH"}})) is None


def test_credit_hold_membership_by_group_name() -> None:
    groups = [{"ContactGroupID": uid("group", 1), "Name": "credit HOLD", "Status": "ACTIVE"}]
    assert in_group(contact_json(ContactGroups=groups))
    assert not in_group(contact_json(ContactGroups=[dict(groups[0], Name="VIP")]))
    assert not in_group(contact_json())


def test_payment_links_invoice_and_customer() -> None:
    payment = payment_from_xero(loads(dumps(payment_json(3))))
    assert isinstance(payment, Payment)
    assert payment.customer_id == CONTACT_ID
    assert payment.applied_to[0].invoice_id == uid("invoice", 3)
    assert payment.amount == Money(Decimal("40.00"), "USD")
    assert payment.date == dt.date(2026, 2, 20)
    assert payment_from_xero(payment_json(Status="DELETED")).deleted


def test_bill_payments_are_refused() -> None:
    with pytest.raises(MappingError, match="ACCRECPAYMENT"):
        payment_from_xero(payment_json(PaymentType="ACCPAYPAYMENT"))


# --- properties: any JSON shaped like Xero's, valid or mangled, gives a record or MappingError ----------

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.text(max_size=12),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "/Date(1546128000000+0000)/",
            "/Date(-1)/",
            "/Date(99999999999999)/",
            "2026-01-01",
            "ACCREC",
            "AUTHORISED",
            "USD",
            "XXX",
            "DRAFT",
            "OFFOLLOWINGMONTH",
        ]
    ),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _mangled(base: dict) -> st.SearchStrategy:
    keys = sorted(base)
    return st.tuples(
        st.lists(st.sampled_from(keys), unique=True, max_size=4),  # fields to drop
        st.dictionaries(st.sampled_from(keys), json_value, max_size=4),  # fields to replace
    ).map(lambda change: {k: v for k, v in {**base, **change[1]}.items() if k not in change[0]})


valid_invoices = st.builds(
    lambda n, status, total, due, ms: invoice_json(
        n, Status=status, Total=total, AmountDue=due, UpdatedDateUTC=f"/Date({ms}+1300)/"
    ),
    st.integers(1, 10**6),
    st.sampled_from(["AUTHORISED", "SUBMITTED", "PAID", "VOIDED", "DELETED", "DRAFT"]),
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.integers(-(10**12), 10**13),
)


@settings(max_examples=150, deadline=None)
@given(valid_invoices)
def test_generated_valid_invoices_map(raw: dict) -> None:
    invoice = invoice_from_xero(loads(dumps(raw)))
    assert invoice.total.amount == raw["Total"]
    assert invoice.updated_at.tzinfo is dt.UTC


@settings(max_examples=300, deadline=None)
@given(st.one_of(_mangled(invoice_json()), json_value))
def test_mangled_invoices_map_or_raise_mapping_error(raw: object) -> None:
    try:
        assert isinstance(invoice_from_xero(raw), Invoice)
    except MappingError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.one_of(_mangled(contact_json()), json_value))
def test_mangled_contacts_map_or_raise_mapping_error(raw: object) -> None:
    try:
        assert isinstance(customer_from_xero(raw, "USD"), Customer)
        payment_terms_from_xero(raw)
        in_group(raw)
    except MappingError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.one_of(_mangled(payment_json()), json_value))
def test_mangled_payments_map_or_raise_mapping_error(raw: object) -> None:
    try:
        assert isinstance(payment_from_xero(raw), Payment)
    except MappingError:
        pass


_person = contact_json()["ContactPersons"][0]
_phone = contact_json()["Phones"][1]
mangled_nested_contacts = st.builds(
    lambda person, phone, sales, group: contact_json(
        ContactPersons=[person], Phones=[phone], PaymentTerms={"Sales": sales}, ContactGroups=[group]
    ),
    _mangled(_person),
    _mangled(_phone),
    _mangled({"Day": 15, "Type": "OFFOLLOWINGMONTH"}),
    _mangled({"ContactGroupID": uid("group", 1), "Name": "Credit hold", "Status": "ACTIVE"}),
)


@settings(max_examples=200, deadline=None)
@given(mangled_nested_contacts)
def test_contacts_with_mangled_nested_parts_map_or_raise_mapping_error(raw: dict) -> None:
    try:
        customer_from_xero(raw, "USD")
        in_group(raw)
    except MappingError:
        pass


@pytest.mark.parametrize("code", ["XYZ", "usd", 840])
def test_a_default_currency_arpilot_cannot_read_costs_only_that_field(code: object) -> None:
    # The contact (and so every invoice it owes, each in its own currency) stays; the default is the organisation's.
    customer = customer_from_xero(contact_json(DefaultCurrency=code), "NZD")
    assert customer.currency == "NZD" and customer.name == "Acme Ltd"
    assert customer_from_xero(contact_json(DefaultCurrency="KWD"), "NZD").currency == "KWD"


def test_every_address_xero_itself_emails_is_kept_one_by_one() -> None:
    raw = contact_json(
        EmailAddress="ada@acme.example; ops@acme.example",
        ContactPersons=[
            {"FirstName": "Bob", "EmailAddress": "ap@acme.example, ADA@acme.example", "IncludeInEmails": True},
            {"FirstName": "Carl", "EmailAddress": "carl@acme.example", "IncludeInEmails": False},
        ],
    )
    customer = customer_from_xero(raw, "USD")
    assert customer.email == "ada@acme.example, ops@acme.example"
    assert [c.email for c in customer.contacts] == [
        "ada@acme.example",
        "ops@acme.example",
        "ap@acme.example",
        "ADA@acme.example",
    ]


@pytest.mark.parametrize(
    ("addresses", "place"),
    [
        (
            [
                {"AddressType": "STREET", "Country": "USA", "Region": "CO"},
                {"AddressType": "POBOX", "Country": "New Zealand", "Region": ""},
            ],
            ("New Zealand", None),
        ),  # the postal address first
        (
            [
                {"AddressType": "POBOX", "Country": "", "Region": ""},
                {"AddressType": "STREET", "Country": "US", "Region": "NY"},
            ],
            ("US", "NY"),
        ),
        ([{"AddressType": "POBOX", "Country": "", "Region": ""}], (None, None)),
        ([], (None, None)),
    ],
)
def test_customer_place_is_the_postal_address_else_the_street(addresses: list, place: tuple) -> None:
    customer = customer_from_xero(contact_json(Addresses=addresses), "NZD")
    assert (customer.country, customer.region) == place
