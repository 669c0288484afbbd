"""A customer's unapplied credit set against what they owe (pure, on decide's path).

Owners forgive a slow tool, not a final notice to a customer who is in credit. So, per currency,
the customer's available credit is set against their open invoices oldest first: the invoices it
covers leave the ladder (no reminder, no credit hold, no escalation) and the owner gets one task
instead, to apply the credit in the accounting system. What the credit cannot cover stays on the
ladder with the net amount: holds weigh the overdue balance less the credit, and reminders say
"less your unapplied credit of ...".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from connectors.contract import Credit, Customer, Invoice, InvoiceStatus
from integration.policy.actions import ActionKind, PlannedAction, key_digest
from integration.policy.profiles import CustomerFacts
from integration.policy.reasons import sentence
from integration.policy.snapshot import Snapshot
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
            currency: Available(
                sum((c.remaining.amount for c in items), Decimal(0)),
                tuple(sorted(items, key=lambda c: (c.date, c.provider_id))),
            )
            for currency, items in by_currency.items()
        }
        for customer_id, by_currency in found.items()
    }


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def cover(invoices: Iterable[Invoice], available: Decimal) -> tuple[list[Invoice], Decimal]:
    """The invoices the credit pays in full, oldest due first (the way an owner applies it), and
    the credit left after them. An invoice too big for what is left stays open, and so do the
    later ones: credit goes to the oldest debt first."""
    covered, left = [], available
    for invoice in sorted(invoices, key=lambda i: (i.due_date or i.issue_date, i.number, i.provider_id)):
        if invoice.balance.amount > left:
            break
        covered.append(invoice)
        left -= invoice.balance.amount
    return covered, left


def settle(
    entry: CustomerFacts, credit: Mapping[str, Available], today: int
) -> tuple[list[PlannedAction], dict[str, dict[str, str]]]:
    """Set `credit` against the customer's open invoices, changing `entry` in place: the invoices
    it covers (`cover`) leave `open`, and `overdue`/`oldest_overdue` become net of the credit.
    Returns the owner's apply-credit tasks and, per currency with credit, what reminders say of
    it: the credit `left` after the covered invoices and all of it `available` (the executor's
    re-check compares the credit it reads when sending with these)."""
    tasks: list[PlannedAction] = []
    mention: dict[str, dict[str, str]] = {}
    gone: set[int] = set()  # id() of the covered invoice objects: the records themselves, not their provider ids
    for currency, available in sorted(credit.items()):
        candidates = [o.invoice for o in entry.open if o.invoice.balance.currency == currency and not o.pause.active]
        covered, left = cover(candidates, available.amount)
        if covered:
            tasks.append(_apply_task(entry.customer, currency, available, covered))
            gone.update(id(i) for i in covered)
        overdue = entry.overdue.get(currency)
        if overdue is not None:
            if overdue > available.amount:
                entry.overdue[currency] = overdue - available.amount
            else:
                del entry.overdue[currency]
        mention[currency] = {"available": f"{available.amount:.2f}", "left": f"{left:.2f}"}
    if gone:
        entry.open = [o for o in entry.open if id(o.invoice) not in gone]
        entry.open_count -= len(gone)
        entry.oldest_overdue = max(
            [today - o.due for o in entry.open if o.due < today and not o.pause.active], default=0
        )
    return tasks, mention


def _apply_task(customer: Customer, currency: str, available: Available, invoices: list[Invoice]) -> PlannedAction:
    """ "Apply the 92.50 USD credit note CN-0001 to INV-0003": the credits needed, oldest first."""
    owed = sum((i.balance.amount for i in invoices), Decimal(0))
    used, needed = [], owed
    for credit in available.credits:
        used.append(credit)
        needed -= credit.remaining.amount
        if needed <= 0:
            break
    numbers = english_list([i.number for i in invoices])
    what = english_list([f"{money(c.remaining.amount, currency)} {c.label}" for c in used])
    task = f"apply the {what} to {numbers} in the accounting system"
    reason = sentence(
        f"{customer.name} owes {money(owed, currency)} on {numbers} and holds {money(available.amount, currency)} "
        "of unapplied credit",
        "the credit covers it, so no reminder, credit hold or escalation",
        task,
    )
    ids = tuple(i.provider_id for i in invoices)
    return PlannedAction(
        APPLY_CREDIT,
        customer.provider_id,
        ids,
        None,
        (),
        reason,
        key_digest(
            APPLY_CREDIT, customer.provider_id, ",".join(sorted(ids)), None, ",".join(c.provider_id for c in used)
        ),
        None,
        MappingProxyType(
            {
                "task": task[0].upper() + task[1:] + ".",
                "currency": currency,
                "owed": f"{owed:.2f}",
                "available": f"{available.amount:.2f}",
                "credits": [
                    {
                        "id": c.provider_id,
                        "kind": c.kind.value,
                        "number": c.number,
                        "remaining": f"{c.remaining.amount:.2f}",
                    }
                    for c in used
                ],
                "balances": {i.provider_id: f"{i.balance.amount:.2f}" for i in invoices},
            }
        ),
    )


def settled_invoices(snapshot: Snapshot) -> set[str]:
    """The invoices nothing should be asked for on the snapshot's day: paid or closed, or covered
    by the customer's credit (`cover`, paused invoices included)."""
    settled: set[str] = set()
    candidates: dict[tuple[str, str], list[Invoice]] = {}
    credit = available_credit(snapshot.credits)
    for invoice in snapshot.invoices:
        if invoice.status is not InvoiceStatus.OPEN or invoice.balance.amount <= 0:
            settled.add(invoice.provider_id)
        elif invoice.customer_id in credit:
            candidates.setdefault((invoice.customer_id, invoice.balance.currency), []).append(invoice)
    for (customer_id, currency), invoices in candidates.items():
        available = credit[customer_id].get(currency)
        if available is not None:
            settled.update(i.provider_id for i in cover(invoices, available.amount)[0])
    return settled
