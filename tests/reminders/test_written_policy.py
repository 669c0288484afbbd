"""The customer-facing credit policy follows the rules: change a rule, the document changes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import Markup

from integration.customer.acceptance import policy_version
from integration.owner.written_policy import render_credit_policy
from integration.policy.rules import Rules
from reminders.errors import InvalidLocale
from tests.reminders.test_tone import FORBIDDEN


def _rules(**changes: dict[str, Any]) -> Rules:
    data = Rules.default().to_json()
    for section, values in changes.items():
        data[section].update(values)
    return Rules.from_json(data)


def _with_stage(name: str, **values: Any) -> Rules:
    data = Rules.default().to_json()
    (stage,) = [s for s in data["ladder"]["stages"] if s["name"] == name]
    stage.update(values)
    return Rules.from_json(data)


def _text(rules: Rules, locale: str = "en_US", **options: Any) -> str:
    return " ".join(render_credit_policy(rules, "Harbour Joinery Ltd", locale, **options).text.split())


def test_default_policy_states_terms_timeline_and_hold() -> None:
    text = _text(Rules.default(), payment_terms="Net 30")
    assert "(our standard terms are Net 30)" in text
    for when in (
        "3 days after the invoice date",
        "3 days before the due date",
        "1 day after the due date",
        "14 days after the due date",
        "30 days after the due date",
        "60 days after the due date",
        "90 days after the due date",
    ):
        assert f"- {when}:" in text
    assert "referred to a collection agency unless it is paid or a payment plan is agreed" in text
    assert "When an invoice reaches 90 days overdue, the account is placed on credit hold" in text
    assert "new accounts, the hold starts when an invoice reaches 60 days overdue" in text
    assert "The hold is lifted automatically as soon as the overdue balance is paid." in text
    assert "terms due on the 15th of each month" in text
    assert "at most one reminder email every 5 days, covering all of your open invoices" in text
    assert "The first reminder after an invoice falls due is not held back by that interval" in text
    assert "Reminders are sent Monday to Friday, between 8:00 AM and 6:00 PM your local time." in text


def test_without_standard_terms_the_invoice_due_date_rules() -> None:
    assert "Payment is due by the due date shown on each invoice." in _text(Rules.default())


def test_stage_offsets_recipients_and_extras_follow_the_ladder() -> None:
    text = _text(_with_stage("reminder_2", offset_days=21, recipients=["billing", "owner"], call_task=False))
    assert "- 21 days after the due date: A second reminder. To your billing contact and the business owner." in text
    assert "14 days after the due date" not in text
    assert "- 1 day after the due date: A polite reminder that payment is past due. To your billing contact." in text


def test_disabled_stage_is_left_out_and_call_stage_says_so() -> None:
    assert "after the invoice date" not in _text(_with_stage("check_in", enabled=False))
    assert "- 14 days after the due date: A phone call about the balance." in _text(
        _with_stage("reminder_2", channel="call")
    )


def test_credit_hold_follows_its_rules() -> None:
    text = _text(
        _rules(
            credit_hold={
                "days_overdue": 45,
                "all_customers_days_overdue": 120,
                "profile_classes": ["habitually_late"],
                "min_overdue_amount": "500",
                "auto_release": False,
            }
        ),
        "en_GB",
        currency="GBP",
    )
    assert "When an invoice reaches 120 days overdue" in text
    assert "For accounts that are often paid late, the hold starts when an invoice reaches 45 days overdue." in text
    assert "only when the overdue balance is at least £500.00" in text
    assert "we review the account and lift the hold" in text
    assert "500,00" in _text(_rules(credit_hold={"min_overdue_amount": "500"}), "de_DE")


def test_no_credit_hold_section_when_hold_is_off() -> None:
    assert "credit hold" not in _text(_rules(credit_hold={"enabled": False})).lower()


def test_mid_month_grace_and_pauses_follow_their_rules() -> None:
    text = _text(_rules(mid_month={"day_of_month": 1}, grace={"max_days": 7}, pauses={"broken_promise_stages_up": 2}))
    assert "terms due on the 1st of each month" in text and "by up to 7 days" in text
    assert "they resume 2 stages further along the timeline" in text
    off = _text(
        _rules(
            mid_month={"enabled": False},
            grace={"enabled": False},
            pauses={"dispute": False, "promise_to_pay": False, "payment_plan": False},
        )
    )
    assert "month instead" not in off and "reminders start later" not in off
    assert "dispute" not in off and "payment plan, reminders pause" not in off


def test_schedule_frequency_and_contact_follow_their_rules() -> None:
    text = _text(
        _rules(
            schedule={
                "business_days": [1, 3, 5],
                "send_from_hour": 9,
                "send_until_hour": 17,
                "timezone_source": "company",
            },
            frequency={"min_days_between_emails": 7, "consolidate": False},
            sender={"reply_to": "accounts@harbour.example"},
        ),
        "en_GB",
    )
    assert "Reminders are sent on Monday, Wednesday, and Friday, between 09:00 and 17:00 our local time." in text
    assert "at most one reminder email every 7 days." in text
    assert "Write to accounts@harbour.example with any question" in text


def test_edge_cases_read_as_plain_sentences() -> None:
    text = _text(
        _rules(
            schedule={"business_days": [1, 2, 3, 4, 5, 6, 7], "send_from_hour": 0, "send_until_hour": 24},
            frequency={"min_days_between_emails": 1},
            pauses={"promise_grace_days": 0, "broken_promise_stages_up": 1},
        )
    )
    assert "Reminders are sent every day, at any time of day." in text
    assert "12:00" not in text and "between" not in text
    assert "at most one reminder email a day, covering" in text and "every 1 day" not in text
    assert "If the payment has not arrived by that date, they resume 1 stage further along the timeline." in text
    assert not re.search(r"\b0 days", text)
    one = _text(
        _rules(pauses={"promise_grace_days": 1}, credit_hold={"days_overdue": 1, "all_customers_days_overdue": 1})
    )
    assert "has not arrived 1 day after that date" in one and "reaches 1 day overdue" in one
    midnight = _text(_rules(schedule={"send_from_hour": 6, "send_until_hour": 24}))
    assert "between 6:00 AM and midnight your local time" in midnight  # only the full day reads as "any time"


def test_html_is_printable_escaped_and_says_what_the_text_says() -> None:
    document = render_credit_policy(_with_stage("reminder_1", offset_days=2), "<Harbour> & Sons", "en_US")
    assert document.title == "<Harbour> & Sons credit policy"
    assert "@media print" in document.html and "@page" in document.html
    assert "<Harbour>" not in document.html and "&lt;Harbour&gt; &amp; Sons" in document.html
    html_words = " ".join(Markup(re.sub(r"<[^>]+>", " ", document.html)).unescape().split())
    for paragraph in document.text.split("\n\n"):
        if not paragraph.startswith(("- ", "<HARBOUR>")) and "---" not in paragraph:
            assert " ".join(paragraph.split()) in html_words, paragraph
    assert "<td>2 days after the due date</td>" in document.html


def test_policy_has_no_threatening_words() -> None:
    document = render_credit_policy(Rules.default(), "Harbour Joinery Ltd", "en_US")
    assert not FORBIDDEN.search(document.text) and not FORBIDDEN.search(document.html)


def test_unknown_locale_is_refused() -> None:
    with pytest.raises(InvalidLocale):
        render_credit_policy(Rules.default(), "Harbour Joinery Ltd", "xx_YY")


def test_unsupported_currency_is_refused() -> None:
    from connectors.contract import UnsupportedCurrency

    with pytest.raises(UnsupportedCurrency):
        render_credit_policy(_rules(credit_hold={"min_overdue_amount": "5"}), "Harbour", "en_US", currency="XYZ")


def test_late_fees_are_stated_when_on_and_absent_when_off() -> None:
    assert "late fee" not in _text(Rules.default()).lower()
    fixed = _text(_rules(late_fees={"enabled": True, "amount": "25", "grace_days": 10, "cap": "40"}), currency="USD")
    assert "A late fee of $25.00 is added once to an invoice still unpaid 10 days after its due date." in fixed
    assert "never add up to more than $40.00" in fixed and "No fee is charged on an invoice you dispute" in fixed
    monthly = _text(
        _rules(late_fees={"enabled": True, "kind": "monthly_rate", "rate_pct": "1.5", "min_days_between": 30}), "de_DE"
    )
    assert "Interest of 1,5% a month" in monthly and "every 30 days" in monthly
    assert not FORBIDDEN.search(fixed) and not FORBIDDEN.search(monthly)


def test_payment_habits_moving_the_days_are_stated_when_on() -> None:
    text = _text(Rules.default())
    assert (
        "The days above follow each account's own payment record: a reminder waits up to 21 days when the "
        "account's history shows payment usually comes by then, and where an account's payments vary widely, "
        "a later reminder may come sooner, but never sooner than halfway from the previous reminder's day to its own."
    ) in text
    assert "own payment record" not in _text(_rules(grace={"habit_wait_days": 0}))
    assert not FORBIDDEN.search(text)


def test_customers_proposing_a_plan_on_their_page_is_stated_within_the_owners_limits() -> None:
    text = _text(_rules(plans={"customer_max_instalments": 4, "first_payment_within_days": 10}))
    assert (
        "You may propose a payment plan for your open invoices yourself, on your account page: "
        "up to 4 instalments, the first within 10 days." in text
    )
    single = _text(_rules(plans={"customer_max_instalments": 1, "first_payment_within_days": 1}))
    assert "on your account page: one payment, within 1 day." in single
    assert "propose a payment plan" not in _text(_rules(plans={"customer_max_instalments": 0}))
    assert not FORBIDDEN.search(text)


@pytest.mark.parametrize(
    ("changes", "version"),
    [
        ({}, "27b3c9f27b56bd3c59bf1067fdebddcab117bdbbd94712968ba939142dbff308"),
        (
            {
                "late_fees": {"enabled": True, "amount": "25"},
                "credit_hold": {"enabled": False},
                "pauses": {"payment_plan": False},
            },
            "bbba92336f10840854b399f96e47c0c62c184642f7766f01b9b03c769779b5ed",
        ),
    ],
)
def test_without_customer_proposals_the_text_and_its_version_are_as_before(
    changes: dict[str, dict[str, Any]], version: str
) -> None:
    """The policy's version is the SHA-256 of its text (integration.customer.acceptance): a text that
    changed would ask every customer to accept again although the owner changed nothing. These
    versions are of the text as written before customer proposals and payment habits were stated
    (habits off: the habit wait at 0)."""
    rules = _rules(plans={"customer_max_instalments": 0}, grace={"habit_wait_days": 0}, **changes)
    document = render_credit_policy(rules, "Harbour Joinery Ltd", "en_US", currency="USD")
    assert policy_version(document.text) == version
