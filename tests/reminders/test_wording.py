"""The owner's wording: sandboxed, strict merge fields, escaped in HTML, stock wording read back."""

from __future__ import annotations

import dataclasses

import pytest

from reminders.content import REMINDER_STAGES, render_reminder, stage_variables
from reminders.errors import ContentError
from reminders.preview import sample_context
from reminders.wording import Wording, WordingError, check_wording, stock_wording
from tests.reminders.conftest import make_context


def _sample(stage: str) -> dict[str, object]:
    return stage_variables(sample_context(stage))


@pytest.mark.parametrize("stage", REMINDER_STAGES)
def test_stock_wording_renders_like_the_stock_templates(stage: str) -> None:
    context = sample_context(stage)
    stock, worded = render_reminder(context), render_reminder(context, stock_wording(stage))
    assert worded.subject == stock.subject
    assert worded.text == stock.text
    check_wording(stage, stock_wording(stage), _sample(stage))  # the stock words pass the owner's checks


def test_an_unknown_merge_field_is_an_error_beside_its_part() -> None:
    wording = Wording("Hello {{ customer_nme }}", "Please pay {{ total_due }}.", "{{ foo.bar }}")
    with pytest.raises(WordingError) as caught:
        check_wording("reminder_1", wording, _sample("reminder_1"))
    assert "{{ customer_nme }}" in caught.value.errors["subject"]
    assert "opening" not in caught.value.errors
    assert "{{ foo }}" in caught.value.errors["closing"]


def test_referral_date_is_only_a_field_of_the_final_notice() -> None:
    wording = Wording("By {{ referral_date }}", "Pay.", "")
    check_wording("final_notice", wording, _sample("final_notice"))
    with pytest.raises(WordingError, match="referral_date"):
        check_wording("reminder_2", wording, _sample("reminder_2"))


@pytest.mark.parametrize(
    "source",
    [
        "{{ customer_name.__class__.__mro__ }}",
        "{{ customer_name.format.__globals__ }}",
        "{% for x in () %}",  # a syntax error, named by line
        "{{ customer_name.nope }}",
    ],
)
def test_unsafe_or_broken_templates_are_refused(source: str) -> None:
    with pytest.raises(WordingError) as caught:
        check_wording("reminder_1", Wording("Subject", source, ""), _sample("reminder_1"))
    assert caught.value.errors["opening"]


def test_subject_must_be_one_nonempty_line() -> None:
    with pytest.raises(WordingError) as caught:
        check_wording("reminder_1", Wording("one\ntwo", "", ""), _sample("reminder_1"))
    assert caught.value.errors == {"subject": "must be one line", "opening": "must not be empty"}


def test_owner_words_and_hostile_names_stay_text_in_html() -> None:
    context = make_context("reminder_1", customer_name="<script>alert(1)</script>")
    email = render_reminder(
        context, Wording("Hi {{ customer_name }}", "Dear <b>{{ customer_name }}</b> & co\n\nsecond", "Bye")
    )
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "&lt;b&gt;" in email.html and "&amp; co" in email.html
    assert "<p>second</p>" in email.html
    assert "Dear <b><script>alert(1)</script></b> & co" in email.text  # plain text is never escaped
    assert email.subject == "Hi <script>alert(1)</script>"


def test_blank_signature_names_the_company_once() -> None:
    context = make_context("reminder_1", signature="", sender_name="Harbour Joinery", company_name="Harbour Joinery")
    email = render_reminder(context)
    assert email.text.split("Kind regards,")[1].count("Harbour Joinery") == 1
    assert email.html.split("Kind regards,")[1].count("Harbour Joinery") == 1


def test_a_stored_wording_that_no_longer_fills_in_is_a_content_error_not_a_crash() -> None:
    with pytest.raises(ContentError, match="wording of reminder_1"):
        render_reminder(make_context("reminder_1"), Wording("By {{ referral_date.nope }}", "x", ""))


@pytest.mark.parametrize("stage", REMINDER_STAGES)
def test_a_stages_letter_names_the_address_where_its_email_says_to_reply(stage: str) -> None:
    context = sample_context(stage)
    email = render_reminder(context).text
    letter = render_reminder(dataclasses.replace(context, by_post=True)).text
    assert "reply to this email" in email.lower() and "reply to this email" not in letter.lower()
    assert f"Questions about this? Write to {context.reply_to}." in letter
    if stage == "final_notice":
        assert f"or write to {context.reply_to} to agree a payment plan" in letter
    # The owner's words can say it too: in the email, reply; in the letter, the address.
    own = Wording("Your account", "If anything is wrong, {{ reply_way }}.", "")
    assert "If anything is wrong, reply to this email." in render_reminder(context, own).text
    assert (
        f"If anything is wrong, write to {context.reply_to}."
        in render_reminder(dataclasses.replace(context, by_post=True), own).text
    )
