"""Previews: every stage renders for the sample customer; `arpilot reminders preview` prints them."""

from __future__ import annotations

from click.testing import CliRunner

from integration.cli import main
from reminders.content import REMINDER_STAGES
from reminders.preview import render_previews, sample_context


def test_previews_cover_every_stage_with_a_consolidated_sample() -> None:
    previews = render_previews()
    assert tuple(previews) == REMINDER_STAGES
    for email in previews.values():
        assert "invoices 1042 and 1047" in email.subject or "Final notice" in email.subject
        assert email.text.count("Pay online:") == 1  # the second sample invoice has no link


def test_previews_take_the_owners_settings() -> None:
    email = render_previews(("reminder_1",), company_name="Müller GmbH", locale="de_DE", currency="EUR")["reminder_1"]
    assert "Müller GmbH" in email.subject and "1.250,00\xa0€" in email.text


def test_sample_final_notice_has_a_referral_date() -> None:
    assert sample_context("final_notice").referral_date is not None


def test_cli_prints_one_stage_as_text() -> None:
    result = CliRunner().invoke(main, ["reminders", "preview", "--stage", "reminder_2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("===== reminder_2 =====\nSubject: Second reminder")
    assert "===== reminder_1" not in result.output


def test_cli_prints_every_stage_as_html() -> None:
    result = CliRunner().invoke(
        main, ["reminders", "preview", "--format", "html", "--locale", "en_GB", "--currency", "GBP"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("<!DOCTYPE html>") == len(REMINDER_STAGES)
    assert "£1,250.00" in result.output


def test_cli_refuses_bad_options_by_name() -> None:
    runner = CliRunner()
    for args, option in (
        (["--stage", "reminder_9"], "--stage"),
        (["--locale", "xx_YY"], "--locale"),
        (["--currency", "XYZ"], "--currency"),
        (["--format", "pdf"], "--format"),
    ):
        result = runner.invoke(main, ["reminders", "preview", *args])
        assert result.exit_code == 2 and option in result.output, result.output
