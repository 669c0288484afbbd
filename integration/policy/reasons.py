"""The one-sentence reasons owners read beside every action."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from integration.policy.profiles import PaymentProfile

STAGE_WORDS = {
    "check_in": "check-in that the invoice arrived",
    "courtesy": "courtesy heads-up before the due date",
    "reminder_1": "first reminder",
    "reminder_2": "second reminder",
    "past_due_30": "30-days-past-due notice",
    "past_due_60": "60-days-past-due notice",
    "final_notice": "final notice",
}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@cache  # a few hundred distinct day counts, quoted in most actions' texts
def lateness(days: int) -> str:
    if days < 0:
        return f"due in {plural(-days, 'day')}"
    if days == 0:
        return "due today"
    return f"{plural(days, 'day')} late"


def invoices_phrase(items: Sequence[tuple[str, int]]) -> str:
    """[(number, days overdue)] -> 'Invoice 1042 is 34 days late' or a short list for several."""
    if len(items) == 1:
        number, days = items[0]
        return f"Invoice {number} is {lateness(days)}"
    shown = ", ".join(f"{number} ({lateness(days)})" for number, days in items[:3])
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    return f"Invoices {shown}{more} are open"


def habit_phrase(name: str, profile: PaymentProfile) -> str:
    if profile.classification == "unresponsive":
        if profile.last_payment is None:
            return f"{name} has not paid anything yet"
        return f"{name} has not paid anything since {profile.last_payment.isoformat()}"
    if profile.classification == "new" or profile.median_days_late is None:
        return f"{name} is new, with too little payment history to judge"
    if profile.median_days_late <= 0:
        return f"{name} usually pays on time"
    return f"{name} usually pays {plural(profile.median_days_late, 'day')} after the due date"


def sentence(*parts: str) -> str:
    return "; ".join([part for part in parts if part]) + "."
