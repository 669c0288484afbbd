"""Sales invoices the sandbox creates and voids (`PUT /Invoices`, `POST /Invoices/{id}`): what a late
fee needs. Each request is validated whole before any effect, as Xero does (a 400 changes nothing):
the contact exists, the type is ACCREC, the number is unique, and each line's AccountCode is one of
the organisation's revenue accounts ("Account code '…' is not a valid code for this document").
An update may only void an approved invoice without payments. Callers hold the organisation's lock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.xero.sandbox import errors, msdate
from connectors.xero.sandbox.org import Organisation

# The sandbox's chart of accounts, the same in every organisation: code -> (name, type).
ACCOUNTS: dict[str, tuple[str, str]] = {
    "090": ("Business Bank Account", "BANK"),
    "200": ("Sales", "REVENUE"),
    "260": ("Other Revenue", "REVENUE"),
    "270": ("Interest Income", "REVENUE"),
}
CREATABLE = ("DRAFT", "SUBMITTED", "AUTHORISED")
CENT = Decimal("0.01")


def create_invoices(org: Organisation, body: Any) -> list[dict[str, Any]]:
    items = body.get("Invoices") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise errors.PostDataInvalid('The request body must be {"Invoices": [ {...} ]} with at least one element')
    records = [_invoice(org, item) for item in items]
    numbers = [r["InvoiceNumber"] for r in records]
    if len(set(numbers)) != len(numbers):
        raise errors.ValidationFailed(["Invoice # must be unique."])
    for record in records:
        org.invoices[record["InvoiceID"]] = record
        org.changed("INVOICE", record["InvoiceID"], "CREATE")
    return [org.render_invoice(r) for r in records]


def void_invoice(org: Organisation, record: dict[str, Any], body: Any) -> dict[str, Any]:
    items = body.get("Invoices") if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise errors.PostDataInvalid('The request body must be {"Invoices": [ {...} ]} with one element')
    if items[0].get("Status") != "VOIDED" or set(items[0]) - {"InvoiceID", "Status"}:
        raise errors.ValidationFailed(["This sandbox updates an invoice only to void it (Status VOIDED)"])
    if record["Status"] != "AUTHORISED" or org.invoice_payments(record["InvoiceID"]):
        raise errors.ValidationFailed(["Invoice not of valid status for modification"])
    record["Status"] = "VOIDED"
    record["_updated"] = org.now()
    org.changed("INVOICE", record["InvoiceID"])
    return org.render_invoice(record)


def _invoice(org: Organisation, item: dict[str, Any]) -> dict[str, Any]:
    problems: list[str] = []
    if item.get("Type") != "ACCREC":
        problems.append("This sandbox creates sales invoices only (Type ACCREC)")
    contact = item.get("Contact")
    contact_id = str(contact.get("ContactID", "")).lower() if isinstance(contact, dict) else ""
    if contact_id not in org.contacts:
        problems.append("A Contact must be specified for this type of transaction")
    number = str(item.get("InvoiceNumber") or "")
    if not number:
        number = f"INV-{len(org.invoices) + 1:04d}"
    elif any(r["InvoiceNumber"] == number and r["Type"] == "ACCREC" for r in org.invoices.values()):
        problems.append("Invoice # must be unique.")
    status = item.get("Status", "DRAFT")
    if status not in CREATABLE:
        problems.append(f"Invoice status {status!r} cannot be set on a new invoice")
    lines = [_line(line, problems) for line in item.get("LineItems") or []]
    if not lines:
        problems.append("An invoice must have at least one line item")
    issued = _date(item.get("Date"), org.today(), "Date", problems)
    due = _date(item.get("DueDate"), None, "DueDate", problems)
    if due is None and status == "AUTHORISED":
        problems.append("Due Date is required.")
    if problems:
        raise errors.ValidationFailed(problems)
    return {
        "InvoiceID": org.new_id(),
        "Type": "ACCREC",
        "InvoiceNumber": number,
        "Reference": str(item.get("Reference") or ""),
        "_contact": contact_id,
        "Date": issued,
        "DueDate": due or issued,
        "Status": status,
        "LineItems": lines,
        "LineAmountTypes": "NoTax",
        "CurrencyCode": str(item.get("CurrencyCode") or org.currency),
        "SentToContact": False,
        "_updated": org.now(),
    }


def _line(line: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(line, dict):
        problems.append("A line item must be an object")
        return {}
    code = str(line.get("AccountCode") or "")
    if ACCOUNTS.get(code, ("", ""))[1] != "REVENUE":
        problems.append(f"Account code '{code}' is not a valid code for this document.")
    try:
        quantity = Decimal(str(line.get("Quantity", 1)))
        unit = Decimal(str(line.get("UnitAmount", 0)))
    except InvalidOperation:
        problems.append("Quantity and UnitAmount must be numbers")
        return {}
    return {
        "LineItemID": str(uuid.uuid4()),
        "Description": str(line.get("Description") or ""),
        "Quantity": quantity,
        "UnitAmount": unit,
        "AccountCode": code,
        "TaxType": "NONE",
        "TaxAmount": Decimal("0"),
        "LineAmount": (quantity * unit).quantize(CENT),
        "Tracking": [],
    }


def _date(value: Any, default: dt.date | None, name: str, problems: list[str]) -> dt.date | None:
    if value in (None, ""):
        return default
    try:
        return msdate.parse_input_date(value)
    except ValueError:
        problems.append(f"{name} is not a valid date: {value!r}")
        return default
