"""The instalment reminder, pinned byte for byte like every stage (see test_golden.py for the procedure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.contract import Money
from reminders.instalment import render_instalment
from reminders.preview import SAMPLE_TODAY, sample_context
from tests.reminders.test_golden import _check

EMAIL = render_instalment(
    sample_context("courtesy", days_overdue=40), Money(Decimal("745.13"), "USD"), SAMPLE_TODAY + dt.timedelta(days=3)
)


def test_text_matches_golden() -> None:
    _check("instalment.txt", f"Subject: {EMAIL.subject}\n\n{EMAIL.text}")


def test_html_matches_golden() -> None:
    _check("instalment.html", EMAIL.html)


def test_it_names_the_amount_and_date_in_the_locale() -> None:
    german = render_instalment(
        sample_context("courtesy", locale="de_DE", currency="EUR"), Money(Decimal("745.13"), "EUR"), dt.date(2026, 3, 4)
    )
    assert "745,13" in german.subject and "04.03.2026" in german.subject
