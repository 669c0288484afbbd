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
    snapshot: Snapshot, rules: Rules, today: dt.date, customer_ids: Collection[str]
) -> dict[str, dict[str, dt.date | None]]:
    """customer provider id -> (invoice provider id -> the day the customer usually pays it), for each
    of those customers' open invoices; the snapshot's facts are gathered once for all of them."""
    facts = gather(snapshot, rules, today).facts
    habits = {c: habit_of(facts[c]) if c in facts else None for c in customer_ids}
    dates: dict[str, dict[str, dt.date | None]] = {c: {} for c in customer_ids}
    for invoice in snapshot.invoices:
        if invoice.customer_id not in dates or not is_open(invoice):
            continue
        habit = habits[invoice.customer_id]
        due = invoice.due_date or invoice.issue_date
        dates[invoice.customer_id][invoice.provider_id] = (
            habit.for_due(due, rules.mid_month.month_end_days).paid_around(due) if habit is not None else None
        )
    return dates


def usual_payment_of_customers(
    session: Session, organization_id: int, connection_id: int, now: dt.datetime, customer_ids: Collection[str]
) -> dict[str, dict[str, dt.date | None]]:
    """`usual_payment_dates` for a few customers of one company (the day's call list), read in one
    snapshot of those customers' books alone."""
    snapshot = load_snapshot(session, connection_id, now, customer_ids, ledger=False)
    rules = load_rules(session, organization_id, connection_id)
    return usual_payment_dates(snapshot, rules, local_today(now, snapshot.company.timezone), customer_ids)
