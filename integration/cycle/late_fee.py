"""Charging a late fee at the provider, once: the executor's helpers for CHARGE_LATE_FEE actions.

The fee's document number is made from the overdue invoice's (`LF-1001`, then `LF-1001-2` for a
monthly rate's second fee), so it names what it is for and finds an earlier write again: an action
found in flight after a crash looks for its fee by that number before writing (QuickBooks' requestid
would also answer a repeat with the first write; Xero honours its Idempotency-Key for minutes only).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.contract import Invoice, LateFee, Money, Note, Provider, amount_text
from integration.policy.actions import ActionKind
from integration.policy.rules import LateFees
from integration.store.models import Action, ActionStatus
from reminders.content import ReminderFee

PREFIX = "LF-"
NUMBER_LIMIT = 21  # QuickBooks' DocNumber; Xero allows 255


def fee_number(invoice_number: str, nth: int, key: str) -> str:
    """`LF-1001`, `LF-1001-2`; when that would not fit QuickBooks' 21 characters, the action key's
    digest stands in for the invoice number (still one number per action)."""
    number = f"{PREFIX}{invoice_number}" + (f"-{nth}" if nth > 1 else "")
    return number if len(number) <= NUMBER_LIMIT else f"{PREFIX}{key[: NUMBER_LIMIT - len(PREFIX)]}"


def number_of(payload: dict[str, Any], key: str) -> str:
    """The fee's document number for a planned action (its ledger payload)."""
    fee: dict[str, Any] = payload["payload"]
    return fee_number(fee["invoice_number"], int(fee.get("fee_number", 1)), key)


def late_fee(
    payload: dict[str, Any], key: str, invoice: Invoice, provider: Provider, rules: LateFees, note: Note
) -> LateFee:
    """The fee a planned action asks for, booked where the owner's rules say for this provider."""
    fee: dict[str, Any] = payload["payload"]
    return LateFee(
        customer_id=invoice.customer_id,
        invoice_id=invoice.provider_id,
        invoice_number=invoice.number,
        amount=Money(Decimal(fee["amount"]), fee["currency"]),
        on=note.on or invoice.issue_date,
        number=number_of(payload, key),
        account=rules.quickbooks_item if provider is Provider.QUICKBOOKS else rules.xero_account_code,
        note=note,
    )


def charged_note(written: Invoice, on: dt.date, action_id: int) -> str:
    """The note on the overdue invoice: what was charged, when, as which document, by which action."""
    return (
        f"Late fee of {amount_text(written.total.amount, written.total.currency)} charged on {on.isoformat()} "
        f"as invoice {written.number}; action {action_id}"
    )


def fees_by_invoice(session: Session, connection_id: int) -> dict[str, tuple[ReminderFee, ...]]:
    """The fees in the books and not reversed, by the overdue invoice they are for and by their own
    invoice: a reminder carrying either says what the fee is and that it is billed apart."""
    found: dict[str, list[ReminderFee]] = {}
    rows = session.scalars(
        select(Action).where(
            Action.connection_id == connection_id,
            Action.kind == ActionKind.CHARGE_LATE_FEE.value,
            Action.status == ActionStatus.DONE,
        )
    )
    for row in rows:
        data = row.payload
        if data.get("fee_invoice_id") and not data.get("reversed"):
            fee = data["payload"]
            said = ReminderFee(
                fee["invoice_number"], data["fee_invoice_number"], Money(Decimal(fee["amount"]), fee["currency"])
            )
            for invoice_id in (data["invoice_ids"][0], data["fee_invoice_id"]):
                found.setdefault(invoice_id, []).append(said)
    return {invoice_id: tuple(fees) for invoice_id, fees in found.items()}
