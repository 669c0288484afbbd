"""Late fees: which overdue invoices are charged a fee today, and how much (rules.late_fees).

Pure, like decide, which calls `LateFeePlanner.charges` once per customer when the rule is on. A fee
is never charged on a disputed, promised or planned invoice (whatever the pause's state: the owner
said the invoice is being talked about), on an invoice that is itself a late fee, on a customer the
owner paused, excluded or who opted out, nor on a customer holding credit they could pay with.
The fee and the cap are amounts in the company's own currency, so only invoices in that currency are
charged: no rate of exchange is in the rules, and the credit policy the customer accepted names the
fee in that currency. Amounts are exact: Decimal, rounded half up to the currency's minor unit, or
to fewer places where the books keep fewer (Xero: two, a dinar's fils included), and the fees on
one invoice (those the owner reversed left out) never pass the cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from types import MappingProxyType

from connectors.contract import Customer, Invoice, InvoiceStatus, amount_text, minor_digits
from integration.policy.actions import ActionKind, PlannedAction, key_digest
from integration.policy.reasons import plural, sentence
from integration.policy.rules import LateFees
from integration.policy.snapshot import CustomerOverride, InvoicePause, LateFeeCharge, Snapshot

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def places(currency: str, booked: int | None = None) -> int:
    """The decimal places of an amount in `currency` as the books keep it: the currency's minor unit
    (cents; whole yen; fils), or the books' own fewer places (`Company.booked_places`)."""
    digits = minor_digits(currency)
    return digits if booked is None else min(digits, booked)


def rounded(amount: Decimal, digits: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """`amount` to `digits` decimal places (see `places`)."""
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=rounding)


def fee_amount(rules: LateFees, balance: Decimal, digits: int, charged: Decimal) -> tuple[Decimal, bool]:
    """The next fee on an invoice with `balance` open and `charged` in fees already: the fixed amount or
    the monthly rate of the balance, to `digits` places, cut down to what the cap leaves (zero:
    nothing to charge), and whether the cap cut it."""
    amount = rounded(rules.amount if rules.kind == "fixed" else balance * rules.rate_pct / HUNDRED, digits)
    if rules.cap > 0:
        # The cap is a ceiling: what is left of it is rounded down, never up past it.
        left = max(rounded(rules.cap - charged, digits, ROUND_DOWN), ZERO)
        if left < amount:
            return left, True
    return amount, False


@dataclass(frozen=True, slots=True)
class DueFee:
    """A fee due today on one invoice: how much, and the date its key rests on (the due date for the
    first fee, the previous fee's date for the next), so deciding again plans nothing twice."""

    amount: Decimal
    anchor: dt.date
    number: int  # 1 for the invoice's first fee
    capped: bool = False  # the cap left less than the full fee


def due_fee(
    rules: LateFees,
    invoice: Invoice,
    pause: InvoicePause | None,
    charges: tuple[LateFeeCharge, ...],
    today: dt.date,
    booked: int | None = None,
) -> DueFee | None:
    """The fee due on `invoice` today under `rules`, or None; `booked`: the books' decimal places."""
    if invoice.status is not InvoiceStatus.OPEN or invoice.balance.amount <= 0:
        return None
    if pause is not None and (pause.disputed or pause.promise_to_pay is not None or pause.plan):
        return None
    due = invoice.due_date or invoice.issue_date
    if (today - due).days <= rules.grace_days:
        return None
    anchor = due
    if charges:
        if rules.kind == "fixed":
            return None  # a fixed fee is charged once per invoice, even when the owner reversed it
        anchor = max(c.date for c in charges)
        if (today - anchor).days < rules.min_days_between:
            return None
    charged = sum((c.amount for c in charges if not c.reversed), ZERO)
    amount, capped = fee_amount(rules, invoice.balance.amount, places(invoice.balance.currency, booked), charged)
    return DueFee(amount, anchor, len(charges) + 1, capped) if amount > 0 else None


class LateFeePlanner:
    """One decide run's late fees: the snapshot's open invoices and past fees indexed once."""

    def __init__(self, snapshot: Snapshot, rules: LateFees, today: dt.date) -> None:
        self.rules, self.today, self.pauses = rules, today, snapshot.pauses
        self.booked = snapshot.company.booked_places
        charged: dict[str, list[LateFeeCharge]] = {}
        for charge in snapshot.history.late_fees:
            charged.setdefault(charge.invoice_id, []).append(charge)
        self.charged = {invoice_id: tuple(found) for invoice_id, found in charged.items()}
        fees = frozenset(c.fee_invoice_id for c in snapshot.history.late_fees if c.fee_invoice_id)
        latest = today.toordinal() - rules.grace_days  # due before this: beyond the grace period
        self.overdue: dict[str, list[Invoice]] = {}
        for invoice in snapshot.invoices:
            if (
                invoice.status is InvoiceStatus.OPEN
                and invoice.balance.currency == snapshot.company.currency
                and (invoice.due_date or invoice.issue_date).toordinal() < latest
                and invoice.provider_id not in fees
            ):
                self.overdue.setdefault(invoice.customer_id, []).append(invoice)

    def charges(
        self, customer: Customer, override: CustomerOverride | None, credit: Mapping[str, object] | None
    ) -> list[PlannedAction]:
        """The fees due today on the customer's invoices (none for a customer who opted out or
        holds credit: the owner applies the credit first)."""
        invoices = self.overdue.get(customer.provider_id)
        if not invoices or credit or (override is not None and (override.opted_out or override.paused)):
            return []
        actions = []
        for invoice in invoices:
            fee = due_fee(
                self.rules,
                invoice,
                self.pauses.get(invoice.provider_id),
                self.charged.get(invoice.provider_id, ()),
                self.today,
                self.booked,
            )
            if fee is not None:
                actions.append(self.action(customer, invoice, fee))
        return actions

    def action(self, customer: Customer, invoice: Invoice, fee: DueFee) -> PlannedAction:
        rules, currency = self.rules, invoice.balance.currency
        days = (self.today - (invoice.due_date or invoice.issue_date)).days
        what = (
            "a fixed late fee"
            if rules.kind == "fixed"
            else f"{rules.rate_pct}% of the open {amount_text(invoice.balance.amount, currency)} for the month"
        )
        reason = sentence(
            f"Invoice {invoice.number} of {customer.name} is {plural(days, 'day')} past due, "
            f"beyond the {plural(rules.grace_days, 'day')} of grace",
            f"charge a late fee of {amount_text(fee.amount, currency)} ({what})",
            f"the cap of {amount_text(rules.cap, currency)} per invoice leaves no more" if fee.capped else "",
        )
        return PlannedAction(
            ActionKind.CHARGE_LATE_FEE,
            customer.provider_id,
            (invoice.provider_id,),
            None,
            (),
            reason,
            key_digest(
                ActionKind.CHARGE_LATE_FEE, customer.provider_id, invoice.provider_id, None, fee.anchor.isoformat()
            ),
            None,
            MappingProxyType(
                {
                    "amount": str(fee.amount),
                    "currency": currency,
                    "invoice_number": invoice.number,
                    "fee_number": fee.number,
                }
            ),
        )
