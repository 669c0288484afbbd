"""Account plans as the owner's word: instalments over several open invoices of one customer, checked
before they are stored (`account_plans`, at most one per customer).

The owner chooses the invoices (or all open ones), the number of instalments and the first date; a
schedule is suggested (`suggested`) and edited. A customer may propose one on their page, within
the rules' `plans` limits. Either way the instalments must add up to the covered invoices' open
balance, lie ahead in date order and no further than `pauses.max_days_ahead`. A check that fails
raises `OwnerWordError` naming the field, and nothing is written. decide reads the rows through
`integration.cycle.gather.plan_records`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus, amount_text, minor_digits
from integration.cycle.gather import customer_record
from integration.owner.overrides import MAX_INSTALMENTS, OwnerWordError, check_amounts, plan_to_store, stored_plan
from integration.owner.stored_rules import load_rules
from integration.policy.account_plans import PlanStanding, standing
from integration.policy.accounts import billed_through
from integration.policy.rules import Rules
from integration.policy.snapshot import AccountPlan as PlanRecord
from integration.policy.snapshot import Instalment
from integration.policy.statements import statement_day
from integration.store.models import AccountPlan, ActivityEntry, MirroredCustomer, MirroredInvoice
from reminders.formatting import english_list

ACTIVITY_KIND = "account_plan"


@dataclass(frozen=True)
class PlanWord:
    """A plan as typed: the covered invoices (provider ids) and the instalments, in date order."""

    invoice_ids: tuple[str, ...]
    instalments: tuple[Instalment, ...]


@dataclass(frozen=True)
class SavedPlan:
    sentence: str  # "payment plan for invoices 1001, 1002: ...", for the books' note and confirmations
    entry_id: int  # its activity entry
    invoice_ids: tuple[str, ...]


@dataclass(frozen=True)
class StoredAccountPlan:
    invoice_ids: tuple[str, ...]
    instalments: tuple[Instalment, ...]
    proposed_by: str
    paid_before: Decimal
    currency: str  # its invoices' (one plan, one currency), whatever the customer's other invoices are in


def suggested(
    balance: Decimal, count: int, first: dt.date, every_days: int | None = 30, *, currency: str
) -> tuple[Instalment, ...]:
    """`count` instalments from `first`, `every_days` apart (None: a calendar month apart, on the
    first's day or the month's last, so 31 January is followed by 29 February), even to the
    currency's minor unit (cents, whole yen, fils); the last takes the rest."""
    if count < 1:
        raise OwnerWordError("count", "Choose at least one instalment.")
    if count > MAX_INSTALMENTS:
        raise OwnerWordError("count", f"A plan has at most {MAX_INSTALMENTS} instalments.")
    share = (balance / count).quantize(Decimal(1).scaleb(-minor_digits(currency)), rounding=ROUND_DOWN)
    amounts = [share] * (count - 1) + [balance - share * (count - 1)]
    return tuple(Instalment(_nth_date(first, n, every_days), a) for n, a in enumerate(amounts))


def _nth_date(first: dt.date, n: int, every_days: int | None) -> dt.date:
    if every_days is not None:
        return first + dt.timedelta(days=every_days * n)
    year, month = divmod(first.month - 1 + n, 12)
    return statement_day(first.year + year, month + 1, first.day)


def one_currency(invoices: Sequence[MirroredInvoice]) -> str:
    """The currency of every invoice a plan covers: instalments are amounts in one currency."""
    currencies = sorted({i.currency for i in invoices})
    if len(currencies) > 1:
        raise OwnerWordError(
            "invoices",
            f"A plan covers invoices of one currency; these are in {english_list(currencies)}: "
            "make one plan per currency.",
        )
    return currencies[0]


def open_invoices(db: Session, customer: MirroredCustomer) -> list[MirroredInvoice]:
    """The open invoices with something left to pay of the customer and of the jobs billed with it
    (their account, as the customer's page shows it), oldest due first."""
    customers = db.scalars(
        select(MirroredCustomer).where(
            MirroredCustomer.connection_id == customer.connection_id, MirroredCustomer.deleted.is_(False)
        )
    )
    members = billed_through((customer_record(c) for c in customers), customer.provider_id)
    return list(
        db.scalars(
            select(MirroredInvoice)
            .where(
                MirroredInvoice.connection_id == customer.connection_id,
                MirroredInvoice.customer_provider_id.in_(members),
                MirroredInvoice.status == InvoiceStatus.OPEN.value,
                MirroredInvoice.balance > 0,
            )
            .order_by(MirroredInvoice.due_date, MirroredInvoice.number)
        )
    )


