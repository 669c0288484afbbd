"""CDC, batch, send, invoice links, requestid replay, paging, delete/void and payments."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from quickbooks.batch import batch_update
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment

from connectors.sandbox.scenario import Scenario, ScenarioInvoice, ScenarioLine
from tests.sandbox.conftest import RunningSandbox, small_scenario


def test_cdc_returns_changes_and_deletions(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    since = qbo.sandbox.clock.now() - dt.timedelta(seconds=1)
    invoice = Invoice.filter(DocNumber="1004", qb=qb)[0]
    qb.update_object(
        "Invoice",
        json.dumps({"Id": invoice.Id, "SyncToken": invoice.SyncToken, "sparse": True, "PrivateNote": "noted"}),
    )
    doomed = Invoice.filter(DocNumber="1005", qb=qb)[0]
    doomed.delete(qb=qb)
    local = since.astimezone(qbo.sandbox.company(qbo.realm).tz).replace(tzinfo=None)  # SDK sends no offset
    answer = change_data_capture([Invoice, Customer], local, qb=qb)
    rows = {row.Id: row for row in answer.Invoice}
    assert rows[invoice.Id].PrivateNote == "noted"
    assert rows[doomed.Id].status == "Deleted"
    assert not hasattr(answer, "Customer")  # nothing changed: an empty QueryResponse entry


def test_cdc_refuses_more_than_30_days(qbo: RunningSandbox) -> None:
    old = (qbo.sandbox.clock.now() - dt.timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S")
    with pytest.raises(ValidationException, match="older than fixed days|invalid"):
        change_data_capture([Invoice], old, qb=qbo.client())


def test_batch_update_with_a_stale_item(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    fresh, stale = Invoice.filter(DocNumber="1002", qb=qb)[0], Invoice.filter(DocNumber="1004", qb=qb)[0]
    qb.update_object(
        "Invoice",
        json.dumps({"Id": stale.Id, "SyncToken": stale.SyncToken, "sparse": True, "PrivateNote": "someone else"}),
    )
    for invoice in (fresh, stale):
        invoice.sparse = True
        invoice.PrivateNote = "arpilot batch"
    result = batch_update([fresh, stale], qb=qb)
    assert [s.Id for s in result.successes] == [fresh.Id]
    assert [f.Error[0].code for f in result.faults] == ["5010"]
    assert qbo.admin("GET", f"/companies/{qbo.realm}/notes").json()["invoices"][fresh.Id] == "arpilot batch"


def test_batch_over_30_items_is_a_fault(qbo: RunningSandbox) -> None:
    items = [{"bId": str(n), "Query": "SELECT COUNT(*) FROM Invoice"} for n in range(31)]
    with pytest.raises(ValidationException, match="Request has invalid"):
        qbo.client().batch_operation(json.dumps({"BatchItemRequest": items}))
    answer = qbo.client().batch_operation(json.dumps({"BatchItemRequest": items[:30]}))
    assert len(answer["BatchItemResponse"]) == 30 and answer["BatchItemResponse"][0]["QueryResponse"] == {
        "totalCount": 5
    }


def test_send_sets_email_status_and_records_the_email(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    invoice = Invoice.filter(DocNumber="1002", qb=qb)[0]
    answer = invoice.send(qb=qb, send_to="payables@acme.example")
    sent = answer["Invoice"]
    assert sent["EmailStatus"] == "EmailSent" and sent["BillEmail"] == {"Address": "payables@acme.example"}
    assert sent["DeliveryInfo"]["DeliveryType"] == "Email"
    no_email = Invoice.filter(DocNumber="1004", qb=qb)[0]  # Cobalt Dental has no address on file
    with pytest.raises(ValidationException) as missing:
        no_email.send(qb=qb)
    assert missing.value.error_code == 2020
    emails = qbo.admin("GET", f"/companies/{qbo.realm}/emails").json()["emails"]
    assert [(e["doc_number"], e["to"]) for e in emails] == [("1002", "payables@acme.example")]


def test_invoice_link_only_when_asked_and_payable_online(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    with_email = Invoice.filter(DocNumber="1002", qb=qb)[0]
    assert not getattr(with_email, "InvoiceLink", "")
    linked = Invoice.get(with_email.Id, qb=qb, params={"include": "invoiceLink"})
    assert linked.InvoiceLink.startswith(qbo.base_url + "/app/pay/")
    without = Invoice.get(Invoice.filter(DocNumber="1004", qb=qb)[0].Id, qb=qb, params={"include": "invoiceLink"})
    assert not getattr(without, "InvoiceLink", "")


def test_requestid_replays_the_first_response(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    customer = Customer.filter(DisplayName="Cobalt Dental", qb=qb)[0]
    body = json.dumps({"Id": customer.Id, "SyncToken": customer.SyncToken, "sparse": True, "Notes": "Credit hold"})
    first = qb.update_object("Customer", body, request_id="action-42")
    again = qb.update_object("Customer", body, request_id="action-42")  # stale SyncToken, but replayed
    assert again["Customer"] == first["Customer"]
    assert Customer.get(customer.Id, qb=qb).SyncToken == first["Customer"]["SyncToken"]
    with pytest.raises(QuickbooksException) as stale:
        qb.update_object("Customer", body, request_id="action-43")
    assert stale.value.error_code == 5010


def test_paging_through_1000_row_pages(qbo: RunningSandbox) -> None:
    base = small_scenario()
    many = tuple(
        ScenarioInvoice(
            f"bulk-{n}",
            str(5000 + n),
            "cust-01",
            base.as_of - dt.timedelta(days=n % 90),
            None,
            "USD",
            (ScenarioLine("Bulk", Decimal("10.00")),),
        )
        for n in range(2345)
    )
    company = qbo.sandbox.load_scenario(Scenario(base.company, base.as_of, base.customers[:1], many, ()))
    tokens = qbo.admin("POST", "/tokens", json={"realm_id": company.realm_id}).json()
    qb = qbo.client(tokens["access_token"], tokens["refresh_token"])
    qb.company_id = company.realm_id
    seen: list[str] = []
    start = 1
    while page := Invoice.where("Balance > '0'", order_by="Id", start_position=start, max_results=1000, qb=qb):
        seen += [i.Id for i in page]
        start += len(page)
    assert len(seen) == len(set(seen)) == 2345
    assert Invoice.count(qb=qb) == 2345


def test_delete_and_void(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    invoice = Invoice.filter(DocNumber="1004", qb=qb)[0]
    voided = invoice.void(qb=qb)["Invoice"]
    assert (voided["Balance"], voided["TotalAmt"], voided["PrivateNote"]) == (0, 0, "Voided")
    paid = Invoice.filter(DocNumber="1003", qb=qb)[0]
    with pytest.raises(QuickbooksException) as refused:
        paid.void(qb=qb)
    assert refused.value.error_code == 6000
    deleted = paid.delete(qb=qb)
    assert deleted["Invoice"]["status"] == "Deleted"
    assert Invoice.filter(DocNumber="1003", qb=qb) == []


def test_payments_lower_balance_and_link(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    recorded = qbo.admin("POST", f"/companies/{qbo.realm}/payments", json={"invoice": "inv-1003", "amount": "50.00"})
    assert recorded.status_code == 201, recorded.text
    invoice = Invoice.filter(DocNumber="1003", qb=qb)[0]
    assert invoice.Balance == 150.0 and len(invoice.LinkedTxn) == 2
    payment = Payment()
    payment.CustomerRef = invoice.CustomerRef
    payment.TotalAmt = 150
    payment.Line = [{"Amount": 150, "LinkedTxn": [{"TxnId": invoice.Id, "TxnType": "Invoice"}]}]
    payment.save(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 0
    assert Customer.filter(DisplayName="O'Brien\\Sons Hardware", qb=qb)[0].Balance == 75.25
    over = qbo.admin("POST", f"/companies/{qbo.realm}/payments", json={"invoice": invoice.Id, "amount": "1"})
    assert over.status_code == 400 and "exceeds the open balance" in over.json()["error"]


def test_admin_reads_back_ids_and_customer_terms(qbo: RunningSandbox) -> None:
    ids = qbo.admin("GET", f"/companies/{qbo.realm}/ids").json()
    assert set(ids["customers"]) == {"cust-01", "cust-02", "cust-03"}
    terms = qbo.admin("GET", f"/companies/{qbo.realm}/customer-terms").json()
    assert terms[ids["customers"]["cust-02"]]["name"] == "Net 15"
    entity = qbo.admin("GET", f"/companies/{qbo.realm}/invoice/inv-1002").json()
    assert entity["DocNumber"] == "1002" and entity["InvoiceLink"]
    bad = qbo.admin("POST", "/companies", json={"format": "nope"})
    assert bad.status_code == 400 and "not a scenario" in bad.json()["error"]
