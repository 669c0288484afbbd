"""Accounting reads through the real xero-python: invoices with every filter, paging, If-Modified-Since,
summaryOnly; contacts; payments; MS-JSON dates deserializing into the SDK's models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import requests
from xero_python.exceptions import HTTPStatusException, NotFoundException

from tests.xero_sandbox.conftest import RunningXero


@pytest.fixture
def token(xero: RunningXero) -> dict[str, object]:
    return xero.minted(tenants=["demo"])


def _ids(xero: RunningXero, kind: str) -> dict[str, str]:
    return xero.admin("GET", "/organisations/demo/ids").json()[kind]


def test_invoices_render_as_xero_does_and_deserialize(xero: RunningXero, token: dict[str, object]) -> None:
    api = xero.accounting(token)
    answer = api.get_invoices(xero.tenant(), page=1)
    assert answer.pagination.item_count == 5 and answer.pagination.page_count == 1
    by_number = {i.invoice_number: i for i in answer.invoices}
    paid, part_paid, open_one = by_number["1001"], by_number["1003"], by_number["1004"]
    assert paid.status == "PAID" and paid.amount_due == 0 and paid.fully_paid_on_date is not None
    assert part_paid.status == "AUTHORISED" and part_paid.amount_due == Decimal("200.00")
    assert part_paid.amount_paid == Decimal("100.00") and len(part_paid.payments) == 1
    assert open_one.type == "ACCREC" and open_one.date == dt.date(2026, 11, 13)
    assert open_one.due_date == dt.date(2026, 12, 13) and open_one.line_items[0].line_amount == Decimal("99.99")
    assert isinstance(open_one.updated_date_utc, dt.datetime) and open_one.currency_code.value == "USD"
    assert str(open_one.invoice_id) == _ids(xero, "invoices")["inv-1004"]

    one = api.get_invoice(xero.tenant(), open_one.invoice_id).invoices[0]
    assert one.line_items and one.contact.name == "Cobalt Dental"
    legacy = api.get_invoices(xero.tenant()).invoices  # without page: no line items
    assert len(legacy) == 5 and all(i.line_items == [] for i in legacy)


def test_invoice_filters(xero: RunningXero, token: dict[str, object]) -> None:
    api = xero.accounting(token)
    tenant = xero.tenant()
    acme = _ids(xero, "contacts")["cust-01"]
    numbers = lambda answer: sorted(i.invoice_number for i in answer.invoices)  # noqa: E731
    assert numbers(api.get_invoices(tenant, statuses=["AUTHORISED"])) == ["1002", "1003", "1004", "1005"]
    assert numbers(api.get_invoices(tenant, contact_i_ds=[acme])) == ["1001", "1002"]
    assert numbers(api.get_invoices(tenant, i_ds=[_ids(xero, "invoices")["inv-1005"]])) == ["1005"]
    where = f'Type=="ACCREC" AND Status=="AUTHORISED" && AmountDue>0 AND DueDate<DateTime(2026,12,10)'
    assert numbers(api.get_invoices(tenant, where=where)) == ["1002", "1003", "1005"]
    assert numbers(api.get_invoices(tenant, where=f'Contact.ContactID==Guid("{acme}")')) == ["1001", "1002"]
    ordered = api.get_invoices(tenant, order="InvoiceNumber DESC", page=1, page_size=2)
    assert [i.invoice_number for i in ordered.invoices] == ["1005", "1004"] and ordered.pagination.page_count == 3
    last = api.get_invoices(tenant, order="InvoiceNumber DESC", page=3, page_size=2)
    assert [i.invoice_number for i in last.invoices] == ["1001"]
    summary = api.get_invoices(tenant, summary_only=True)
    assert summary.pagination.page == 1 and summary.invoices[0].line_items is None


@pytest.mark.parametrize(
    "where",
    [
        'Status=="PAID" OR Status=="AUTHORISED"',
        'Reference.Contains("x")',
        'Nonsense=="1"',
        "AmountDue>",
        'AmountDue>"text"',
    ],
)
def test_unsupported_where_is_a_400(xero: RunningXero, token: dict[str, object], where: str) -> None:
    answer = requests.get(
        f"{xero.sandbox.accounting_base(xero.base_url)}/Invoices",
        params={"where": where},
        timeout=10,
        headers={
            "Authorization": f"Bearer {token['access_token']}",
            "xero-tenant-id": xero.tenant(),
            "Accept": "application/json",
        },
    )
    assert answer.status_code == 400 and answer.json()["Type"] == "QueryParseException", answer.text


def test_if_modified_since_returns_what_changed(xero: RunningXero, token: dict[str, object]) -> None:
    api = xero.accounting(token)
    since = xero.sandbox.clock.now() - dt.timedelta(seconds=1)
    assert api.get_invoices(xero.tenant(), if_modified_since=since).invoices == []
    xero.admin("POST", "/organisations/demo/payments", json={"invoice": "inv-1002", "amount": "50.00"})
    changed = api.get_invoices(xero.tenant(), if_modified_since=since).invoices
    assert [i.invoice_number for i in changed] == ["1002"] and changed[0].amount_due == Decimal("400.50")
    payments = api.get_payments(xero.tenant(), if_modified_since=since).payments
    assert (
        len(payments) == 1 and payments[0].amount == Decimal("50.00") and payments[0].invoice.invoice_number == "1002"
    )


def test_contacts(xero: RunningXero, token: dict[str, object]) -> None:
    # Overdue is counted against the sandbox's today: the scenario's day, not the day the suite runs.
    xero.admin("POST", "/clock", json={"set": "2026-11-23T17:00:00+00:00", "frozen": True})
    api = xero.accounting(token)
    contacts = api.get_contacts(xero.tenant(), page=1).contacts
    acme = next(c for c in contacts if c.name == "Acme Plumbing")
    assert acme.is_customer and acme.email_address == "ap@acme.example"
    assert acme.payment_terms.sales.day == 30 and acme.payment_terms.sales.type.value == "DAYSAFTERBILLDATE"
    assert acme.phones[0].phone_number == "+1-555-0101"
    assert acme.balances.accounts_receivable.outstanding == Decimal("450.50")
    one = api.get_contact(xero.tenant(), _ids(xero, "contacts")["cust-02"]).contacts[0]
    assert one.balances.accounts_receivable.outstanding == Decimal("275.25")
    assert one.balances.accounts_receivable.overdue == Decimal("200.00")
    filtered = api.get_contacts(xero.tenant(), where='Name=="Cobalt Dental"').contacts
    assert [c.email_address for c in filtered] == [None]


def test_payments_listing_and_paging(xero: RunningXero, token: dict[str, object]) -> None:
    api = xero.accounting(token)
    answer = api.get_payments(xero.tenant(), page=1, page_size=1)
    assert answer.pagination.item_count == 2 and len(answer.payments) == 1
    assert answer.payments[0].payment_type == "ACCRECPAYMENT" and answer.payments[0].date is not None


def test_errors_in_xero_shapes(xero: RunningXero, token: dict[str, object]) -> None:
    api = xero.accounting(token)
    with pytest.raises(NotFoundException):
        api.get_invoice(xero.tenant(), "00000000-0000-0000-0000-000000000000")
    with pytest.raises(HTTPStatusException) as caught:
        xero.accounting({**token, "access_token": "not-a-token"}).get_invoices(xero.tenant())
    assert caught.value.status == 401
    with pytest.raises(HTTPStatusException) as caught:
        api.get_invoices(xero.tenant("second"))  # minted for demo only
    assert caught.value.status == 403
    read_only = xero.minted(tenants=["demo"], scopes=["accounting.contacts.read"])
    with pytest.raises(HTTPStatusException) as caught:
        xero.accounting(read_only).get_invoices(xero.tenant())
    assert caught.value.status == 403
    assert xero.accounting(read_only).get_contacts(xero.tenant()).contacts
    raw = requests.get(
        f"{xero.sandbox.accounting_base(xero.base_url)}/Invoices",
        params={"page": "0"},
        timeout=10,
        headers={"Authorization": f"Bearer {token['access_token']}", "xero-tenant-id": xero.tenant()},
    )
    assert raw.status_code == 400 and raw.json()["Type"] == "ValidationException"
    assert raw.json()["Elements"][0]["ValidationErrors"][0]["Message"].startswith("page must be")


def test_envelope_and_remaining_headers(xero: RunningXero, token: dict[str, object]) -> None:
    raw = requests.get(
        f"{xero.sandbox.accounting_base(xero.base_url)}/Contacts",
        timeout=10,
        headers={"Authorization": f"Bearer {token['access_token']}", "xero-tenant-id": xero.tenant()},
    )
    body = raw.json()
    assert body["Status"] == "OK" and body["ProviderName"] == "arpilot" and body["DateTimeUTC"].startswith("/Date(")
    assert raw.headers["X-MinLimit-Remaining"] == "59" and raw.headers["X-DayLimit-Remaining"] == "4999"
    assert raw.headers["X-AppMinLimit-Remaining"] == "9999"


def test_postal_addresses_deserialize_through_xero_python(xero: RunningXero) -> None:
    """The demo's addresses as Xero serves them: a contact's and the organisation's POBOX address."""
    loaded = xero.admin("POST", "/organisations?short_code=demo", json={"demo": {"seed": 7, "as_of": "2026-11-23"}})
    assert loaded.status_code == 201, loaded.text
    api = xero.accounting(xero.minted())
    (organisation,) = api.get_organisations(xero.tenant()).organisations
    (address,) = organisation.addresses
    assert address.address_type == "POBOX" and address.address_line1 == "2150 Pearl St"
    assert (address.city, address.region, address.postal_code, address.country) == ("Boulder", "CO", "80302", "US")
    contact = api.get_contact(xero.tenant(), _ids(xero, "contacts")["cust-05"]).contacts[0]
    (billing,) = contact.addresses
    assert (billing.address_type, billing.address_line1, billing.address_line2) == (
        "POBOX",
        "785 Canyon Blvd",
        "Suite 105",
    )
    assert (billing.city, billing.postal_code) == ("Golden", "80401")
