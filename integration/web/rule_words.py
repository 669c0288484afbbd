"""The settings form's errors in the owner's words.

integration.policy.rules reports a bad rule as a typed RuleError naming its path and, for a number out
of range or a stage out of order, the numbers involved; this module says it the way the settings page
names things: the input's label, the unit of the number (days, an hour of the day, a percentage), the
stages by their titles, what the owner entered. Pure, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_time

from integration.policy.rule_errors import OutOfRange, RuleError
from integration.policy.rules import STAGES, OutOfOrder
from integration.web.settings_sections import SECTIONS, STAGE_TITLES, Field
from reminders.formatting import plural

ENGLISH = Locale.parse("en_US")


def owner_words(error: RuleError, field: Field | None, locale: Locale = ENGLISH) -> str:
    """What to show beside `field` (the input `error` belongs to; None: no one input)."""
    if isinstance(error, OutOfOrder):
        return _out_of_order(error)
    if isinstance(error, OutOfRange) and field is not None:
        return _out_of_range(error, field, locale)
    detail = re.sub(r", got (.+)$", r"; you entered \1", error.detail)
    for name in sorted(STAGES, key=len, reverse=True):
        detail = re.sub(rf"\b{name}\b", STAGE_TITLES[name], detail)
    if field is not None:  # named, so that the summary above the form says which input it is about
        detail = f"{field.label}: {detail}"
    return _sentence(detail)


@dataclass(frozen=True)
class Listed:
    """One line of the summary above the form: the input to jump to, what it is about, the message."""

    target: str  # the input's id (a group of boxes: its first box)
    about: str  # the group it is in ("Reminder 2"), or ""
    message: str


def error_summary(errors: Mapping[str, str]) -> list[Listed]:
    """The form's errors in the page's order, for the summary at its top."""
    return [
        Listed(f.id + (f"-{f.choices[0][0]}" if f.kind == "choices" else ""), group.legend, errors[f.path])
        for section in SECTIONS
        for group in section.groups
        for f in group.fields
        if f.path in errors
    ]


def _out_of_order(error: OutOfOrder) -> str:
    before = STAGE_TITLES[error.before]
    return (
        f"{STAGE_TITLES[error.stage]} must come later than {before}, which is sent {_from_due(error.before_days)}; "
        f"you entered {plural(error.value, 'day')}."
    )


def _from_due(days: int) -> str:
    if days == 0:
        return "on the due date"
    return f"{plural(abs(days), 'day')} {'before' if days < 0 else 'after'} the due date"


def _out_of_range(error: OutOfRange, field: Field, locale: Locale) -> str:
    low, high, value = error.low, error.high, error.value
    if field.kind == "days_before":  # stored as a negative offset, typed as days before the due date
        low, high, value = -high, -low, -value
    unit = _unit(field.path)
    if unit == "hour":
        return (
            f"{field.label} must be between {_hour(low, locale)} and {_hour(high, locale)}; "
            f"you entered {_hour(value, locale) if 0 <= value <= 24 else value}."
        )
    if value < low:
        return f"{field.label} must be at least {_amount(low, unit)}; you entered {value}."
    return f"{field.label} must be at most {_amount(high, unit)}; you entered {value}."


def _unit(path: str) -> str:
    name = path.rsplit(".", 1)[-1]
    if name.endswith("_hour"):
        return "hour"
    if name.endswith("_pct"):
        return "percent"
    if "days" in name:
        return "day"
    return ""


def _amount(number: int, unit: str) -> str:
    if unit == "day":
        return plural(number, "day")
    if unit == "percent":
        return f"{number}%"
    return str(number)


def _hour(hour: int, locale: Locale) -> str:
    if hour in (0, 24):
        return "midnight"
    if hour == 12:
        return "noon"
    return format_time(dt.time(hour), format="short", locale=locale)


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."
