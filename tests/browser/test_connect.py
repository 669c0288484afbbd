"""Connecting a company through the landing page's marketplace buttons, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.flows import connect


@pytest.mark.parametrize("provider", ["quickbooks", "xero"])
def test_connect_from_the_landing_page_lists_the_company(tab, live, provider: str) -> None:  # type: ignore[no-untyped-def]
    connect(tab, live, provider)
    [(connected, name)] = live.companies()
    assert connected == provider
    # On the page itself, not only in the header's company switcher (an <option>, never visible as text).
    expect(tab.page.get_by_role("main").get_by_text(name).first).to_be_visible()