def check_plan(
    word: PlanWord,
    invoices: Sequence[MirroredInvoice],
    today: dt.date,
    rules: Rules,
    *,
    by_customer: bool = False,
) -> Decimal:
    """The covered open balance, once `word` passes every check against the customer's open
    `invoices`; a customer's proposal also keeps to the rules' `plans` limits."""
    mine = {i.provider_id: i for i in invoices}
    if not word.invoice_ids:
        raise OwnerWordError("invoices", "Choose at least one open invoice for the plan.")
    foreign = [i for i in word.invoice_ids if i not in mine]
    if foreign:
        raise OwnerWordError("invoices", "Only this customer's open invoices can be in the plan.")
    limit = rules.plans.customer_max_instalments if by_customer else MAX_INSTALMENTS
    if by_customer and limit == 0:
        raise OwnerWordError("instalments", "Payment plans are agreed with us directly: please get in touch.")
    plan = word.instalments
    if not plan:
        raise OwnerWordError("instalments", "Give at least one instalment: a date and an amount.")
    if len(plan) > limit:
        raise OwnerWordError("instalments", f"A plan has at most {limit} instalments.")
    dates = [i.date for i in plan]
    if dates != sorted(set(dates)):
        raise OwnerWordError("instalments", "Give each instalment its own date, in order.")
    if dates[0] < today:
        raise OwnerWordError("instalments", f"Instalment dates cannot be in the past (today is {today.isoformat()}).")
    first_by = today + dt.timedelta(days=rules.plans.first_payment_within_days)
    if by_customer and dates[0] > first_by:
        raise OwnerWordError("instalments", f"The first payment must be on or before {first_by.isoformat()}.")
    latest = rules.pauses.latest_date(today)
    if dates[-1] > latest:
        raise OwnerWordError(
            "instalments", f"The last instalment can be at most {rules.pauses.max_days_ahead} days ahead ({latest})."
        )
    covered = [mine[i] for i in word.invoice_ids]
    currency = one_currency(covered)
    check_amounts(plan, currency, "instalments")
    balance = sum((i.balance for i in covered), Decimal(0))
    total = sum((i.amount for i in plan), Decimal(0))
    if total != balance:
        raise OwnerWordError(
            "instalments",
            f"The instalments add up to {amount_text(total, currency)}; "
            f"the open balance of the chosen invoices is {amount_text(balance, currency)}.",
        )
    return balance


def stored_account_plan(db: Session, customer: MirroredCustomer) -> StoredAccountPlan | None:
    row = _row(db, customer)
    if row is None:
        return None
    currency = db.scalar(
        select(MirroredInvoice.currency).where(
            MirroredInvoice.connection_id == customer.connection_id,
            MirroredInvoice.provider_id.in_(row.invoice_ids),
        )
    )
    return StoredAccountPlan(
        tuple(row.invoice_ids),
        stored_plan(row.instalments),
        row.proposed_by,
        row.paid_before,
        currency or customer.currency,
    )


def plan_standing(
    db: Session, organization_id: int, customer: MirroredCustomer, plan: StoredAccountPlan, today: dt.date
) -> PlanStanding:
    """Where the plan stands on the mirrored books today, as decide judges it (kept, missed, paid)."""
    rules = load_rules(db, organization_id, customer.connection_id)
    paid = sum(
        (
            i.total - i.balance
            for i in db.scalars(
                select(MirroredInvoice).where(
                    MirroredInvoice.connection_id == customer.connection_id,
                    MirroredInvoice.provider_id.in_(plan.invoice_ids),
                )
            )
        ),
        Decimal(0),
    )
    record = PlanRecord("", customer.provider_id, plan.invoice_ids, plan.instalments, plan.paid_before)
    return standing(record, paid - plan.paid_before, today.toordinal(), rules)


def save_account_plan(
    db: Session,
    organization_id: int,
    customer: MirroredCustomer,
    word: PlanWord,
    today: dt.date,
    *,
    by_customer: bool = False,
) -> SavedPlan:
    """Check `word`, store it in place of any earlier plan of the customer, and log it."""
    rules = load_rules(db, organization_id, customer.connection_id)
    invoices = open_invoices(db, customer)
    check_plan(word, invoices, today, rules, by_customer=by_customer)
    covered = [i for i in invoices if i.provider_id in word.invoice_ids]
    row = _row(db, customer)
    if row is None:
        row = AccountPlan(connection_id=customer.connection_id, customer_provider_id=customer.provider_id)
        db.add(row)
    row.invoice_ids = [i.provider_id for i in covered]
    row.instalments = plan_to_store(word.instalments, covered[0].currency)
    # A new plan starts from what is paid now: instalments count only what is paid after it.
    row.paid_before = sum((i.total - i.balance for i in covered), Decimal(0))
    row.proposed_by = "customer" if by_customer else "owner"
    sentence = describe(word.instalments, [i.number for i in covered], covered[0].currency)
    entry = _log(db, organization_id, customer, sentence, by_customer, row.invoice_ids, row.instalments)
    db.flush()
    return SavedPlan(sentence, entry.id, tuple(row.invoice_ids))


def remove_account_plan(db: Session, organization_id: int, customer: MirroredCustomer) -> None:
    row = _row(db, customer)
    if row is None:
        return
    db.delete(row)
    _log(db, organization_id, customer, "payment plan removed", False, list(row.invoice_ids), [])
    db.flush()


def describe(instalments: Iterable[Instalment], numbers: Sequence[str], currency: str) -> str:
    """`payment plan for invoices 1001, 1002: 100.00 USD on 2026-07-01, 100.00 USD on 2026-08-01`."""
    paid = ", ".join(f"{amount_text(i.amount, currency)} on {i.date.isoformat()}" for i in instalments)
    return f"payment plan for invoice{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}: {paid}"


def _log(
    db: Session,
    organization_id: int,
    customer: MirroredCustomer,
    sentence: str,
    by_customer: bool,
    invoice_ids: list[str],
    instalments: list[dict[str, str]],
) -> ActivityEntry:
    whose = "proposed by the customer on their page" if by_customer else "set by the owner"
    entry = ActivityEntry(
        organization_id=organization_id,
        connection_id=customer.connection_id,
        kind=ACTIVITY_KIND,
        message=f"{customer.name}: {sentence} ({whose}).",
        customer_provider_id=customer.provider_id,
        details={"invoice_ids": invoice_ids, "instalments": instalments, "by_customer": by_customer},
    )
    db.add(entry)
    return entry


def _row(db: Session, customer: MirroredCustomer) -> AccountPlan | None:
    return db.scalar(
        select(AccountPlan).where(
            AccountPlan.connection_id == customer.connection_id,
            AccountPlan.customer_provider_id == customer.provider_id,
        )
    )
