"""When a customer usually pays each of their open invoices, from their own payment history.

The same prediction decide uses for the habit wait (`integration.policy.prediction`): the median
lateness of the customer's comparable paid invoices, added to the invoice's due date. None for an
invoice of a customer with too little history to say.
"""

from __future__ import annotations

import datetime as dt

from integration.policy.aging import is_open
from integration.policy.prediction import habit_of
from integration.policy.profiles import gather
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot


def usual_payment_dates(
    snapshot: Snapshot, rules: Rules, today: dt.date, customer_id: str
) -> dict[str, dt.date | None]:
    """invoice provider id -> the day the customer usually pays it, for each of their open invoices."""
    facts = gather(snapshot, rules, today).facts.get(customer_id)
    habit = habit_of(facts) if facts is not None else None
    dates: dict[str, dt.date | None] = {}
    for invoice in snapshot.invoices:
        if invoice.customer_id != customer_id or not is_open(invoice):
            continue
        due = invoice.due_date or invoice.issue_date
        dates[invoice.provider_id] = (
            habit.for_due(due, rules.mid_month.month_end_days).paid_around(due) if habit is not None else None
        )
    return dates
