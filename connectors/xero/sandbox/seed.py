"""Seed a sandbox organisation from a provider-neutral `Scenario`, and the second, small
organisation every Xero sandbox holds (so one consent can grant two).

Ids are GUIDs made with uuid5 from the tenant id, the kind and the scenario id, so reloading a
scenario gives the same ids; the map is kept on the organisation (`scenario_ids`). A scenario
payment applied to several invoices becomes one Xero payment per invoice (Xero's payments are
per document), keyed `pay-1/inv-1001`; a payment applied to one invoice keeps the key `pay-1`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from connectors.addresses import split_addresses
from connectors.sandbox.clock import SandboxClock
from connectors.sandbox.scenario import (
    Scenario,
    ScenarioCompany,
    ScenarioCredit,
    ScenarioCustomer,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
)
from connectors.xero.sandbox import credits as credit_kinds
from connectors.xero.sandbox.org import Organisation, stable_id, xero_address

SALES_ACCOUNT = "200"
BANK_ACCOUNT = "090"
_TYPES = {"sale": "ACCREC", "bill": "ACCPAY"}
_STATUSES = {"approved": "AUTHORISED", "submitted": "SUBMITTED", "draft": "DRAFT"}


def _at(org: Organisation, day: dt.date, hour: int = 9) -> dt.datetime:
    instant = dt.datetime.combine(day, dt.time(hour), tzinfo=org.tz).astimezone(dt.UTC)
    return min(instant, org.now())


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.partition(" ")
    return first, last


def organisation_from_scenario(scenario: Scenario, short_code: str, clock: SandboxClock) -> Organisation:
    tenant_id = stable_id("tenant", short_code)
    org = Organisation(
        tenant_id=tenant_id,
        name=scenario.company.name,
        short_code=short_code,
        timezone=scenario.company.timezone,
        currency=scenario.company.currency,
        email=scenario.company.email,
        clock=clock,
        country=scenario.company.country,
        address=scenario.company.postal_address,
    )
    ids: dict[str, dict[str, str]] = {"contacts": {}, "invoices": {}, "payments": {}}
    first_invoice: dict[str, dt.date] = {}
    for invoice in scenario.invoices:
        first_invoice.setdefault(invoice.customer_id, invoice.issue_date)

    for customer in sorted(scenario.customers, key=scenario.depth):  # a parent's contact before its jobs
        if customer.bill_with_parent and customer.parent_id is not None:
            # Xero has no jobs: what QuickBooks bills with the parent, a Xero user invoices to the parent.
            ids["contacts"][customer.id] = ids["contacts"][customer.parent_id]
            continue
        contact_id = stable_id(tenant_id, "contact", customer.id)
        # Xero's EmailAddress holds one address; more are contact persons included in emails.
        addresses = split_addresses(customer.email)
        persons = [("", address) for address in addresses[1:]] + [(p.name, p.email) for p in customer.contacts]
        record: dict[str, Any] = {
            "ContactID": contact_id,
            "ContactStatus": "ACTIVE",
            "Name": customer.name,
            "IsCustomer": True,
            "DefaultCurrency": customer.currency,
            "ContactPersons": [
                {
                    "FirstName": _split_name(name)[0],
                    "LastName": _split_name(name)[1],
                    "EmailAddress": email,
                    "IncludeInEmails": True,
                }
                for name, email in persons
            ],
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": customer.phone}] if customer.phone else [],
            "PaymentTerms": {"Sales": {"Day": customer.terms_days, "Type": "DAYSAFTERBILLDATE"}},
            "_updated": _at(org, first_invoice.get(customer.id, scenario.as_of) - dt.timedelta(days=3)),
        }
        if addresses:
            record["EmailAddress"] = addresses[0]
        if customer.postal_address is not None:
            record["Addresses"] = [xero_address(customer.postal_address, "POBOX")]
        org.contacts[contact_id] = record
        ids["contacts"][customer.id] = contact_id

    for invoice in scenario.invoices:
        invoice_id = stable_id(tenant_id, "invoice", invoice.id)
        lines = [
            {
                "LineItemID": stable_id(invoice_id, "line", str(n)),
                "Description": line.description,
                "Quantity": Decimal("1"),
                "UnitAmount": line.amount,
                "AccountCode": SALES_ACCOUNT,
                "TaxType": "NONE",
                "TaxAmount": Decimal("0"),
                "LineAmount": line.amount,
                "Tracking": [],
            }
            for n, line in enumerate(invoice.lines, start=1)
        ]
        contact = scenario.customer(invoice.customer_id)
        org.invoices[invoice_id] = {
            "InvoiceID": invoice_id,
            "Type": _TYPES[invoice.type],
            "InvoiceNumber": invoice.number,
            "Reference": contact.name if contact.bill_with_parent else "",
            "_contact": ids["contacts"][invoice.customer_id],
            "Date": invoice.issue_date,
            "DueDate": invoice.due_date or invoice.issue_date,
            "Status": "VOIDED" if invoice.voided else _STATUSES[invoice.status],
            "LineItems": lines,
            "LineAmountTypes": "NoTax",
            "CurrencyCode": invoice.currency,
            "SentToContact": bool(scenario.bill_to(contact)) and invoice.status == "approved",
            "_updated": _at(org, invoice.issue_date),
        }
        ids["invoices"][invoice.id] = invoice_id

    for payment in scenario.payments:
        for invoice_key, amount in payment.applied:
            key = payment.id if len(payment.applied) == 1 else f"{payment.id}/{invoice_key}"
            payment_id = stable_id(tenant_id, "payment", key)
            org.payments[payment_id] = {
                "PaymentID": payment_id,
                "_invoice": ids["invoices"][invoice_key],
                "Amount": amount,
                "Date": payment.date,
                "Reference": "",
                "Status": "AUTHORISED",
                "Account": {"AccountID": stable_id(tenant_id, "account", BANK_ACCOUNT), "Code": BANK_ACCOUNT},
                "_updated": _at(org, payment.date, 10),
            }
            ids["payments"][key] = payment_id
    ids["credits"] = {credit.id: seed_credit(org, credit, ids) for credit in scenario.credits}
    org.scenario_ids = ids
    return org


# Scenario credit kinds as Xero keeps them: a payment left unapplied is an overpayment in Xero, of
# the kind left over from a payment on invoices (AROVERPAYMENT) rather than received as money.
_AR_OVERPAYMENT = "unapplied_payment"
_CREDIT_KINDS = {
    "credit_note": "CreditNote",
    "overpayment": "Overpayment",
    "prepayment": "Prepayment",
    "unapplied_payment": "Overpayment",
}


def seed_credit(org: Organisation, credit: ScenarioCredit, ids: dict[str, dict[str, str]]) -> str:
    kind = credit_kinds.KINDS[_CREDIT_KINDS[credit.kind]]
    credit_id = stable_id(org.tenant_id, kind.kind.lower(), credit.id)
    org.credits[credit_id] = {
        "_kind": kind.kind,
        "_type": "AROVERPAYMENT" if credit.kind == _AR_OVERPAYMENT else "",
        kind.id_field: credit_id,
        kind.number_field: credit.number,
        "_contact": ids["contacts"][credit.customer_id],
        "Date": credit.date,
        "Total": credit.amount,
        "Status": "AUTHORISED",
        "CurrencyCode": credit.currency,
        "_updated": _at(org, credit.date),
        "Allocations": [
            {
                "_invoice": ids["invoices"][a.invoice_id],
                "Amount": a.amount,
                "Date": a.date,
                "_updated": _at(org, a.date, 11),
            }
            for a in credit.allocations
        ],
    }
    return credit_id


def second_organisation_scenario(as_of: dt.date) -> Scenario:
    """A small second organisation: two customers, three open or paid invoices."""
    customers = (
        ScenarioCustomer("cust-01", "Kowhai Cafe", "accounts@kowhai.example", "+64 9 555 0101", "NZD", 20),
        ScenarioCustomer("cust-02", "Tui Electrical", "billing@tui.example", None, "NZD", 30),
    )

    def invoice(n: int, customer: str, days_ago: int, amount: str, terms: int) -> ScenarioInvoice:
        issued = as_of - dt.timedelta(days=days_ago)
        return ScenarioInvoice(
            f"inv-{n}",
            f"INV-{n}",
            customer,
            issued,
            issued + dt.timedelta(days=terms),
            "NZD",
            (ScenarioLine("Catering supplies", Decimal(amount)),),
        )

    invoices = (
        invoice(1, "cust-01", 45, "640.00", 20),
        invoice(2, "cust-01", 10, "120.00", 20),
        invoice(3, "cust-02", 35, "980.00", 30),
    )
    payments = (
        ScenarioPayment("pay-1", "cust-02", as_of - dt.timedelta(days=2), "NZD", (("inv-3", Decimal("980.00")),)),
    )
    return Scenario(
        ScenarioCompany(
            "Kereru Catering", "Pacific/Auckland", "NZD", locale="en_NZ", country="NZ", email="hello@kereru.example"
        ),
        as_of,
        customers,
        invoices,
        payments,
    )
