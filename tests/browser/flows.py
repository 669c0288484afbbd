"""An owner's paths through the app, as clicks: each step's page is checked (see `Tab.check`)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.live import LiveArpilot
from tests.browser.tab import Tab

# The button on the landing page, the sandbox consent page's button, and the company name the dashboard then lists.
PROVIDERS = {
    "quickbooks": ("Connect to QuickBooks", "Connect", "QuickBooks company"),
    "xero": ("Sign up with Xero", "Allow access", None),
}


def connect(tab: Tab, live: LiveArpilot, provider: str = "quickbooks") -> None:
    """From the landing page through the provider's consent page and back, signed in on the dashboard."""
    landing_button, consent_button, _ = PROVIDERS[provider]
    page = tab.goto(live.url("/"), "landing")
    page.get_by_role("link", name=landing_button).click()
    page.wait_for_url(f"{live.quickbooks_url if provider == 'quickbooks' else live.xero_url}/**")
    tab.check(f"{provider}-consent")
    page.get_by_role("button", name=consent_button).click()
    page.wait_for_url(live.url("/"))
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    tab.check("dashboard")
