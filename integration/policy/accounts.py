"""Which account is collected for each customer: QuickBooks jobs billed with their parent are the
parent's account.

A job (or sub-customer) with BillWithParent is invoiced in its own name but billed, statemented and
paid through its parent, so reminders, holds and payment habits belong to the parent. A job billed
on its own (its own email and terms, BillWithParent false) is an account of its own. Both snapshot
builders (the mirror's and a scenario's) apply this before the policy sees the books.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TypeVar

from connectors.contract import Customer, Invoice, Payment

R = TypeVar("R", Invoice, Payment)


def billing_accounts(customers: Iterable[Customer]) -> dict[str, str]:
    """customer id -> the id of the account collected for it, for every customer billed through another."""
    by_id = {c.provider_id: c for c in customers}
    moved: dict[str, str] = {}
    for customer in by_id.values():
        account, seen = customer, {customer.provider_id}
        # Up the chain (Level can be deeper than 1); a parent that is not mirrored, or a loop, stops it.
        while account.bill_with_parent and account.parent_id in by_id and account.parent_id not in seen:
            account = by_id[account.parent_id]
            seen.add(account.provider_id)
        if account is not customer:
            moved[customer.provider_id] = account.provider_id
    return moved


def billed_through(customers: Iterable[Customer], account_id: str) -> frozenset[str]:
    """The ids of `account_id` and of every job billed through it: whose invoices its account holds."""
    moved = billing_accounts(customers)
    return frozenset({account_id} | {job for job, account in moved.items() if account == account_id})


def as_accounts(
    customers: Iterable[Customer], invoices: Iterable[Invoice], payments: Iterable[Payment]
) -> tuple[tuple[Invoice, ...], tuple[Payment, ...]]:
    """The invoices and payments with each job billed with its parent moved onto the parent's account."""
    moved = billing_accounts(customers)
    return _moved(invoices, moved), _moved(payments, moved)


def _moved(records: Iterable[R], moved: Mapping[str, str]) -> tuple[R, ...]:
    if not moved:
        return tuple(records)
    return tuple(
        dataclasses.replace(r, customer_id=moved[r.customer_id]) if r.customer_id in moved else r for r in records
    )
