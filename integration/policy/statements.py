"""The monthly statement of account: on the owner's day, one statement to each customer who owes
something (rules.statements; off by default, so decide plans none).

The key names the customer and the statement's date, so a cycle that runs again that day plans
nothing new, and next month's statement is a new action.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict

from connectors.contract import Invoice
from integration.policy.actions import ActionKind, PlannedAction, idempotency_key
from integration.policy.aging import is_open
from integration.policy.recipients import addresses
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot


def statement_day(year: int, month: int, day_of_month: int) -> dt.date:
    """The owner's day in that month, or the month's last day when it has fewer days (31 in April: 30)."""
    return dt.date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def statement_actions(snapshot: Snapshot, rules: Rules, today: dt.date) -> list[PlannedAction]:
    """The statements due `today` (company-local), in customer order; none on any other day."""
    wanted = rules.statements
    if not wanted.enabled or today != statement_day(today.year, today.month, wanted.day_of_month):
        return []
    owing: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in snapshot.invoices:
        if is_open(invoice):
            owing[invoice.customer_id].append(invoice)
    actions = []
    for customer in sorted(snapshot.customers, key=lambda c: c.provider_id):
        override = snapshot.overrides.get(customer.provider_id)
        if customer.deleted or customer.provider_id not in owing:
            continue
        if override is not None and (override.excluded or override.paused or override.opted_out):
            continue
        invoices = owing[customer.provider_id]
        count = len(invoices)
        recipients, _invalid = addresses(customer, invoices, ["billing"])
        actions.append(
            PlannedAction(
                kind=ActionKind.SEND_STATEMENT,
                customer_id=customer.provider_id,
                invoice_ids=(),
                stage=None,
                recipients=recipients,
                reason=f"monthly statement of account ({count} open invoice{'' if count == 1 else 's'})",
                idempotency_key=idempotency_key(ActionKind.SEND_STATEMENT, customer.provider_id, (), None, today),
                payload={"recent_days": wanted.recent_days, "statement_date": today.isoformat()},
            )
        )
    return actions
