"""Seed a sandbox company from a provider-neutral `Scenario`.

Scenario ids (`cust-01`, `inv-1001`, `pay-00001`) become numeric QuickBooks ids; the mapping is
kept on the company (`scenario_ids`) and shown by the admin API. Times: an entity is created at
09:00 company time on its transaction date; an invoice was last updated by its latest payment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from connectors.quickbooks.sandbox.company import Company, render_physical_address
from connectors.sandbox.clock import SandboxClock
from connectors.sandbox.scenario import Scenario, ScenarioCredit

DUE_ON_RECEIPT = "Due on receipt"
LATE_FEE_ITEM = "Late fee"  # the Service item a late fee is charged on (rules.late_fees.quickbooks_item)


def _at(company: Company, day: dt.date, hour: int = 9, sequence: int = 0) -> dt.datetime:
    """`hour` o'clock on `day`, plus `sequence` seconds within that hour: a day's records get distinct
    LastUpdatedTimes, as real books entered one after another do, instead of hundreds sharing one second."""
    instant = dt.datetime.combine(day, dt.time(hour), tzinfo=company.tz) + dt.timedelta(seconds=sequence % 3600)
    return min(instant.astimezone(dt.UTC), company.now())


def _put(company: Company, entity: str, fields: dict[str, Any], created: dt.datetime) -> str:
    entity_id = company.new_id(entity)
    company.entities[entity][entity_id] = {
        "Id": entity_id,
        "SyncToken": 0,
        **fields,
        "_created": created,
        "_updated": created,
    }
    return entity_id


def company_from_scenario(
    scenario: Scenario, realm_id: str, clock: SandboxClock, link_base: str = "http://127.0.0.1"
) -> Company:
    company = Company(
        realm_id=realm_id,
        name=scenario.company.name,
        timezone=scenario.company.timezone,
        currency=scenario.company.currency,
        email=scenario.company.email,
        clock=clock,
        link_base=link_base,
        country=scenario.company.country,
        address=scenario.company.postal_address,
        locale=scenario.company.locale,
    )
    opened = _at(
        company, min([i.issue_date for i in scenario.invoices], default=scenario.as_of) - dt.timedelta(days=30)
    )
    company.opened = opened
    names = {0: DUE_ON_RECEIPT} | {d: f"Net {d}" for d in sorted({c.terms_days for c in scenario.customers} - {0})}
    terms = {
        days: _put(company, "Term", {"Name": name, "DueDays": days, "Active": True}, opened)
        for days, name in names.items()
    }

    _put(company, "Item", {"Name": LATE_FEE_ITEM, "Type": "Service", "Active": True}, opened)
    ids: dict[str, dict[str, str]] = {
        "customers": {},
        "invoices": {},
        "payments": {},
        "terms": {str(d): t for d, t in terms.items()},
    }
    first_invoice: dict[str, dt.date] = {}
    for invoice in scenario.invoices:
        first_invoice.setdefault(invoice.customer_id, invoice.issue_date)
    for customer in sorted(scenario.customers, key=scenario.depth):  # a parent gets its id before its jobs
        fields: dict[str, Any] = {
            "DisplayName": customer.name,
            "CompanyName": customer.name,
            "Active": True,
            "Notes": "",
            "CurrencyRef": {"value": customer.currency},
            "SalesTermRef": {"value": terms[customer.terms_days], "name": names[customer.terms_days]},
            "PreferredDeliveryMethod": "Email" if customer.email else "Print",
        }
        if customer.email:
            fields["PrimaryEmailAddr"] = {"Address": customer.email}  # several addresses: QuickBooks' comma list
        if customer.parent_id is not None:
            parent = scenario.customer(customer.parent_id)
            fields.update(
                Job=True,
                BillWithParent=customer.bill_with_parent,
                ParentRef={"value": ids["customers"][parent.id], "name": parent.name},
            )
        if customer.phone:
            fields["PrimaryPhone"] = {"FreeFormNumber": customer.phone}
        if customer.postal_address is not None:
            fields["BillAddr"] = render_physical_address(customer.postal_address)
        created = _at(company, first_invoice.get(customer.id, scenario.as_of) - dt.timedelta(days=3))
        ids["customers"][customer.id] = _put(company, "Customer", fields, created)

    for sequence, invoice in enumerate(scenario.invoices):
        if invoice.type != "sale" or invoice.status != "approved":
            continue  # QuickBooks has no unapproved invoices, and a bill is a vendor's Bill, not an Invoice
        customer = scenario.customer(invoice.customer_id)
        email = scenario.bill_to(customer)
        lines = [
            {
                "Id": str(n),
                "LineNum": n,
                "Description": line.description,
                "Amount": line.amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "1", "name": "Services"},
                    "Qty": 1,
                    "UnitPrice": line.amount,
                },
            }
            for n, line in enumerate(invoice.lines, start=1)
        ]
        fields = {
            "DocNumber": invoice.number,
            "TxnDate": invoice.issue_date.isoformat(),
            "DueDate": (invoice.due_date or invoice.issue_date).isoformat(),
            "CustomerRef": {"value": ids["customers"][customer.id], "name": customer.name},
            "SalesTermRef": {"value": terms[customer.terms_days], "name": names[customer.terms_days]},
            "CurrencyRef": {"value": invoice.currency},
            "Line": lines,
            "PrivateNote": "",
            "EmailStatus": "EmailSent" if email else "NotSet",
            "AllowOnlineCreditCardPayment": bool(email),
            "AllowOnlineACHPayment": bool(email),
        }
        if email:
            fields["BillEmail"] = {"Address": email}
        created = _at(company, invoice.issue_date, sequence=sequence)
        if email:
            fields["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": company.stamp(created)}
        if invoice.voided:
            fields.update(_voided=True, PrivateNote="Voided")
            for line in lines:
                line["Amount"] = Decimal("0")
        ids["invoices"][invoice.id] = _put(company, "Invoice", fields, created)

    for sequence, payment in enumerate(scenario.payments):
        customer = scenario.customer(payment.customer_id)
        lines = [
            {"Amount": amount, "LinkedTxn": [{"TxnId": ids["invoices"][inv], "TxnType": "Invoice"}]}
            for inv, amount in payment.applied
        ]
        fields = {
            "CustomerRef": {"value": ids["customers"][customer.id], "name": customer.name},
            "TotalAmt": payment.amount,
            "TxnDate": payment.date.isoformat(),
            "CurrencyRef": {"value": payment.currency},
            "Line": lines,
        }
        paid_at = _at(company, payment.date, 10, sequence)
        payment_id = _put(company, "Payment", fields, paid_at)
        ids["payments"][payment.id] = payment_id
        for inv, amount in payment.applied:
            invoice_id = ids["invoices"][inv]
            company.applied.setdefault(invoice_id, {})[payment_id] = amount
            record = company.entities["Invoice"][invoice_id]
            record["SyncToken"] += 1
            record["_updated"] = max(record["_updated"], paid_at)
    ids["credits"] = {credit.id: _seed_credit(company, credit, ids) for credit in scenario.credits}
    company.scenario_ids = ids
    return company


def _seed_credit(company: Company, credit: ScenarioCredit, ids: dict[str, dict[str, str]]) -> str:
    """A credit note becomes a CreditMemo, applied by zero-total payments (one per allocation) whose
    lines link the invoice and the memo, as QuickBooks records applying a credit; money received
    beyond the invoices becomes a Payment with an unapplied part. Returns the memo's or payment's id."""
    customer_id = ids["customers"][credit.customer_id]
    customer = {"value": customer_id, "name": company.entities["Customer"][customer_id]["DisplayName"]}
    base = {"CustomerRef": customer, "CurrencyRef": {"value": credit.currency}}
    created = _at(company, credit.date, 9)
    invoice_lines = [
        {"Amount": a.amount, "LinkedTxn": [{"TxnId": ids["invoices"][a.invoice_id], "TxnType": "Invoice"}]}
        for a in credit.allocations
    ]
    if credit.kind != "credit_note":
        payment_id = _put(
            company,
            "Payment",
            {**base, "TotalAmt": credit.amount, "TxnDate": credit.date.isoformat(), "Line": invoice_lines},
            created,
        )
        _index(company, payment_id, invoice_lines, created)
        return payment_id
    memo_id = _put(
        company,
        "CreditMemo",
        {
            **base,
            "DocNumber": credit.number or credit.id,
            "TxnDate": credit.date.isoformat(),
            "Line": [
                {
                    "Id": "1",
                    "LineNum": 1,
                    "Amount": credit.amount,
                    "Description": "Credit",
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"}},
                }
            ],
        },
        created,
    )
    for allocation, line in zip(credit.allocations, invoice_lines, strict=True):  # one line per allocation
        at = _at(company, allocation.date, 11)
        lines = [line, {"Amount": allocation.amount, "LinkedTxn": [{"TxnId": memo_id, "TxnType": "CreditMemo"}]}]
        payment_id = _put(
            company,
            "Payment",
            {**base, "TotalAmt": Decimal("0"), "TxnDate": allocation.date.isoformat(), "Line": lines},
            at,
        )
        _index(company, payment_id, lines, at)
    return memo_id


def _index(company: Company, payment_id: str, lines: list[dict[str, Any]], at: dt.datetime) -> None:
    """What a seeded payment applies, in the company's indexes, the linked records touched at `at`."""
    for line in lines:
        link = line["LinkedTxn"][0]
        entity = link["TxnType"]
        index = company.applied if entity == "Invoice" else company.credited
        index.setdefault(link["TxnId"], {})[payment_id] = line["Amount"]
        record = company.entities[entity][link["TxnId"]]
        record["SyncToken"] += 1
        record["_updated"] = max(record["_updated"], at)
