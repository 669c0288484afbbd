"""Seed a sandbox company from a provider-neutral `Scenario`.

Scenario ids (`cust-01`, `inv-1001`, `pay-00001`) become numeric QuickBooks ids; the mapping is
kept on the company (`scenario_ids`) and shown by the admin API. Times: an entity is created at
09:00 company time on its transaction date; an invoice was last updated by its latest payment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from connectors.quickbooks.sandbox.company import Company
from connectors.sandbox.clock import SandboxClock
from integration.scenario import Scenario

DUE_ON_RECEIPT = "Due on receipt"


def _at(company: Company, day: dt.date, hour: int = 9, sequence: int = 0) -> dt.datetime:
    """`hour` o'clock on `day`, plus `sequence` seconds within that hour: a day's records get distinct
    LastUpdatedTimes, as real books entered one after another do, instead of hundreds sharing one second."""
    instant = dt.datetime.combine(day, dt.time(hour), tzinfo=company.tz) + dt.timedelta(seconds=sequence % 3600)
    return min(instant.astimezone(dt.timezone.utc), company.now())


def _put(company: Company, entity: str, fields: dict[str, Any], created: dt.datetime) -> str:
    entity_id = company.new_id(entity)
    company.entities[entity][entity_id] = {"Id": entity_id, "SyncToken": 0, **fields, "_created": created, "_updated": created}
    return entity_id


def company_from_scenario(scenario: Scenario, realm_id: str, clock: SandboxClock, link_base: str = "http://127.0.0.1") -> Company:
    company = Company(realm_id=realm_id, name=scenario.company.name, timezone=scenario.company.timezone,
                      currency=scenario.company.currency, email=scenario.company.email, clock=clock, link_base=link_base,
                      country=scenario.company.country, region=scenario.company.region, locale=scenario.company.locale)
    opened = _at(company, min([i.issue_date for i in scenario.invoices], default=scenario.as_of) - dt.timedelta(days=30))
    company.opened = opened
    names = {0: DUE_ON_RECEIPT} | {d: f"Net {d}" for d in sorted({c.terms_days for c in scenario.customers} - {0})}
    terms = {days: _put(company, "Term", {"Name": name, "DueDays": days, "Active": True}, opened)
             for days, name in names.items()}

    ids: dict[str, dict[str, str]] = {"customers": {}, "invoices": {}, "payments": {}, "terms": {str(d): t for d, t in terms.items()}}
    first_invoice = {}
    for invoice in scenario.invoices:
        first_invoice.setdefault(invoice.customer_id, invoice.issue_date)
    for customer in scenario.customers:
        fields: dict[str, Any] = {
            "DisplayName": customer.name, "CompanyName": customer.name, "Active": True, "Notes": "",
            "CurrencyRef": {"value": customer.currency},
            "SalesTermRef": {"value": terms[customer.terms_days], "name": names[customer.terms_days]},
            "PreferredDeliveryMethod": "Email" if customer.email else "Print",
        }
        if customer.email:
            fields["PrimaryEmailAddr"] = {"Address": customer.email}
        if customer.phone:
            fields["PrimaryPhone"] = {"FreeFormNumber": customer.phone}
        if customer.country or customer.region:
            fields["BillAddr"] = {k: v for k, v in (("Country", customer.country), ("CountrySubDivisionCode", customer.region)) if v}
        created = _at(company, first_invoice.get(customer.id, scenario.as_of) - dt.timedelta(days=3))
        ids["customers"][customer.id] = _put(company, "Customer", fields, created)

    for sequence, invoice in enumerate(scenario.invoices):
        customer = scenario.customer(invoice.customer_id)
        lines = [{"Id": str(n), "LineNum": n, "Description": line.description, "Amount": line.amount,
                  "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"}, "Qty": 1, "UnitPrice": line.amount}}
                 for n, line in enumerate(invoice.lines, start=1)]
        fields = {
            "DocNumber": invoice.number, "TxnDate": invoice.issue_date.isoformat(),
            "DueDate": (invoice.due_date or invoice.issue_date).isoformat(),
            "CustomerRef": {"value": ids["customers"][customer.id], "name": customer.name},
            "SalesTermRef": {"value": terms[customer.terms_days], "name": names[customer.terms_days]},
            "CurrencyRef": {"value": invoice.currency}, "Line": lines, "PrivateNote": "",
            "EmailStatus": "EmailSent" if customer.email else "NotSet",
            "AllowOnlineCreditCardPayment": bool(customer.email), "AllowOnlineACHPayment": bool(customer.email),
        }
        if customer.email:
            fields["BillEmail"] = {"Address": customer.email}
        created = _at(company, invoice.issue_date, sequence=sequence)
        if customer.email:
            fields["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": company.stamp(created)}
        if invoice.voided:
            fields.update(_voided=True, PrivateNote="Voided")
            for line in lines:
                line["Amount"] = Decimal("0")
        ids["invoices"][invoice.id] = _put(company, "Invoice", fields, created)

    for sequence, payment in enumerate(scenario.payments):
        customer = scenario.customer(payment.customer_id)
        lines = [{"Amount": amount, "LinkedTxn": [{"TxnId": ids["invoices"][inv], "TxnType": "Invoice"}]}
                 for inv, amount in payment.applied]
        fields = {"CustomerRef": {"value": ids["customers"][customer.id], "name": customer.name},
                  "TotalAmt": payment.amount, "TxnDate": payment.date.isoformat(),
                  "CurrencyRef": {"value": payment.currency}, "Line": lines}
        paid_at = _at(company, payment.date, 10, sequence)
        payment_id = _put(company, "Payment", fields, paid_at)
        ids["payments"][payment.id] = payment_id
        for inv, amount in payment.applied:
            invoice_id = ids["invoices"][inv]
            company.applied.setdefault(invoice_id, {})[payment_id] = amount
            record = company.entities["Invoice"][invoice_id]
            record["SyncToken"] += 1
            record["_updated"] = max(record["_updated"], paid_at)
    company.scenario_ids = ids
    return company
