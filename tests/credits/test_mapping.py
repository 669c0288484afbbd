"""Credits through the real mappings: the Xero OpenAPI examples of /CreditNotes, /Overpayments and
/Prepayments, and QuickBooks CreditMemo and Payment shapes (Finance.xsd: RemainingCredit, UnappliedAmt,
payment lines linked to credit memos and to several invoices)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pytest
import yaml

from connectors.contract import CreditKind, Money
from connectors.quickbooks import mapping as qbo
from connectors.xero.mapping import MappingError, credit_from_xero, is_receivable_credit
from tests.xero_conformance import specs_dir


@lru_cache(maxsize=None)
def _xero_example(path: str) -> dict[str, Any]:
    spec = yaml.safe_load((specs_dir() / "xero_accounting.yaml").read_text())
    example = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    # As Xero sends it: JSON text read with Decimal, never float.
    return json.loads(json.dumps(example, default=str), parse_float=Decimal)


def test_xero_credit_note_example_maps_field_by_field() -> None:
    raw = _xero_example("/CreditNotes")["CreditNotes"][0]
    credit = credit_from_xero(raw, "credit_note")
    assert credit.provider_id == "249f15fa-f2a7-4acc-8769-0984103f2225"
    assert credit.kind is CreditKind.CREDIT_NOTE
    assert credit.number == "CN-0005" and credit.label == "credit note CN-0005"
    assert credit.customer_id == "430fa14a-f945-44d3-9f97-5df5e28441b8"
    assert credit.date == dt.date(2019, 3, 5)
    assert credit.total == Money(Decimal("34.50"), "NZD")
    assert credit.remaining == Money(Decimal("32.50"), "NZD")
    assert credit.updated_at == dt.datetime(2019, 3, 5, 18, 59, 6, 157000, tzinfo=dt.UTC)
    assert not credit.deleted and credit.allocations == ()


def test_xero_supplier_credit_notes_are_not_customers_credit() -> None:
    notes = _xero_example("/CreditNotes")["CreditNotes"]
    keep = is_receivable_credit("credit_note")
    assert [n["Type"] for n in notes if keep(n)] == ["ACCRECCREDIT"]
    with pytest.raises(MappingError, match="Type must be ACCRECCREDIT"):
        credit_from_xero(notes[1], "credit_note")


def test_xero_overpayment_and_prepayment_examples() -> None:
    overpayments = [o for o in _xero_example("/Overpayments")["Overpayments"] if is_receivable_credit("overpayment")(o)]
    assert overpayments, "the spec example has a RECEIVE-OVERPAYMENT"
    credit = credit_from_xero(overpayments[0], "overpayment")
    assert credit.kind is CreditKind.OVERPAYMENT
    assert credit.provider_id == "2a8bda49-8908-473b-8bcf-1f90990460eb"
    assert credit.remaining == Money(Decimal("20.00"), "NZD")
    prepayment = credit_from_xero(_xero_example("/Prepayments")["Prepayments"][0], "prepayment")
    assert prepayment.kind is CreditKind.PREPAYMENT
    assert prepayment.remaining == Money(Decimal("3450.00"), prepayment.total.currency)
    assert prepayment.number == "INV-0011"


@pytest.mark.parametrize(
    ("entity", "customers", "suppliers"),
    [
        ("overpayment", ("RECEIVE-OVERPAYMENT", "AROVERPAYMENT"), ("SPEND-OVERPAYMENT",)),
        ("prepayment", ("RECEIVE-PREPAYMENT", "ARPREPAYMENT"), ("SPEND-PREPAYMENT", "APPREPAYMENT")),
    ],
)
def test_xero_receivable_overpayments_and_prepayments_of_either_type_are_customers_credit(
    entity: str, customers: tuple[str, ...], suppliers: tuple[str, ...]
) -> None:
    # Xero's Overpayment and Prepayment Type enums name two receivable kinds each: one received as
    # money into a bank account (RECEIVE-...), one left over from a payment on invoices (AR...).
    # Missing either would let a final notice go to a customer who is in credit.
    envelope = {"overpayment": "Overpayments", "prepayment": "Prepayments"}[entity]
    example = dict(_xero_example(f"/{envelope}")[envelope][0])
    keep = is_receivable_credit(entity)
    for kind in customers:
        raw = {**example, "Type": kind}
        assert keep(raw)
        assert credit_from_xero(raw, entity).remaining.amount > 0
    for kind in suppliers:
        assert not keep({**example, "Type": kind})
        with pytest.raises(MappingError, match="a customer's credit"):
            credit_from_xero({**example, "Type": kind}, entity)


def _credit_note(**changes: Any) -> dict[str, Any]:
    raw = dict(_xero_example("/CreditNotes")["CreditNotes"][0])
    raw.update(changes)
    return raw


def test_xero_allocations_are_read_and_deleted_ones_left_out() -> None:
    allocation = {
        "Amount": Decimal("2.00"),
        "Date": "/Date(1552521600000+0000)/",
        "Invoice": {"InvoiceID": "c7c37b83-ac95-45ea-88ba-8ad83a5f22fe"},
    }
    raw = _credit_note(Allocations=[allocation, {**allocation, "IsDeleted": True}])
    credit = credit_from_xero(raw, "credit_note")
    assert [(a.invoice_id, a.amount.amount) for a in credit.allocations] == [
        ("c7c37b83-ac95-45ea-88ba-8ad83a5f22fe", Decimal("2.00"))
    ]


@pytest.mark.parametrize("status", ["DRAFT", "SUBMITTED", "VOIDED", "DELETED"])
def test_xero_unapproved_or_void_credit_leaves_nothing_to_apply(status: str) -> None:
    credit = credit_from_xero(_credit_note(Status=status), "credit_note")
    assert credit.remaining.is_zero()
    assert credit.deleted is (status == "DELETED")


def test_xero_credit_with_float_amount_is_refused() -> None:
    with pytest.raises(MappingError, match="RemainingCredit"):
        credit_from_xero(_credit_note(RemainingCredit=32.5), "credit_note")


META = {"CreateTime": "2026-11-02T10:00:00-07:00", "LastUpdatedTime": "2026-11-02T10:00:00-07:00"}


def test_quickbooks_credit_memo_maps_remaining_credit() -> None:
    raw = {
        "Id": "73",
        "DocNumber": "1026",
        "TxnDate": "2026-11-02",
        "CustomerRef": {"value": "7", "name": "Cool Cars"},
        "TotalAmt": Decimal("92.50"),
        "Balance": Decimal("92.50"),
        "RemainingCredit": Decimal("92.50"),
        "CurrencyRef": {"value": "USD"},
        "Line": [],
        "MetaData": META,
    }
    credit = qbo.credit_memo(raw, "USD")
    assert (credit.provider_id, credit.kind, credit.customer_id, credit.number) == (
        "73",
        CreditKind.CREDIT_MEMO,
        "7",
        "1026",
    )
    assert credit.remaining == credit.total == Money(Decimal("92.50"), "USD")
    assert credit.date == dt.date(2026, 11, 2)
    assert credit.updated_at == dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
    older = qbo.credit_memo({**raw, "RemainingCredit": None, "Balance": Decimal("12.00")}, "USD")
    assert older.remaining == Money(Decimal("12.00"), "USD")


def _payment(**changes: Any) -> dict[str, Any]:
    raw = {
        "Id": "90",
        "TxnDate": "2026-11-03",
        "CustomerRef": {"value": "7"},
        "TotalAmt": Decimal("100.00"),
        "UnappliedAmt": Decimal("0"),
        "Line": [],
        "MetaData": META,
    }
    raw.update(changes)
    return raw


def test_quickbooks_unapplied_payment_is_credit() -> None:
    payment = qbo.payment(
        _payment(
            UnappliedAmt=Decimal("25.00"),
            Line=[{"Amount": Decimal("75.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}],
        ),
        "USD",
    )
    assert payment.unapplied == Money(Decimal("25.00"), "USD")
    assert qbo.payment(_payment(), "USD").unapplied is None


def test_quickbooks_payment_line_linking_several_invoices_credits_each() -> None:
    line = {
        "Amount": Decimal("100.00"),
        "LinkedTxn": [
            {"TxnId": "130", "TxnType": "Invoice"},
            {"TxnId": "131", "TxnType": "Invoice"},
            {"TxnId": "132", "TxnType": "Invoice"},
        ],
    }
    payment = qbo.payment(_payment(Line=[line]), "USD")
    assert [a.invoice_id for a in payment.applied_to] == ["130", "131", "132"]
    assert sum((a.amount.amount for a in payment.applied_to), Decimal(0)) == Decimal("100.00")


def test_quickbooks_zero_total_credit_application() -> None:
    """Applying a credit memo to an invoice is a Payment of TotalAmt 0 whose lines link both."""
    lines = [
        {"Amount": Decimal("40.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
        {"Amount": Decimal("40.00"), "LinkedTxn": [{"TxnId": "73", "TxnType": "CreditMemo"}]},
    ]
    payment = qbo.payment(_payment(TotalAmt=Decimal("0"), Line=lines), "USD")
    assert payment.amount.is_zero()
    assert [a.invoice_id for a in payment.applied_to] == ["130"]  # the credit memo is not an invoice
