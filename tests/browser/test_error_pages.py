"""The 404 page and the settings form's errors, as an owner meets them on a desktop and on a phone:
styled, readable, with a way on (a link home, links to the fields to correct), and audited."""

from __future__ import annotations

import re

from playwright.sync_api import ViewportSize, expect

from tests.browser.tab import Tab
from tests.browser.test_settings import open_settings

PHONE: ViewportSize = {"width": 390, "height": 844}


def _expected_status(tab: Tab, status: int) -> None:
    """Chromium logs a page's own error status as a console error; on these pages that status is the point."""
    own = f"console error at {tab.page.url}: Failed to load resource: the server responded with a status of {status} "
    tab.errors[:] = [error for error in tab.errors if not error.startswith(own)]


def _on_a_phone_too(tab: Tab, name: str, status: int) -> None:
    """Check the page now shown at the desktop width, then at a phone's, with nothing wider than the screen."""
    _expected_status(tab, status)
    tab.check(name)
    page = tab.page
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        tab.check(f"{name}-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    finally:
        assert desktop is not None
        page.set_viewport_size(desktop)


def test_an_unknown_address_has_a_styled_page_and_a_way_home(tab, live) -> None:  # type: ignore[no-untyped-def]
    page = tab.page
    response = page.goto(live.url("/no/such/page"))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    _on_a_phone_too(tab, "not-found", 404)
    tab.follow(page.get_by_role("link", name="Go to the home page"), "landing")
    assert page.url == live.url("/"), page.url


def test_every_settings_error_is_listed_and_leads_to_its_field(tab, live) -> None:  # type: ignore[no-untyped-def]
    page = open_settings(tab, live)
    page.get_by_label("Days between emails to one customer").fill("0")
    page.get_by_label("Send from hour").fill("19")
    page.get_by_label("Send until hour").fill("9")
    page.get_by_label("Most days of grace").fill("61")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^Save")).click()
    summary = page.get_by_role("alert").filter(has_text="settings need correcting")
    expect(summary.get_by_role("heading")).to_have_text("3 settings need correcting")
    expect(summary.get_by_role("link")).to_have_count(3)
    _on_a_phone_too(tab, "settings-errors", 400)
    summary.get_by_role("link", name=re.compile(r"^Send until hour must be between")).click()
    assert page.url.endswith("#f-schedule-send_until_hour"), page.url
    tab.check("settings-errors-field")
    until = page.get_by_label("Send until hour")
    expect(until).to_be_in_viewport()
    expect(until).to_have_value("9")  # what the owner typed is still there
    expect(
        page.get_by_text("Days between emails to one customer must be at least 1 day; you entered 0.")
    ).to_have_count(2)
    assert live.rules().frequency.min_days_between_emails == 5, "nothing was saved"
