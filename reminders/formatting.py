"""Customer-facing formatting of money, dates and lateness for the organisation's locale (Babel).

Amounts follow the invoice's currency and the organisation's locale ("$1,234.50", "1.234,50 €");
dates use the locale's medium form ("Mar 5, 2025", "5 Mar 2025", "05.03.2025"). The sentences
around them are English, so word lists ("1042 and 1043") are joined the English way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency

from connectors.contract import Money
from reminders.errors import InvalidLocale


def parse_locale(identifier: str) -> Locale:
    """The Babel locale for an identifier like 'en_US' or 'de-DE', or InvalidLocale."""
    try:
        return Locale.parse(identifier.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise InvalidLocale(f"locale {identifier!r} is not a known locale (expected e.g. 'en_US')") from exc


def money(value: Money, locale: Locale) -> str:
    return format_currency(value.amount, value.currency, locale=locale)


def date(value: dt.date, locale: Locale) -> str:
    return format_date(value, format="medium", locale=locale)


def english_list(words: Iterable[str]) -> str:
    return format_list(list(words), locale="en")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def timing(days_overdue: int) -> str:
    """Lateness in words: 'due in 3 days', 'due today', '1 day overdue'."""
    if days_overdue < 0:
        return f"due in {plural(-days_overdue, 'day')}"
    if days_overdue == 0:
        return "due today"
    return f"{plural(days_overdue, 'day')} overdue"


def totals_by_currency(amounts: Iterable[Money]) -> tuple[Money, ...]:
    """One total per currency, in order of first appearance (a customer may owe in two currencies)."""
    totals: dict[str, Money] = {}
    for amount in amounts:
        totals[amount.currency] = totals.get(amount.currency, Money.zero(amount.currency)) + amount
    return tuple(totals.values())
