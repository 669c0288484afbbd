"""Account plans: instalments over several invoices of one customer, and what they mean for the ladder.

A plan is one promise spread over dates. It is kept while what was paid on its covered invoices since
it began reaches the instalments due by each date (with the promise grace); while kept, the ladder of
every covered invoice waits. The first instalment missed breaks it for all of them at once, like a
broken promise (ladder.LadderSchedule moves each on a stage). Paid in full, it ends and pauses nothing.
A gentle reminder goes a few days before each instalment still owed, once per instalment (its key
is the instalment's date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from connectors.contract import Customer, Invoice, amount_text
from integration.policy.actions import ActionKind, PlannedAction, idempotency_key
from integration.policy.pauses import NOT_PAUSED, PauseState, plan_state
from integration.policy.recipients import addresses, instalment_roles
from integration.policy.rules import Rules
from integration.policy.snapshot import AccountPlan, Instalment, Snapshot


@dataclass(frozen=True, slots=True)
class PlanStanding:
    """Where one plan stands today."""

    plan: AccountPlan
    paid: Decimal  # on the covered invoices since the plan began
    pause: PauseState  # what every covered invoice's ladder does
    next_due: Instalment | None  # the first instalment not yet paid in full (None: the plan is paid)
    owed_by_next: Decimal  # what is left to pay by its date


def standing(plan: AccountPlan, paid: Decimal, today: int, rules: Rules) -> PlanStanding:
    cumulative = Decimal(0)
    for instalment in sorted(plan.instalments, key=lambda i: i.date):
        cumulative += instalment.amount
        if paid < cumulative:
            pause = plan_state(plan.instalments, paid, today, rules.pauses.promise_grace_days)
            return PlanStanding(plan, paid, pause, instalment, cumulative - paid)
    return PlanStanding(plan, paid, NOT_PAUSED, None, Decimal(0))


def standings(snapshot: Snapshot, today: int, rules: Rules) -> list[PlanStanding]:
    """Every account plan's standing, when the owner lets plans pause the ladder (else none counts)."""
    if not snapshot.account_plans or not rules.pauses.payment_plan:
        return []
    covered = {i for plan in snapshot.account_plans for i in plan.invoice_ids}
    paid = {i.provider_id: i.total.amount - i.balance.amount for i in snapshot.invoices if i.provider_id in covered}
    return [
        standing(
            plan, sum((paid.get(i, Decimal(0)) for i in plan.invoice_ids), Decimal(0)) - plan.paid_before, today, rules
        )
        for plan in snapshot.account_plans
    ]


def covered_pauses(found: Iterable[PlanStanding]) -> dict[str, PauseState]:
    """Invoice id -> its plan's pause, for the plans not yet paid in full."""
    return {i: s.pause for s in found if s.next_due is not None for i in s.plan.invoice_ids}


class InstalmentReminders:
    """The gentle reminders of one decide run, by customer."""

    def __init__(self, snapshot: Snapshot, rules: Rules, today: dt.date) -> None:
        self.days_before = rules.plans.reminder_days_before
        self.roles = instalment_roles(rules)
        self.invoices = {i.provider_id: i for i in snapshot.invoices}
        self.today = today
        self.by_customer: dict[str, list[PlanStanding]] = {}
        for found in standings(snapshot, today.toordinal(), rules):
            self.by_customer.setdefault(found.plan.customer_id, []).append(found)

    def due(self, customer: Customer, not_before: dt.datetime | None) -> list[PlannedAction]:
        if self.days_before <= 0:
            return []
        return [
            action
            for found in self.by_customer.get(customer.provider_id, ())
            if (action := self.reminder(customer, found, not_before)) is not None
        ]

    def reminder(self, customer: Customer, found: PlanStanding, not_before: dt.datetime | None) -> PlannedAction | None:
        instalment = found.next_due
        if instalment is None or not found.pause.active:
            return None  # paid, or broken: the ladder speaks now
        if not instalment.date - dt.timedelta(days=self.days_before) <= self.today <= instalment.date:
            return None
        plan = found.plan
        covered: list[Invoice] = [self.invoices[i] for i in plan.invoice_ids if i in self.invoices]
        recipients, _ = addresses(customer, covered, self.roles)
        if not recipients:
            return None  # nobody to write to: the plan itself is unchanged, and the owner's call list has them
        currency = covered[0].balance.currency if covered else ""
        reason = (
            f"{customer.name}'s payment plan has an instalment of {amount_text(found.owed_by_next, currency)} "
            f"due {instalment.date.isoformat()}: a gentle reminder {self.days_before} days before"
        )
        return PlannedAction(
            ActionKind.INSTALMENT_REMINDER,
            customer.provider_id,
            tuple(sorted(plan.invoice_ids)),
            None,
            recipients,
            reason,
            idempotency_key(
                ActionKind.INSTALMENT_REMINDER, customer.provider_id, plan.invoice_ids, None, instalment.date
            ),
            not_before,
            MappingProxyType(
                {
                    "plan_id": plan.plan_id,
                    "instalment_date": instalment.date.isoformat(),
                    "amount": str(found.owed_by_next),
                    "currency": currency,
                    "cumulative": str(found.owed_by_next + found.paid),
                }
            ),
        )
