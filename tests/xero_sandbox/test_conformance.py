"""One tour of every emulated endpoint through xero-python; each request and each documented
response must validate against Xero's OpenAPI specs (plus the `/Date(...)/` check)."""

from __future__ import annotations

import re
from decimal import Decimal

from xero_python.accounting import (
    Account,
    Contact,
    ContactGroup,
    ContactGroups,
    Contacts,
    HistoryRecord,
    HistoryRecords,
    Invoice,
    Payment,
    Payments,
    RequestEmpty,
)

from tests.xero_sandbox.conftest import RunningXero

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EXPECTED = {
    "GET /Connections 200",
    "DELETE /Connections/{id} 204",
    "GET /Invoices 200",
    "GET /Invoices/{id} 200",
    "GET /Invoices/{id}/History 200",
    "PUT /Invoices/{id}/History 200",
    "POST /Invoices/{id}/Email 204",
    "GET /Invoices/{id}/OnlineInvoice 200",
    "GET /Contacts 200",
    "GET /Contacts/{id} 200",
    "POST /Contacts/{id} 200",
    "GET /Contacts/{id}/History 200",
    "PUT /Contacts/{id}/History 200",
    "GET /ContactGroups 200",
    "PUT /ContactGroups 200",
    "GET /ContactGroups/{id} 200",
    "PUT /ContactGroups/{id}/Contacts 200",
    "DELETE /ContactGroups/{id}/Contacts/{id} 204",
    "GET /Payments 200",
    "PUT /Payments 200",
    "POST /Payments 200",
    "GET /Payments/{id} 200",
}


def test_every_endpoint_validates(xero: RunningXero) -> None:
    token = xero.minted(tenants=["demo", "second"])
    api, identity, tenant = xero.accounting(token), xero.identity(token), xero.tenant()
    ids = xero.admin("GET", "/organisations/demo/ids").json()
    invoice, contact = ids["invoices"]["inv-1002"], ids["contacts"]["cust-01"]
    note = HistoryRecords(history_records=[HistoryRecord(details="Reminder 1 sent")])

    connections = identity.get_connections()
    api.get_invoices(tenant, statuses=["AUTHORISED"], page=1, page_size=1000)
    api.get_invoices(tenant, where='Type=="ACCREC" AND AmountDue>0', contact_i_ds=[contact], summary_only=True)
    api.get_invoice(tenant, invoice)
    api.create_invoice_history(tenant, invoice, note, idempotency_key="tour-1")
    api.get_invoice_history(tenant, invoice)
    api.email_invoice(tenant, invoice, RequestEmpty())
    api.get_online_invoice(tenant, invoice)
    api.get_contacts(tenant, page=1)
    api.get_contact(tenant, contact)
    api.update_contact(
        tenant, contact, Contacts(contacts=[Contact(contact_id=contact, email_address="ap2@acme.example")])
    )
    api.create_contact_history(tenant, contact, note)
    api.get_contact_history(tenant, contact)
    group = api.create_contact_group(
        tenant, ContactGroups(contact_groups=[ContactGroup(name="Credit hold")])
    ).contact_groups[0]
    api.get_contact_groups(tenant)
    api.create_contact_group_contacts(tenant, group.contact_group_id, Contacts(contacts=[Contact(contact_id=contact)]))
    api.get_contact_group(tenant, group.contact_group_id)
    api.delete_contact_group_contact(tenant, group.contact_group_id, contact)

    def pay(amount: str) -> Payment:
        return Payment(invoice=Invoice(invoice_id=invoice), account=Account(code="090"), amount=Decimal(amount))

    recorded = api.create_payments(tenant, Payments(payments=[pay("10")])).payments[0]
    api.create_payment(tenant, pay("5"))
    api.get_payments(tenant, page=1)
    api.get_payment(tenant, recorded.payment_id)
    identity.delete_connection(next(c.id for c in connections if str(c.tenant_id) == xero.tenant("second")))

    report = xero.conformance()
    assert not report.failures, "\n".join(report.failures)
    seen = {GUID.sub("{id}", label.replace("/api.xro/2.0", "")) for label in report.validated}
    assert EXPECTED <= seen, sorted(EXPECTED - seen)
    print(
        f"\nvalidated against the specs: {sum(report.validated.values())} exchanges, {len(seen)} operations; "
        f"SDK default fields stripped from request bodies: {report.sdk_defaults_stripped}"
    )
