"""When a customer usually pays each of their open invoices, from their own payment history.

The same prediction decide uses for the habit wait (`integration.policy.prediction`): the median
lateness of the customer's comparable paid invoices, added to the invoice's due date. None for an
invoice of a customer with too little history to say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy.orm import Session

from integration.cycle.gather import load_snapshot
from integration.owner.stored_rules import load_rules
from integration.policy.aging import is_open, local_today
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


def usual_payment_of_customers(
    session: Session, organization_id: int, connection_id: int, now: dt.datetime, customer_ids: Collection[str]
) -> dict[str, dict[str, dt.date | None]]:
    """customer provider id -> `usual_payment_dates` of their open invoices, for a few customers of one
    company (the day's call list), read in one snapshot of those customers alone."""
    snapshot = load_snapshot(session, connection_id, now, customer_ids, ledger=False)
    rules = load_rules(session, organization_id, connection_id)
    today = local_today(now, snapshot.company.timezone)
    return {customer_id: usual_payment_dates(snapshot, rules, today, customer_id) for customer_id in customer_ids}
