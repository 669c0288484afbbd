"""The owner's cockpit pages in a browser, at desktop and phone widths: Coming up (and skipping a step
from it), the outbox, one email, and a customer's timeline. Every page is audited (see `Tab.check`)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.flows import connect

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.mark.parametrize("width", WIDTHS)
def test_coming_up_outbox_email_and_timeline(tab, small_live, width: str) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    live.set_mode("live")
    [summary] = live.run_cycles()
    assert summary.status == "done", summary
    page = tab.page
    w, h = WIDTHS[width]
    page.set_viewport_size({"width": w, "height": h})

    tab.goto(live.url("/coming-up"), f"{width}-coming-up")
    expect(page.get_by_role("heading", level=1, name="Coming up")).to_be_visible()
    skip = page.locator("form[action$='/coming-up/skip']").first
    expect(skip).to_be_visible()  # the small company has steps in the next two weeks
    key = skip.locator("input[name=key]").get_attribute("value")
    tab.follow(skip.get_by_role("button"), f"{width}-coming-up-after-skip")
    expect(page.get_by_role("status").first).to_contain_text("Skipped")
    expect(page.locator(f"form input[name=key][value='{key}']")).to_have_count(0)  # the skipped step is gone

    tab.goto(live.url("/outbox"), f"{width}-outbox")
    expect(page.get_by_role("heading", level=1, name="Outbox")).to_be_visible()
    tab.follow(page.get_by_role("link", name="Date"), f"{width}-outbox-sorted")  # sorted by date, ascending
    expect(page.locator('th[aria-sort="ascending"]')).to_have_count(1)
    emails = page.locator("table.outbox tbody tr td:nth-child(5) a")
    assert emails.count() > 0, "the live cycle sent reminders"
    tab.follow(emails.first, f"{width}-email")
    expect(page.get_by_role("heading", name="The email as sent")).to_be_visible()

    tab.follow(page.locator("main table a[href^='/customers/']").first, f"{width}-timeline")
    expect(page.get_by_role("heading", name="Next step")).to_be_visible()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.locator("ol.timeline li").first).to_be_visible()
