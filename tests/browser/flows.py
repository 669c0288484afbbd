"""An owner's paths through the app, as clicks: each step's page is checked (see `Tab.check`)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.live import LiveArpilot
from tests.browser.tab import Tab

# The landing page's button, and the sandbox consent page's.
PROVIDERS = {
    "quickbooks": ("Connect to QuickBooks", "Connect"),
    "xero": ("Sign up with Xero", "Allow access"),
}


def connect(tab: Tab, live: LiveArpilot, provider: str = "quickbooks") -> None:
    """From the landing page through the provider's consent page and back, signed in on the dashboard."""
    landing_button, consent_button = PROVIDERS[provider]
    page = tab.goto(live.url("/"), "landing")
    tab.follow(page.get_by_role("link", name=landing_button), f"{provider}-consent")
    assert page.url.startswith(live.quickbooks_url if provider == "quickbooks" else live.xero_url), page.url
    tab.follow(page.get_by_role("button", name=consent_button), "dashboard")
    assert page.url == live.url("/"), page.url
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Dashboard"))).to_be_visible()
