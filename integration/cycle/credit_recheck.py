"""The send-time re-check of credit: a credit applied or created since a reminder was planned.

The policy set the customer's credit against what they owed when it planned; by the time a reminder
goes out the owner may have issued a credit note or recorded an overpayment. So what reaches the
customer is checked against the credit read from the provider now: invoices whose currency's credit
covers their balance are left out (all of them covered: the reminder is skipped), and the credit
that remains is stated in the email ("less your unapplied credit of ...").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from connectors.contract import Connector, Credit, Invoice, Money


class CreditReads:
    """Each customer's credit read once per execution run (a reminder and its re-sends share it)."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self._by_customer: dict[str, list[Credit]] = {}

    def take(self, customer_id: str) -> list[Credit]:
        if customer_id not in self._by_customer:
            self._by_customer[customer_id] = self._connector.get_credits(customer_id)
        return self._by_customer[customer_id]


def effective_credit(planned: Mapping[str, Mapping[str, str]], live: Sequence[Credit]) -> dict[str, Decimal]:
    """Per currency, the credit a reminder may still count on now: what the policy left over for it
    (`planned`, the reminder's payload `credit`), plus credit that appeared since, and never more
    than the customer holds now (credit applied since planning went to the invoices it covered)."""
    now: dict[str, Decimal] = {}
    for credit in live:
        if not credit.deleted and credit.remaining.amount > 0:
            currency = credit.remaining.currency
            now[currency] = now.get(currency, Decimal(0)) + credit.remaining.amount
    found = {}
    for currency in set(now) | set(planned):
        plan = planned.get(currency, {})
        held = now.get(currency, Decimal(0))
        found[currency] = min(
            held, Decimal(plan.get("left", "0")) + max(held - Decimal(plan.get("available", "0")), Decimal(0))
        )
    return found


def uncovered(
    invoices: Sequence[Invoice], available: Mapping[str, Decimal]
) -> tuple[list[Invoice], dict[str, Money], str]:
    """The invoices the credit does not cover, the credit to state per currency, and why the others went."""
    owed: dict[str, Decimal] = {}
    for invoice in invoices:
        owed[invoice.balance.currency] = owed.get(invoice.balance.currency, Decimal(0)) + invoice.balance.amount
    covered = {c for c, amount in owed.items() if available.get(c, Decimal(0)) >= amount}
    kept = [i for i in invoices if i.balance.currency not in covered]
    mention = {c: Money(available[c], c) for c in owed if available.get(c, Decimal(0)) > 0 and c not in covered}
    why = "; ".join(
        f"the customer's unapplied credit of {available[c]:.2f} {c} now covers the {owed[c]:.2f} {c} "
        "this was to ask for"
        for c in sorted(covered)
    )
    return kept, mention, why
