"""The owner's word on one customer (pause, exclude, custom grace, opted out) and on one invoice
(disputed, promised by a date, on a payment plan), checked before it is stored.

decide reads these through `integration.cycle.gather` (CustomerOverride and InvoicePause rows): a
paused or excluded customer gets nothing, a disputed, promised or planned invoice waits. A check
that fails raises `OwnerWordError` naming the field, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.contract import amount_text, minor_digits
from integration.owner.stored_rules import load_rules
from integration.policy.rules import Pauses
from integration.policy.snapshot import Instalment
from integration.store.models import ActivityEntry, CustomerOverride, InvoicePause, MirroredCustomer, MirroredInvoice

GRACE_RANGE = (-30, 90)  # days; below zero brings the ladder forward for this customer
MAX_INSTALMENTS = 36
NOTE_LIMIT = 2000


class OwnerWordError(ValueError):
    """A value the owner typed that cannot be stored; `.field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CustomerWord:
    paused: bool = False
    excluded: bool = False
    grace_days: int | None = None  # None: the rules' grace
    opted_out: bool = False

    def __post_init__(self) -> None:
        low, high = GRACE_RANGE
        if self.grace_days is not None and not low <= self.grace_days <= high:
            raise OwnerWordError("grace_days", f"Enter a number of days from {low} to {high}, or leave it empty.")


@dataclass(frozen=True)
class InvoiceWord:
    disputed: bool = False
    promise_to_pay: dt.date | None = None
    plan: tuple[Instalment, ...] = ()
    note: str = ""
    says_paid: bool = False  # the customer said so on their page; cleared when the owner has checked

    def check(
        self, invoice: MirroredInvoice, today: dt.date, pauses: Pauses, stored: InvoiceWord | None = None
    ) -> None:
        """Against the invoice as mirrored and the company's today: promises and instalments lie
        ahead, no further than the rules' `pauses.max_days_ahead`, and a plan covers exactly the
        open balance (then missing an instalment is clear). A promise or plan the `stored` word
        already holds is not checked again: one agreed last month has an instalment behind it and
        a balance part paid, and stands as agreed."""
        stored = stored or InvoiceWord()
        latest = pauses.latest_date(today)
        if self.promise_to_pay is not None and self.promise_to_pay != stored.promise_to_pay:
            if self.promise_to_pay < today:
                raise OwnerWordError(
                    "promise_to_pay", f"A promised date cannot be in the past (today is {today.isoformat()})."
                )
            if self.promise_to_pay > latest:
                raise OwnerWordError("promise_to_pay", _too_far("A promised date", pauses, latest))
        if len(self.note) > NOTE_LIMIT:
            raise OwnerWordError("note", f"Keep the note to {NOTE_LIMIT} characters.")
        if not self.plan or self.plan == stored.plan:
            return
        if len(self.plan) > MAX_INSTALMENTS:
            raise OwnerWordError("plan", f"A plan has at most {MAX_INSTALMENTS} instalments.")
        dates = [i.date for i in self.plan]
        if len(set(dates)) != len(dates):
            raise OwnerWordError("plan", "Give each instalment its own date.")
        if min(dates) < today:
            raise OwnerWordError("plan", f"Instalment dates cannot be in the past (today is {today.isoformat()}).")
        if max(dates) > latest:
            raise OwnerWordError("plan", _too_far("An instalment", pauses, latest))
        check_amounts(self.plan, invoice.currency, "plan")
        total = sum((i.amount for i in self.plan), Decimal(0))
        if total != invoice.balance:
            raise OwnerWordError(
                "plan",
                f"The instalments add up to {amount_text(total, invoice.currency)}; "
                f"the open balance is {amount_text(invoice.balance, invoice.currency)}.",
            )

    @property
    def empty(self) -> bool:
        return not (self.disputed or self.promise_to_pay or self.plan or self.note or self.says_paid)


def _too_far(what: str, pauses: Pauses, latest: dt.date) -> str:
    return (
        f"{what} can be at most {pauses.max_days_ahead} days ahead (until {latest.isoformat()}); "
        "the limit is under Settings, Disputes, promises and payment plans."
    )


def parse_plan(text: str) -> tuple[Instalment, ...]:
    """Instalments typed one per line as `2026-12-01 250.00` (a comma or tab between also does)."""
    plan = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        if len(parts) != 2:
            raise OwnerWordError("plan", f"Line {number}: write a date and an amount, like 2026-12-01 250.00.")
        try:
            when = dt.date.fromisoformat(parts[0])
        except ValueError:
            raise OwnerWordError("plan", f"Line {number}: {parts[0]!r} is not a date like 2026-12-01.") from None
        try:
            amount = Decimal(parts[1])
        except ArithmeticError:
            raise OwnerWordError("plan", f"Line {number}: {parts[1]!r} is not an amount like 250.00.") from None
        if not amount.is_finite():
            raise OwnerWordError("plan", f"Line {number}: {parts[1]!r} is not an amount like 250.00.")
        plan.append(Instalment(when, amount))
    return tuple(sorted(plan, key=lambda i: i.date))


def finer_than_unit(amount: Decimal, currency: str) -> bool:
    """Whether `amount` has digits below the currency's minor unit (half a yen, 10.1255 dinars).
    Normalized, 5.000 dollars is five dollars; reading the exponent never raises, where quantize
    would on 1e40."""
    exponent = amount.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent > minor_digits(currency)


def check_amounts(plan: Iterable[Instalment], currency: str, field: str) -> None:
    """Each instalment above zero and payable: no finer than the currency's minor unit (whole yen,
    fils of a dinar), so the plan's sum is what can be paid."""
    for instalment in plan:
        if instalment.amount <= 0 or finer_than_unit(instalment.amount, currency):
            raise OwnerWordError(
                field,
                f"The instalment due {instalment.date.isoformat()} needs an amount above zero, "
                f"like {amount_text(Decimal(250), currency)}.",
            )


def plan_text(plan: Iterable[Instalment], currency: str) -> str:
    """A plan as the owner types it, each amount to the currency's minor unit."""
    return "\n".join(f"{i.date.isoformat()} {i.amount:.{minor_digits(currency)}f}" for i in plan)


def stored_plan(plan: list[dict[str, str]] | None) -> tuple[Instalment, ...]:
    """A plan as InvoicePause.plan stores it (`[{"date": "2026-12-01", "amount": "250.00"}]`), read back."""
    return tuple(Instalment(dt.date.fromisoformat(i["date"]), Decimal(i["amount"])) for i in plan or ())


def plan_to_store(plan: Iterable[Instalment], currency: str) -> list[dict[str, str]]:
    """Amounts as checked (`check_amounts`): to the currency's minor unit, never rounded."""
    return [{"date": i.date.isoformat(), "amount": f"{i.amount:.{minor_digits(currency)}f}"} for i in plan]


def customer_word(db: Session, customer: MirroredCustomer) -> CustomerWord:
    row = _override(db, customer)
    if row is None:
        return CustomerWord()
    return CustomerWord(row.paused, row.excluded, row.grace_days, row.opted_out)


def save_customer_word(db: Session, organization_id: int, customer: MirroredCustomer, word: CustomerWord) -> None:
    """Store `word`, and record a change in the activity log (part of the customer's collection record)."""
    if customer_word(db, customer) == word:
        return
    row = _override(db, customer)
    if row is None:
        row = CustomerOverride(connection_id=customer.connection_id, customer_provider_id=customer.provider_id)
        db.add(row)
    row.paused, row.excluded, row.grace_days, row.opted_out = (
        word.paused,
        word.excluded,
        word.grace_days,
        word.opted_out,
    )
    said = [
        text
        for on, text in (
            (word.paused, "reminders paused"),
            (word.excluded, "excluded from arpilot"),
            (word.opted_out, "opted out of reminder emails"),
        )
        if on
    ]
    if word.grace_days is not None:
        said.append(f"custom grace of {word.grace_days} days")
    db.add(
        ActivityEntry(
            organization_id=organization_id,
            connection_id=customer.connection_id,
            kind="owner_customer_settings",
            message=f"{customer.name}: {'; '.join(said) or 'back to the rules'} (set by the owner).",
            customer_provider_id=customer.provider_id,
            details=asdict(word),
        )
    )
    db.flush()


def invoice_pauses(db: Session, invoices: list[MirroredInvoice]) -> dict[int, InvoicePause]:
    """The stored pause of each invoice that has one, by the invoice's row id."""
    wanted = {(i.connection_id, i.provider_id): i.id for i in invoices}
    if not wanted:
        return {}
    rows = db.scalars(
        select(InvoicePause).where(
            InvoicePause.connection_id.in_({c for c, _ in wanted}),
            InvoicePause.invoice_provider_id.in_({p for _, p in wanted}),
        )
    )
    return {
        wanted[(r.connection_id, r.invoice_provider_id)]: r
        for r in rows
        if (r.connection_id, r.invoice_provider_id) in wanted
    }


def stored_invoice_word(row: InvoicePause | None) -> InvoiceWord:
    """The word a stored pause holds (no pause: the empty word)."""
    if row is None:
        return InvoiceWord()
    return InvoiceWord(row.disputed, row.promise_to_pay, stored_plan(row.plan), row.note or "", row.says_paid)


def save_invoice_word(
    db: Session,
    organization_id: int,
    invoice: MirroredInvoice,
    word: InvoiceWord,
    today: dt.date,
    *,
    said_by: str = "set by the owner",
) -> None:
    """Check `word` and store it (an empty word removes the pause); a change is recorded in the
    activity log, so disputes, promises and plans are part of the customer's collection record.
    `said_by` names whose word it is in that entry (the customer's page passes its own)."""
    row = db.scalar(
        select(InvoicePause).where(
            InvoicePause.connection_id == invoice.connection_id, InvoicePause.invoice_provider_id == invoice.provider_id
        )
    )
    stored = stored_invoice_word(row)
    word.check(invoice, today, load_rules(db, organization_id, invoice.connection_id).pauses, stored)
    if word == stored:
        return
    planned = plan_to_store(word.plan, invoice.currency)
    if word.empty:
        if row is not None:
            db.delete(row)
    else:
        if row is None:
            row = InvoicePause(connection_id=invoice.connection_id, invoice_provider_id=invoice.provider_id)
            db.add(row)
        if word.plan != stored.plan:
            # A new plan starts from what is paid now; an unchanged plan keeps its starting point.
            row.plan_paid_before = invoice.total - invoice.balance if planned else Decimal(0)
        row.disputed, row.promise_to_pay, row.plan, row.note, row.says_paid = (
            word.disputed,
            word.promise_to_pay,
            planned,
            word.note or None,
            word.says_paid,
        )
    db.add(
        ActivityEntry(
            organization_id=organization_id,
            connection_id=invoice.connection_id,
            kind="owner_invoice_settings",
            message=f"Invoice {invoice.number}: {_said(word, invoice.currency)} ({said_by}).",
            customer_provider_id=invoice.customer_provider_id,
            invoice_provider_id=invoice.provider_id,
            details={
                "disputed": word.disputed,
                "promise_to_pay": word.promise_to_pay.isoformat() if word.promise_to_pay else None,
                "plan": planned,
                "note": word.note,
                "says_paid": word.says_paid,
            },
        )
    )
    db.flush()


def _said(word: InvoiceWord, currency: str) -> str:
    said = []
    if word.disputed:
        said.append("disputed")
    if word.promise_to_pay is not None:
        said.append(f"promised to pay by {word.promise_to_pay.isoformat()}")
    if word.plan:
        said.append(
            "payment plan of "
            + ", ".join(f"{amount_text(i.amount, currency)} on {i.date.isoformat()}" for i in word.plan)
        )
    if word.says_paid:
        said.append("the customer says it is paid: check for the payment")
    if word.note:
        said.append(f"note: {word.note}")
    return "; ".join(said) or "dispute, promise and plan cleared"


def _override(db: Session, customer: MirroredCustomer) -> CustomerOverride | None:
    return db.scalar(
        select(CustomerOverride).where(
            CustomerOverride.connection_id == customer.connection_id,
            CustomerOverride.customer_provider_id == customer.provider_id,
        )
    )
