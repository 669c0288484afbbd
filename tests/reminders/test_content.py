"""Rendering one reminder: bad inputs refused by name, escaping, consolidation, missing pieces."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest
from jinja2 import UndefinedError
from markupsafe import Markup

from connectors.contract import Money
from reminders.content import REMINDER_STAGES, render_reminder
from reminders.environment import environment, render
from reminders.errors import ContentError, IncompleteContext, InvalidLocale, UnknownStage
from tests.reminders.conftest import make_context, make_invoice


def test_unknown_stage_is_a_typed_error_naming_the_stage() -> None:
    with pytest.raises(UnknownStage, match="'reminder_9'"):
        render_reminder(make_context("reminder_9"))


def test_unknown_locale_is_a_typed_error() -> None:
    with pytest.raises(InvalidLocale, match="xx_YY"):
        make_context(locale="xx_YY")
    with pytest.raises(InvalidLocale):
        make_context(locale="not a locale")


def test_a_reminder_needs_an_invoice() -> None:
    with pytest.raises(IncompleteContext, match="at least one invoice"):
        make_context(invoices=())


def test_final_notice_names_only_the_owners_referral_date() -> None:
    """arpilot never invents a referral date (issue 14): without the owner's date, none is named."""
    dated = render_reminder(make_context("final_notice", referral_date=dt.date(2025, 7, 1)))
    assert "Jul 1, 2025" in dated.subject and "Jul 1, 2025" in dated.text and "Jul 1, 2025" in dated.html
    undated = render_reminder(make_context("final_notice", referral_date=None))
    assert "referred to collections on" not in undated.subject
    assert "consider referring the account" in undated.text and "consider referring the account" in undated.html
    assert "None" not in undated.text + undated.subject


@pytest.mark.parametrize("stage", ["reminder_1", "reminder_2", "past_due_30", "past_due_60", "final_notice"])
def test_an_invoice_not_yet_due_is_never_called_late_and_totals_apart(stage: str) -> None:
    late = make_invoice("1042", days_overdue=95)
    soon = make_invoice(
        "1050", days_overdue=-8, balance=Money(Decimal("200.00"), "USD"), total=Money(Decimal("200.00"), "USD")
    )
    email = render_reminder(make_context(stage, invoices=(late, soon)))
    for line in [email.subject, *email.text.splitlines()]:
        if re.search(r"past due|overdue|late", line, re.I):
            assert "1050" not in line, (stage, line)
    assert "Total overdue: $1,234.50" in email.text and "Not yet due: $200.00 (invoice 1050" in email.text
    assert "Total due" not in email.text
    assert "Total overdue" in email.html and "Not yet due (invoice 1050)" in email.html


def test_reminder_1_does_not_call_an_invoice_due_tomorrow_past_due() -> None:
    tomorrow = make_invoice("1050", days_overdue=-1)
    email = render_reminder(make_context("reminder_1", invoices=(make_invoice("1042", days_overdue=2), tomorrow)))
    assert "payment for invoice 1042 is now past due" in email.text
    assert "1042 and 1050 is now past due" not in email.text


def test_invoice_inputs_are_checked() -> None:
    with pytest.raises(IncompleteContext, match="number"):
        make_invoice(" ")
    with pytest.raises(IncompleteContext, match="USD.*EUR"):
        make_invoice(balance=Money(Decimal(1), "EUR"))
    with pytest.raises(IncompleteContext, match="pay_link"):
        make_invoice(pay_link="javascript:alert(1)")
    assert issubclass(IncompleteContext, ContentError) and issubclass(ContentError, ValueError)


def test_missing_template_variable_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        render("reminder_1.txt", {"customer_name": "Acme"})


def test_environment_is_created_once() -> None:
    assert environment() is environment()


def test_html_in_customer_name_is_escaped_in_html_and_kept_as_text_in_text() -> None:
    email = render_reminder(make_context(customer_name='<script>alert("x")</script> & Co'))
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in email.html
    assert '<script>alert("x")</script> & Co' in email.text


def test_html_in_company_name_and_ways_to_pay_is_escaped() -> None:
    email = render_reminder(make_context(company_name="<b>Evil</b>", ways_to_pay=("<img src=x>",)))
    assert "<b>Evil</b>" not in email.html and "<img src=x>" not in email.html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in email.html


def test_subject_is_one_line_even_if_a_name_has_line_breaks() -> None:
    email = render_reminder(make_context(company_name="Harbour\r\nBcc: victim@example.com"))
    assert "\n" not in email.subject and "\r" not in email.subject


def test_each_email_has_subject_greeting_signature_and_reply_to(context) -> None:  # type: ignore[no-untyped-def]
    for stage in REMINDER_STAGES:
        email = render_reminder(dataclasses.replace(context, stage=stage))
        assert email.subject
        for body in (email.text, email.html):
            assert "Acme Widgets," in body
            assert "accounts@harbour.example" in body
            assert "Sam Rivera" in body and "Owner" in body


def test_blank_signature_signs_with_sender_and_company() -> None:
    email = render_reminder(make_context(signature="  "))
    assert email.text.rstrip().endswith("Sam Rivera\nHarbour Joinery Ltd")


def test_missing_pay_link_is_omitted_gracefully() -> None:
    linked, unlinked = make_invoice("1042"), make_invoice("1043", pay_link=None)
    email = render_reminder(make_context(invoices=(linked, unlinked)))
    assert email.text.count("Pay online:") == 1
    assert email.html.count('href="https://pay.example/') == 1
    assert "None" not in email.text and "None" not in email.html

    nothing = render_reminder(make_context(invoices=(unlinked,)))
    assert "Pay online" not in nothing.text and "Pay online" not in nothing.html
    assert "reply to this email and we will send you payment details" in nothing.text


