"""The Accounting API of the sandbox through the real python-quickbooks client over loopback."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.term import Term

from tests.sandbox.conftest import APOSTROPHE_NAME, RunningSandbox


def test_query_filter_count_and_get(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    invoices = Invoice.all(qb=qb)
    assert [i.DocNumber for i in invoices] == ["1001", "1002", "1003", "1004", "1005"]
    open_ones = Invoice.where("Balance > '0'", order_by="DueDate DESC", qb=qb)
    assert [i.DocNumber for i in open_ones] == ["1004", "1002", "1005", "1003"]  # ties keep Id order
    assert Invoice.count("Balance > '0'", qb=qb) == 4
    partly_paid = Invoice.filter(DocNumber="1003", qb=qb)[0]
    assert (partly_paid.TotalAmt, partly_paid.Balance) == (300.0, 200.0)
    assert partly_paid.LinkedTxn[0].TxnType == "Payment"
    fetched = Invoice.get(partly_paid.Id, qb=qb)
    assert fetched.SyncToken == partly_paid.SyncToken and isinstance(fetched.SyncToken, str)
    assert fetched.MetaData.CreateTime.endswith("-07:00") or fetched.MetaData.CreateTime.endswith("-06:00")
    assert Invoice.where("Balance > '1000000'", qb=qb) == []  # empty page: QueryResponse {}


def test_name_with_apostrophe_and_backslash(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    found = Customer.filter(DisplayName=APOSTROPHE_NAME, qb=qb)
    assert [c.DisplayName for c in found] == [APOSTROPHE_NAME]
    assert Customer.where("DisplayName LIKE 'O\\'Brien%'", qb=qb)[0].DisplayName == APOSTROPHE_NAME


def test_query_by_get_with_url_encoded_statement(qbo: RunningSandbox) -> None:
    token = qbo.minted()["access_token"]
    answer = requests.get(
        f"{qbo.base_url}/v3/company/{qbo.realm}/query",
        timeout=10,
        params={"query": "SELECT COUNT(*) FROM Customer", "minorversion": "40"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert answer.status_code == 200
    assert answer.json()["QueryResponse"] == {"totalCount": 3} and answer.json()["time"]


def test_bad_query_is_a_400_fault(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    with pytest.raises(ValidationException) as bad:
        Invoice.where("Balance > '0' OR Balance < '5'", qb=qb)
    assert bad.value.error_code == 4000
    with pytest.raises(ValidationException, match="parsing"):
        Invoice.where("PrivateNote = 'x'", qb=qb)


def test_read_missing_is_610(qbo: RunningSandbox) -> None:
    with pytest.raises(ObjectNotFoundException) as missing:
        Invoice.get("9999", qb=qbo.client())
    assert missing.value.error_code == 610


def test_sparse_update_and_stale_sync_token(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    invoice = Invoice.filter(DocNumber="1002", qb=qb)[0]
    body = {"Id": invoice.Id, "SyncToken": invoice.SyncToken, "sparse": True, "PrivateNote": "arpilot: reminder 1 sent"}
    updated = qb.update_object("Invoice", json.dumps(body))["Invoice"]
    assert updated["PrivateNote"] == "arpilot: reminder 1 sent"
    assert int(updated["SyncToken"]) == int(invoice.SyncToken) + 1
    assert updated["CustomerRef"] == {"value": invoice.CustomerRef.value, "name": invoice.CustomerRef.name}
    assert len(updated["Line"]) == 2  # the sales line and the computed subtotal line survive a sparse update
    with pytest.raises(QuickbooksException) as stale:
        qb.update_object("Invoice", json.dumps(body))  # the same SyncToken again
    assert stale.value.error_code == 5010 and type(stale.value) is QuickbooksException
    notes = qbo.admin("GET", f"/companies/{qbo.realm}/notes").json()
    assert notes["invoices"] == {invoice.Id: "arpilot: reminder 1 sent"}


def test_full_update_nulls_omitted_fields(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    customer = Customer.filter(DisplayName="Acme Plumbing", qb=qb)[0]
    assert customer.PrimaryEmailAddr.Address == "ap@acme.example"
    body = {"Id": customer.Id, "SyncToken": customer.SyncToken, "DisplayName": "Acme Plumbing Ltd"}
    updated = qb.update_object("Customer", json.dumps(body))["Customer"]
    assert updated["DisplayName"] == "Acme Plumbing Ltd" and "PrimaryEmailAddr" not in updated


def test_term_create_standard_and_date_driven(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    net45 = Term()
    net45.Name, net45.DueDays = "Net 45", 45
    saved = net45.save(qb=qb)
    assert (saved.Type, saved.DueDays) == ("STANDARD", 45)
    mid = Term()
    mid.Name, mid.DayOfMonthDue, mid.DueNextMonthDays, mid.DiscountDayOfMonth = "15th", 15, 5, 0
    fifteenth = mid.save(qb=qb)
    assert fifteenth.Type == "DATE_DRIVEN" and fifteenth.DayOfMonthDue == 15
    incomplete = Term()
    incomplete.Name, incomplete.DayOfMonthDue = "20th", 20
    with pytest.raises(ValidationException) as missing:
        incomplete.save(qb=qb)
    assert missing.value.error_code == 2020
    duplicate = Term()
    duplicate.Name, duplicate.DueDays = "net 45", 10
    with pytest.raises(QuickbooksException) as dup:
        duplicate.save(qb=qb)
    assert dup.value.error_code == 6240
    names = [t["Name"] for t in qbo.admin("GET", f"/companies/{qbo.realm}/terms").json()["terms"]]
    assert {"Net 45", "15th"} <= set(names)


def test_customer_display_name_must_be_unique(qbo: RunningSandbox) -> None:
    customer = Customer()
    customer.DisplayName = "acme plumbing"
    with pytest.raises(QuickbooksException) as dup:
        customer.save(qb=qbo.client())
    assert dup.value.error_code == 6240


def test_invoice_due_date_follows_a_date_driven_term(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    term = qb.create_object(
        "Term", '{"Name": "15th", "DayOfMonthDue": 15, "DueNextMonthDays": 5, "DiscountDayOfMonth": 0}'
    )
    customer = Customer.filter(DisplayName="Cobalt Dental", qb=qb)[0]
    body = {
        "CustomerRef": {"value": customer.Id},
        "SalesTermRef": {"value": term["Term"]["Id"]},
        "TxnDate": "2026-11-12",
        "Line": [{"Amount": 10, "DetailType": "SalesItemLineDetail"}],
    }
    created = qb.create_object("Invoice", json.dumps(body))["Invoice"]
    assert created["DueDate"] == "2026-12-15"  # 3 days before the 15th: rolls to next month
    assert created["DocNumber"] == "1006" and created["Balance"] == created["TotalAmt"] == 10.0
    assert dt.date.fromisoformat(created["TxnDate"]) == dt.date(2026, 11, 12)
