"""Whether a pause (dispute, promise to pay, payment plan) holds an invoice's ladder today.

Dates are ordinals (`date.toordinal()`) because the policy compares them for every invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from integration.policy.rules import Pauses
from integration.policy.snapshot import Instalment, InvoicePause


@dataclass(frozen=True, slots=True)
class PauseState:
    active: bool  # the ladder waits for this invoice today
    why: str  # "disputed", "promised to pay by 2026-03-01", "on a payment plan"
    broken_on: int | None = None  # ordinal of the day a promise or plan was broken


NOT_PAUSED = PauseState(False, "")


def pause_state(pause: InvoicePause, paid_so_far: Decimal, today: int, rules: Pauses) -> PauseState:
    if pause.disputed and rules.dispute:
        return PauseState(True, "disputed")
    if pause.says_paid:
        # Reminding someone who says they paid, before anyone looked, is what the owner asked us not to do.
        return PauseState(True, "the customer says it is paid")
    grace = rules.promise_grace_days
    if pause.plan and rules.payment_plan:
        return plan_state(pause.plan, paid_so_far - pause.plan_paid_before, today, grace)
    if pause.promise_to_pay is not None and rules.promise_to_pay:
        broken_from = pause.promise_to_pay.toordinal() + grace + 1
        if today < broken_from:
            return PauseState(True, f"promised to pay by {pause.promise_to_pay.isoformat()}")
        return PauseState(False, f"did not pay by the promised {pause.promise_to_pay.isoformat()}", broken_from)
    return NOT_PAUSED


def plan_state(instalments: tuple[Instalment, ...], paid: Decimal, today: int, grace: int) -> PauseState:
    """A plan is kept while `paid` (since the plan began) reaches every instalment due, with grace;
    the first one missed breaks it from the day after its grace."""
    expected = Decimal(0)
    for instalment in sorted(instalments, key=lambda i: i.date):
        missed_from = instalment.date.toordinal() + grace + 1
        if missed_from > today:
            break
        expected += instalment.amount
        if paid < expected:
            return PauseState(
                False, f"missed the payment plan instalment due {instalment.date.isoformat()}", missed_from
            )
    return PauseState(True, "on a payment plan")