def test_ways_to_pay_are_all_listed() -> None:
    ways = ("Bank transfer to account 123", "Check payable to Harbour Joinery")
    email = render_reminder(make_context(ways_to_pay=ways))
    for way in ways:
        assert f"- {way}" in email.text
        assert f"<li>{way}</li>" in email.html
    assert "- Online, using the pay-online link" in email.text


def test_invoice_without_due_date_reads_due_on_receipt() -> None:
    email = render_reminder(make_context(invoices=(make_invoice(due_date=None),)))
    assert "due on receipt" in email.text
    assert "<td>on receipt</td>" in email.html
    assert "None" not in email.text and "None" not in email.html


def test_several_invoices_are_consolidated_into_one_email() -> None:
    invoices = (
        make_invoice("1042", balance=Money(Decimal("100.00"), "USD"), days_overdue=40),
        make_invoice("1043", balance=Money(Decimal("250.25"), "USD"), days_overdue=12),
        make_invoice("1044", balance=Money(Decimal("9.75"), "USD"), days_overdue=-3),
    )
    email = render_reminder(make_context("past_due_30", invoices=invoices))
    # The subject calls late only the invoices that are (1044 is not due yet: issue 14).
    assert "invoices 1042 and 1043" in email.subject and "1044" not in email.subject
    assert "40 days past due" in email.subject  # the oldest sets the tone
    for number in ("1042", "1043", "1044"):
        assert f"Invoice {number}\n" in email.text
        assert f"<td>{number}</td>" in email.html
    assert "(40 days overdue)" in email.text and "(due in 3 days)" in email.text
    assert "Total overdue: $350.25" in email.text and "Not yet due: $9.75 (invoice 1044" in email.text
    assert "<strong>$350.25</strong>" in email.html


def test_totals_are_kept_per_currency() -> None:
    invoices = (make_invoice("1", currency="USD"), make_invoice("2", currency="EUR"), make_invoice("3", currency="USD"))
    email = render_reminder(make_context(invoices=invoices))
    assert "Total due: $2,469.00 and €1,234.50" in email.text


def test_invoice_columns_are_all_shown(context) -> None:  # type: ignore[no-untyped-def]
    invoice = make_invoice(total=Money(Decimal("2000.00"), "USD"), balance=Money(Decimal("750.00"), "USD"))
    email = render_reminder(make_context(invoices=(invoice,)))
    assert "Issued Mar 1, 2025, due Mar 31, 2025 (14 days overdue)" in email.text
    assert "Amount $2,000.00, balance $750.00" in email.text
    row = re.search(r"<td>1042</td>.*?</tr>", email.html, re.S)
    assert row is not None
    for cell in ("Mar 1, 2025", "Mar 31, 2025", "$2,000.00", "$750.00", "14 days overdue", "Pay online"):
        assert cell in row.group(0)


def test_credit_hold_is_stated_as_a_fact_when_on() -> None:
    on = render_reminder(make_context(credit_hold=True))
    off = render_reminder(make_context(credit_hold=False))
    assert "Your account is on credit hold" in on.text and "on credit hold:</strong>" in on.html
    assert "credit hold" not in off.text


def test_past_due_60_warns_of_hold_only_when_not_already_on_hold() -> None:
    warned = render_reminder(make_context("past_due_60"))
    held = render_reminder(make_context("past_due_60", credit_hold=True))
    assert "will be placed on credit hold" in warned.text and "will be placed on credit hold" in warned.html
    assert "will be placed on credit hold" not in held.text


@pytest.mark.parametrize("stage", REMINDER_STAGES)
@pytest.mark.parametrize("credit_hold", [False, True])
def test_html_and_text_say_the_same_words(stage: str, credit_hold: bool) -> None:
    """The stage copy is written once per format; this keeps the two from drifting apart."""
    email = render_reminder(make_context(stage, credit_hold=credit_hold, customer_name="O'Brien & Sons"))
    html_words = " ".join(Markup(re.sub(r"<[^>]+>", "", email.html)).unescape().split())
    for paragraph in email.text.split("\n\n"):
        if paragraph.startswith(("Invoice ", "Total due", "Ways to pay", "Kind regards")):
            continue  # the table and lists are laid out differently per format
        assert " ".join(paragraph.split()) in html_words, paragraph


def test_every_template_the_rules_may_name_exists_in_both_formats() -> None:
    from integration.policy.rules import KNOWN_TEMPLATES
    from reminders.content import REMINDER_STAGES

    assert REMINDER_STAGES == KNOWN_TEMPLATES
    for name in KNOWN_TEMPLATES:
        for fmt in ("txt", "html"):
            environment().get_template(f"{name}.{fmt}")


@pytest.mark.parametrize("stage", ["reminder_1", "past_due_30", "final_notice"])
def test_a_late_fee_is_named_with_its_amount_and_that_it_is_billed_apart(stage: str) -> None:
    from reminders.content import ReminderFee

    fee = ReminderFee("1042", "LF-1042", Money(Decimal("25.00"), "USD"))
    email = render_reminder(dataclasses.replace(make_context(stage=stage), late_fees=(fee,)))
    line = "A late fee of $25.00 was charged on invoice 1042; it is listed separately, as invoice LF-1042."
    assert line in email.text and line in email.html
    assert "late fee" not in render_reminder(make_context(stage=stage)).text.lower()
