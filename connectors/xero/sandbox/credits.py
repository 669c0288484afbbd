"""Customers' credit in a sandbox organisation: credit notes (ACCRECCREDIT), overpayments and
prepayments (RECEIVE-… when received as money, AR… when left over from a payment on invoices),
each with its Allocations to invoices, rendered the way the published contract shows them (schemas
CreditNote, Overpayment, Prepayment, Allocation).

A stored credit holds what was written: `_kind`, `_contact`, Total, Date, Status, CurrencyCode,
its number or reference, `Allocations` as `{"_invoice", "Amount", "Date", "_updated"}`, and `_type`
when its Type is not its kind's usual one.
RemainingCredit and a PAID status are derived, so they never drift from the allocations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.xero.sandbox import msdate

ZERO = Decimal("0")
USABLE = ("AUTHORISED", "PAID")


@dataclass(frozen=True)
class CreditKind:
    kind: str  # the stored `_kind`
    listing: str  # the path and envelope: CreditNotes
    id_field: str
    number_field: str
    type: str  # what a customer's credit of this kind usually says in Type

    @property
    def fields(self) -> tuple[str, ...]:
        """What `where` and `order` may name on this listing."""
        return (
            self.id_field,
            self.number_field,
            "Type",
            "Status",
            "Date",
            "Total",
            "RemainingCredit",
            "CurrencyCode",
            "UpdatedDateUTC",
            "Contact.ContactID",
        )


KINDS = {
    "CreditNote": CreditKind("CreditNote", "CreditNotes", "CreditNoteID", "CreditNoteNumber", "ACCRECCREDIT"),
    "Overpayment": CreditKind("Overpayment", "Overpayments", "OverpaymentID", "Reference", "RECEIVE-OVERPAYMENT"),
    "Prepayment": CreditKind("Prepayment", "Prepayments", "PrepaymentID", "Reference", "RECEIVE-PREPAYMENT"),
}
BY_LISTING = {kind.listing: kind for kind in KINDS.values()}


def type_of(record: dict[str, Any]) -> str:
    return str(record.get("_type") or KINDS[record["_kind"]].type)


def allocated(record: dict[str, Any]) -> Decimal:
    return sum((Decimal(a["Amount"]) for a in record["Allocations"]), ZERO)


def remaining(record: dict[str, Any]) -> Decimal:
    """Nothing is left of a draft, voided or deleted credit, whatever was allocated."""
    return record["Total"] - allocated(record) if record["Status"] in USABLE else ZERO


def status(record: dict[str, Any]) -> str:
    return "PAID" if record["Status"] == "AUTHORISED" and remaining(record) <= 0 else record["Status"]


def updated(record: dict[str, Any]) -> dt.datetime:
    changes: list[dt.datetime] = [record["_updated"], *(a["_updated"] for a in record["Allocations"])]
    return max(changes)


def getters(kind: CreditKind) -> dict[str, Callable[[dict[str, Any]], Any]]:
    """The where/order facts of one kind's records, each computed when read."""
    return {
        kind.id_field: lambda r: r[kind.id_field],
        kind.number_field: lambda r: r.get(kind.number_field, ""),
        "Type": type_of,
        "Status": status,
        "Date": lambda r: r["Date"],
        "Total": lambda r: r["Total"],
        "RemainingCredit": remaining,
        "CurrencyCode": lambda r: r["CurrencyCode"],
        "UpdatedDateUTC": updated,
        "Contact.ContactID": lambda r: r["_contact"],
    }


GETTERS = {name: getters(kind) for name, kind in KINDS.items()}


def render(record: dict[str, Any], contact: dict[str, Any], invoice_number: Callable[[str], str]) -> dict[str, Any]:
    kind = KINDS[record["_kind"]]
    at = updated(record)
    out: dict[str, Any] = {
        kind.id_field: record[kind.id_field],
        "ID": record[kind.id_field],
        "Type": type_of(record),
        kind.number_field: record.get(kind.number_field, ""),
        "Reference": record.get("Reference", ""),
        "CurrencyRate": Decimal("1"),
        "RemainingCredit": remaining(record),
        "HasAttachments": False,
        "Allocations": [
            {
                "Amount": a["Amount"],
                "Date": msdate.ms_date(a["Date"]),
                "Invoice": {
                    "InvoiceID": a["_invoice"],
                    "InvoiceNumber": invoice_number(a["_invoice"]),
                    "Payments": [],
                    "CreditNotes": [],
                    "Prepayments": [],
                    "Overpayments": [],
                    "HasErrors": False,
                    "IsDiscounted": False,
                    "LineItems": [],
                },
            }
            for a in record["Allocations"]
        ],
        "Payments": [],
        "Contact": contact,
        "DateString": msdate.date_string(record["Date"]),
        "Date": msdate.ms_date(record["Date"]),
        "Status": status(record),
        "LineAmountTypes": "NoTax",
        "LineItems": [],
        "SubTotal": record["Total"],
        "TotalTax": ZERO,
        "Total": record["Total"],
        "UpdatedDateUTC": msdate.ms_instant(at),
        "UpdatedDateUTCString": msdate.instant_string(at),
        "CurrencyCode": record["CurrencyCode"],
    }
    return out


def on_invoice(record: dict[str, Any], amount: Decimal) -> dict[str, Any]:
    """How an allocated credit shows inside the invoice it pays (Invoice.CreditNotes and friends)."""
    kind = KINDS[record["_kind"]]
    return {
        kind.id_field: record[kind.id_field],
        "ID": record[kind.id_field],
        kind.number_field: record.get(kind.number_field, ""),
        "Date": msdate.ms_date(record["Date"]),
        "Total": record["Total"],
        "AppliedAmount": amount,
        "RemainingCredit": remaining(record),
        "Type": type_of(record),
    }
