"""Tone: friendly to firm, never threatening; consequences stated as facts with their dates."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from reminders.content import REMINDER_STAGES, render_reminder
from tests.reminders.conftest import make_context

FORBIDDEN = re.compile(
    r"\b(legal action|legal proceedings|sue|sued|suing|lawsuit|court|attorney|lawyer|threat\w*|"
    r"consequences will|or else|immediately or)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("stage", REMINDER_STAGES)
@pytest.mark.parametrize("credit_hold", [False, True])
def test_no_threatening_words(stage: str, credit_hold: bool) -> None:
    email = render_reminder(make_context(stage, credit_hold=credit_hold))
    for part in (email.subject, email.text, email.html):
        assert not FORBIDDEN.search(part), FORBIDDEN.search(part)


def test_final_notice_states_the_consequence_and_its_date() -> None:
    email = render_reminder(make_context("final_notice", referral_date=dt.date(2025, 7, 14)))
    fact = (
        "Unless the balance is paid in full, or a payment plan is agreed with us, by Jul 14, 2025, "
        "the account will be referred to a collection agency on that date."
    )
    assert fact in email.text and fact in email.html
    assert "Jul 14, 2025" in email.subject and "collections" in email.subject


def test_early_stages_are_friendly_and_do_not_mention_hold_or_collections() -> None:
    for stage in ("check_in", "courtesy", "reminder_1", "reminder_2"):
        email = render_reminder(make_context(stage))
        assert "credit hold" not in email.text and "collection" not in email.text.lower()
    for stage in ("check_in", "courtesy", "reminder_1"):
        assert render_reminder(make_context(stage)).text.startswith("Hello Acme Widgets,")


def test_later_stages_are_formal_and_firmer() -> None:
    for stage in ("reminder_2", "past_due_30", "past_due_60", "final_notice"):
        assert render_reminder(make_context(stage)).text.startswith("Dear Acme Widgets,")
    assert "Please pay the balance now" in render_reminder(make_context("past_due_30")).text
    assert "We need the balance paid now" in render_reminder(make_context("past_due_60")).text
    assert "final notice" in render_reminder(make_context("final_notice")).text


def test_every_subject_names_the_stage_plainly() -> None:
    subjects = [render_reminder(make_context(stage)).subject for stage in REMINDER_STAGES]
    prefixes = [
        "Checking in",
        "Friendly reminder",
        "Payment reminder",
        "Second reminder",
        "Overdue",
        "Account overdue",
        "Final notice",
    ]
    assert [subject.split(":")[0] for subject in subjects] == prefixes
