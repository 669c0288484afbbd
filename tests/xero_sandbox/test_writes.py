"""Writes through the real xero-python: History, Email (preconditions, daily cap), OnlineInvoice,
contact updates, contact groups, payments, and Idempotency-Key replays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import requests
from xero_python.accounting import (
    Account,
    Bill,
    Contact,
    ContactGroup,
    ContactGroups,
    Contacts,
    HistoryRecord,
    HistoryRecords,
    Invoice,
    Payment,
    Payments,
    PaymentTerm,
    PaymentTermType,
    RequestEmpty,
)
from xero_python.exceptions import HTTPStatusException, NotFoundException

from tests.xero_sandbox.conftest import RunningXero


@pytest.fixture
def token(xero: RunningXero) -> dict[str, object]:
    return xero.minted(tenants=["demo"])


def _id(xero: RunningXero, kind: str, key: str) -> str:
    return xero.admin("GET", "/organisations/demo/ids").json()[kind][key]


def _note(text: str) -> HistoryRecords:
    return HistoryRecords(history_records=[HistoryRecord(details=text)])


def test_history_notes_and_idempotent_replay(xero: RunningXero, token: dict[str, object]) -> None:
    api, tenant, invoice = xero.accounting(token), xero.tenant(), _id(xero, "invoices", "inv-1002")
    created = api.create_invoice_history(tenant, invoice, _note("Reminder 1 sent"), idempotency_key="act-1")
    assert created.history_records[0].details == "Reminder 1 sent" and created.history_records[0].date_utc
    again = api.create_invoice_history(tenant, invoice, _note("Reminder 1 sent"), idempotency_key="act-1")
    assert again.history_records[0].date_utc == created.history_records[0].date_utc
    listed = api.get_invoice_history(tenant, invoice).history_records
    assert [h.details for h in listed] == ["Reminder 1 sent"] and listed[0].user == "System Generated"
    assert (
        xero.admin("GET", "/organisations/demo/history").json()["invoices"][invoice][0]["Details"] == "Reminder 1 sent"
    )

    xero.advance(7 * 60)  # past the replay window the key is free again
    api.create_invoice_history(tenant, invoice, _note("Reminder 1 sent"), idempotency_key="act-1")
    assert len(api.get_invoice_history(tenant, invoice).history_records) == 2

    contact = _id(xero, "contacts", "cust-01")
    api.create_contact_history(tenant, contact, _note("Called about invoice 1002"))
    assert api.get_contact_history(tenant, contact).history_records[0].details == "Called about invoice 1002"
    with pytest.raises(HTTPStatusException) as caught:
        api.create_invoice_history(tenant, invoice, _note("x" * 2501))
    assert caught.value.status == 400 and "2500" in caught.value.reason


def test_malformed_body_is_post_data_invalid(xero: RunningXero, token: dict[str, object]) -> None:
    url = f"{xero.sandbox.accounting_base(xero.base_url)}/Invoices/{_id(xero, 'invoices', 'inv-1002')}/History"
    with xero.deliberately_invalid():
        answer = requests.put(
            url,
            data=b'{"HistoryRecords": [',
            timeout=10,
            headers={
                "Authorization": f"Bearer {token['access_token']}",
                "xero-tenant-id": xero.tenant(),
                "Content-Type": "application/json",
            },
        )
    assert answer.status_code == 400 and answer.json()["Type"] == "PostDataInvalidException"


def test_email_preconditions_and_daily_cap(xero: RunningXero, token: dict[str, object]) -> None:
    api, tenant = xero.accounting(token), xero.tenant()
    api.email_invoice(tenant, _id(xero, "invoices", "inv-1002"), RequestEmpty())  # 204
    emails = xero.admin("GET", "/organisations/demo/emails").json()["emails"]
    assert emails[0]["invoice_number"] == "1002" and emails[0]["to"] == ["ap@acme.example"]
    with pytest.raises(HTTPStatusException) as caught:  # Cobalt Dental has no email address
        api.email_invoice(tenant, _id(xero, "invoices", "inv-1004"), RequestEmpty())
    assert caught.value.status == 400 and "email address" in caught.value.reason
    assert xero.admin("POST", "/limits", json={"emails_per_day": 2}).status_code == 200
    api.email_invoice(tenant, _id(xero, "invoices", "inv-1001"), RequestEmpty())  # PAID may be emailed
    with pytest.raises(HTTPStatusException) as caught:
        api.email_invoice(tenant, _id(xero, "invoices", "inv-1003"), RequestEmpty())
    assert "daily limit" in caught.value.reason
    xero.advance(86400)
    api = xero.accounting(xero.minted(tenants=["demo"]))  # a fresh token: the old one expired meanwhile
    api.email_invoice(tenant, _id(xero, "invoices", "inv-1003"), RequestEmpty())
    assert len(xero.admin("GET", "/organisations/demo/emails").json()["emails"]) == 3


def test_online_invoice(xero: RunningXero, token: dict[str, object]) -> None:
    answer = xero.accounting(token).get_online_invoice(xero.tenant(), _id(xero, "invoices", "inv-1002"))
    url = answer.online_invoices[0].online_invoice_url
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "1002" in page.text and "450.50" in page.text


def test_contact_update_payment_terms(xero: RunningXero, token: dict[str, object]) -> None:
    api, tenant, contact = xero.accounting(token), xero.tenant(), _id(xero, "contacts", "cust-01")
    body = Contacts(
        contacts=[
            Contact(
                contact_id=contact, payment_terms=PaymentTerm(sales=Bill(day=15, type=PaymentTermType.OFFOLLOWINGMONTH))
            )
        ]
    )
    updated = api.update_contact(tenant, contact, body, idempotency_key="terms-1").contacts[0]
    assert updated.payment_terms.sales.day == 15 and updated.name == "Acme Plumbing"
    terms = xero.admin("GET", "/organisations/demo/payment-terms").json()[contact]
    assert terms == {"Sales": {"Day": 15, "Type": "OFFOLLOWINGMONTH"}}
    bad = Contacts(
        contacts=[
            Contact(
                contact_id=contact, payment_terms=PaymentTerm(sales=Bill(day=40, type=PaymentTermType.OFFOLLOWINGMONTH))
            )
        ]
    )
    with pytest.raises(HTTPStatusException) as caught:
        api.update_contact(tenant, contact, bad)
    assert caught.value.status == 400
    assert api.get_contact(tenant, contact).contacts[0].payment_terms.sales.day == 15  # nothing changed


def test_contact_groups(xero: RunningXero, token: dict[str, object]) -> None:
    api, tenant = xero.accounting(token), xero.tenant()
    group = api.create_contact_group(
        tenant, ContactGroups(contact_groups=[ContactGroup(name="Credit hold")])
    ).contact_groups[0]
    with pytest.raises(HTTPStatusException):
        api.create_contact_group(tenant, ContactGroups(contact_groups=[ContactGroup(name="credit hold")]))
    contact = _id(xero, "contacts", "cust-02")
    api.create_contact_group_contacts(tenant, group.contact_group_id, Contacts(contacts=[Contact(contact_id=contact)]))
    assert [
        str(c.contact_id) for c in api.get_contact_group(tenant, group.contact_group_id).contact_groups[0].contacts
    ] == [contact]
    assert api.get_contact(tenant, contact).contacts[0].contact_groups[0].name == "Credit hold"
    assert [g.name for g in api.get_contact_groups(tenant).contact_groups] == ["Credit hold"]
    memberships = xero.admin("GET", "/organisations/demo/groups").json()["groups"]
    assert memberships[0]["members"] == [contact]
    api.delete_contact_group_contact(tenant, group.contact_group_id, contact)
    assert xero.admin("GET", "/organisations/demo/groups").json()["groups"][0]["members"] == []
    with pytest.raises(NotFoundException):
        api.delete_contact_group_contact(tenant, group.contact_group_id, contact)


def test_payments_lower_amount_due_and_mark_paid(xero: RunningXero, token: dict[str, object]) -> None:
    api, tenant, invoice = xero.accounting(token), xero.tenant(), _id(xero, "invoices", "inv-1005")
    partial = Payment(
        invoice=Invoice(invoice_id=invoice),
        account=Account(code="090"),
        amount=Decimal("25.25"),
        date=dt.date(2026, 11, 22),
    )
    recorded = api.create_payments(tenant, Payments(payments=[partial]), idempotency_key="pay-a").payments[0]
    assert recorded.amount == Decimal("25.25")
    api.create_payments(tenant, Payments(payments=[partial]), idempotency_key="pay-a")  # replay: no second payment
    assert api.get_invoice(tenant, invoice).invoices[0].amount_due == Decimal("50.00")
    too_much = Payment(invoice=Invoice(invoice_id=invoice), account=Account(code="090"), amount=Decimal("60"))
    with pytest.raises(HTTPStatusException) as caught:
        api.create_payment(tenant, too_much)
    assert caught.value.status == 400 and "exceeds" in caught.value.reason
    rest = Payment(
        invoice=Invoice(invoice_id=invoice),
        account=Account(code="090"),
        amount=Decimal("50.00"),
        date=dt.date(2026, 11, 23),
    )
    api.create_payment(tenant, rest)
    paid = api.get_invoice(tenant, invoice).invoices[0]
    assert paid.status == "PAID" and paid.amount_due == 0 and paid.fully_paid_on_date == dt.date(2026, 11, 23)
