"""A customer's unapplied credit set against what they owe (pure, on decide's path).

Owners forgive a slow tool, not a final notice to a customer who is in credit. So, per currency:
when the customer's available credit covers the overdue balance, the overdue invoices leave the
ladder (no reminder, no credit hold, no escalation) and the owner gets one task instead: apply the
credit in the accounting system. When the credit covers only part, the ladder goes on with the net
amount: holds weigh what is left, and reminders say "less your unapplied credit of ...".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from connectors.base import Credit, Customer
from integration.policy.actions import ActionKind, PlannedAction, key_digest
from integration.policy.profiles import CustomerFacts
from integration.policy.reasons import sentence
from reminders.formatting import english_list

APPLY_CREDIT = ActionKind.APPLY_CREDIT


@dataclass(frozen=True, slots=True)
class Available:
    """One customer's credit in one currency: the sum left to apply, and the credits, oldest first."""

    amount: Decimal
    credits: tuple[Credit, ...]


def available_credit(credits: Iterable[Credit]) -> dict[str, dict[str, Available]]:
    """customer id -> currency -> what is left to apply (credits with nothing left are not counted)."""
    found: dict[str, dict[str, list[Credit]]] = {}
    for credit in credits:
        if not credit.deleted and credit.remaining.amount > 0:
            found.setdefault(credit.customer_id, {}).setdefault(credit.remaining.currency, []).append(credit)
    return {
        customer_id: {
            currency: Available(sum((c.remaining.amount for c in items), Decimal(0)),
                                tuple(sorted(items, key=lambda c: (c.date, c.provider_id))))
            for currency, items in by_currency.items()
        }
        for customer_id, by_currency in found.items()
    }


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def settle(entry: CustomerFacts, credit: Mapping[str, Available], today: int) -> tuple[list[PlannedAction], dict[str, str]]:
    """Set `credit` against the customer's overdue balance, changing `entry` in place: invoices whose
    currency's credit covers the overdue balance leave `open`, and `overdue`/`oldest_overdue` become
    net of the credit. Returns the owner's apply-credit tasks and, per currency where credit is left
    for the reminders to mention, its amount as text (for the reminder's payload)."""
    tasks: list[PlannedAction] = []
    mention: dict[str, str] = {}
    covered: set[str] = set()
    for currency, available in sorted(credit.items()):
        overdue = entry.overdue.get(currency)
        if overdue is not None and available.amount >= overdue:
            covered.add(currency)
            del entry.overdue[currency]
            tasks.append(_apply_task(entry, currency, available, overdue, today))
            left = available.amount - overdue
        elif overdue is not None:
            entry.overdue[currency] = overdue - available.amount
            left = available.amount
        else:
            left = available.amount
        if left > 0:
            mention[currency] = f"{left:.2f}"
    if covered:
        kept = [(i, d) for i, d in zip(entry.open, entry.due) if not (d < today and i.balance.currency in covered)]
        entry.open, entry.due = [i for i, _ in kept], [d for _, d in kept]
        entry.oldest_overdue = max([today - d for i, d in kept if d < today and not _paused(entry, i)], default=0)
    return tasks, mention


def _paused(entry: CustomerFacts, invoice: object) -> bool:
    state = entry.pauses.get(id(invoice)) if entry.pauses else None
    return state is not None and state.active


def _apply_task(entry: CustomerFacts, currency: str, available: Available, overdue: Decimal, today: int) -> PlannedAction:
    """"Apply the 92.50 USD credit note CN-0001 to INV-0003": the credits needed, oldest first."""
    customer: Customer = entry.customer
    invoices = sorted((i for i, d in zip(entry.open, entry.due)
                       if d < today and i.balance.currency == currency and not _paused(entry, i)),
                      key=lambda i: (i.due_date or i.issue_date, i.number))
    used, needed = [], overdue
    for credit in available.credits:
        used.append(credit)
        needed -= credit.remaining.amount
        if needed <= 0:
            break
    numbers = english_list([i.number for i in invoices])
    what = english_list([f"{money(c.remaining.amount, currency)} {c.label}" for c in used])
    task = f"apply the {what} to {numbers} in the accounting system"
    reason = sentence(
        f"{customer.name} owes {money(overdue, currency)} past due on {numbers} and holds "
        f"{money(available.amount, currency)} of unapplied credit",
        "the credit covers it, so no reminder, credit hold or escalation",
        task,
    )
    ids = tuple(i.provider_id for i in invoices)
    return PlannedAction(
        APPLY_CREDIT, customer.provider_id, ids, None, (), reason,
        key_digest(APPLY_CREDIT, customer.provider_id, ",".join(sorted(ids)), None, ",".join(c.provider_id for c in used)),
        None, MappingProxyType({
            "task": task[0].upper() + task[1:] + ".",
            "currency": currency, "overdue": f"{overdue:.2f}", "available": f"{available.amount:.2f}",
            "credits": [{"id": c.provider_id, "kind": c.kind.value, "number": c.number,
                         "remaining": f"{c.remaining.amount:.2f}"} for c in used],
            "balances": {i.provider_id: f"{i.balance.amount:.2f}" for i in invoices},
        }),
    )
