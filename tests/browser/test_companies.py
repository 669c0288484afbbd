"""An owner with two companies: a QuickBooks owner adds a Xero company from the Companies page, sees
both, switches between them in the header, edits one company's rules and invites a collector; every
page at desktop width and again at a phone's 390 px."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.flows import connect

PHONE = {"width": 390, "height": 844}


def test_a_quickbooks_owner_adds_a_xero_company_and_switches_between_them(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    page = tab.goto(live.url("/companies"), "companies-one")
    tab.follow(page.get_by_role("link", name="Add a Xero company"), "xero-consent")
    assert page.url.startswith(live.xero_url), page.url
    tab.follow(page.get_by_role("button", name="Allow access"), "dashboard-company-added")
    expect(page.get_by_text("Connected to this account:")).to_be_visible()
    assert sorted(provider for provider, _ in live.companies()) == ["quickbooks", "xero"]

    page = tab.goto(live.url("/companies"), "companies-both")
    expect(page.get_by_role("cell", name="QuickBooks", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Xero", exact=True)).to_be_visible()
    switcher = page.get_by_label("Company", exact=True)
    xero_option = switcher.locator("option", has_text="(Xero)")
    switcher.select_option(xero_option.get_attribute("value"))
    tab.follow(page.get_by_role("button", name="Show"), "companies-xero-chosen")
    expect(page.get_by_text("(shown now)")).to_be_visible()

    page = tab.goto(live.url("/settings"), "settings-xero-company")
    expect(page.get_by_role("heading", name="Rules for", exact=False).first).to_be_visible()
    expect(page.get_by_label("Copy rules from")).to_be_visible()

    page = tab.goto(live.url("/team"), "team")
    page.get_by_label("Their email address").fill("sam@example.com")
    tab.follow(page.get_by_role("button", name="Create the invitation"), "team-invited")
    expect(page.get_by_label("Invitation link (works once, for 7 days)")).to_have_value(re.compile(r"/join\?token="))

    page.set_viewport_size(PHONE)
    for path, name in (("/companies", "phone-companies"), ("/settings", "phone-settings"), ("/team", "phone-team")):
        tab.goto(live.url(path), name)
        expect(page.get_by_label("Company", exact=True)).to_be_visible()
