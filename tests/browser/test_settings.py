"""The settings page: a changed rule is saved, a stage's email is previewed, live mode is switched on."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.flows import connect


def open_settings(tab, live):  # type: ignore[no-untyped-def]
    connect(tab, live, "quickbooks")
    page = tab.page
    tab.follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings"), "settings")
    assert page.url == live.url("/settings"), page.url
    return page


def test_a_changed_setting_is_saved(tab, live) -> None:  # type: ignore[no-untyped-def]
    page = open_settings(tab, live)
    page.get_by_label("From name").fill("Harbor Billing Desk")
    page.get_by_label("Days between emails to one customer").fill("9")
    tab.follow(page.get_by_role("button", name=re.compile(r"^Save")), "settings-saved")
    expect(page.get_by_role("status").first).to_contain_text("saved")
    tab.goto(live.url("/settings"), "settings-reloaded")
    expect(page.get_by_label("From name")).to_have_value("Harbor Billing Desk")
    expect(page.get_by_label("Days between emails to one customer")).to_have_value("9")
    rules = live.rules()
    assert rules.sender.from_name == "Harbor Billing Desk"
    assert rules.frequency.min_days_between_emails == 9
    assert rules.mode == "observe", "saving the rules leaves observe mode on"


def test_a_stages_email_preview_follows_the_typing(tab, live) -> None:  # type: ignore[no-untyped-def]
    page = open_settings(tab, live)
    page.get_by_role("button", name="Preview the Reminder 1 email").click()
    expect(page.get_by_role("heading", name="Preview: Reminder 1")).to_be_visible()
    email = page.frame_locator("iframe[title='Email preview: Reminder 1']")
    [(_, company)] = live.companies()
    expect(email.get_by_text(company).first).to_be_visible()  # signed with the company's name until one is typed
    page.get_by_label("From name").fill("Harbor Billing Desk")
    expect(email.get_by_text("Harbor Billing Desk").first).to_be_visible()
    tab.check("settings-preview")
    assert live.rules().sender.from_name == "", "a preview saves nothing"


def test_switch_to_live_mode_after_seeing_what_it_will_do(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    page = open_settings(tab, live)
    [summary] = live.run_cycles()  # the embedded clock's first cycle after a connect: the books are mirrored
    assert summary.status == "observed", summary
    expect(page.get_by_label("Observe mode")).to_be_checked()
    tab.follow(page.get_by_role("link", name="See what live mode would do today"), "live-confirmation")
    assert page.url == live.url("/settings/live"), page.url
    expect(page.get_by_role("heading", name="Live mode", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile(r"email to ")).first).to_be_visible()
    assert live.rules().mode == "observe", "the confirmation page changes nothing"
    tab.follow(page.get_by_role("button", name="Switch to live mode"), "settings-live")
    assert page.url == live.url("/settings"), page.url
    expect(page.get_by_role("status").first).to_contain_text("Live mode is on")
    expect(page.get_by_label("Observe mode")).not_to_be_checked()
    assert live.rules().mode == "live"
