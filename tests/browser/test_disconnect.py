"""Disconnecting a company, as an owner clicks it: the dashboard's link leads to a page that says what
happens and asks; keeping it changes nothing, confirming disconnects. Audited at desktop and phone widths."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from integration.store.models import Connection, ConnectionStatus
from tests.browser.flows import connect
from tests.browser.test_error_pages import PHONE


def _status(live) -> ConnectionStatus:  # type: ignore[no-untyped-def]
    with live.app.extensions["arpilot"].sessions() as db:
        return db.scalars(select(Connection.status)).one()


def test_disconnect_asks_first_then_disconnects(tab, live) -> None:  # type: ignore[no-untyped-def]
    connect(tab, live, "quickbooks")
    page = tab.page
    [(_, company)] = live.companies()
    tab.follow(page.get_by_role("link", name=f"Disconnect {company}"), "disconnect-confirm")
    expect(page.get_by_role("heading", level=1, name=f"Disconnect {company}?")).to_be_visible()
    expect(page.get_by_text("Reminder cycles have stopped")).to_be_visible()
    page.set_viewport_size(PHONE)
    tab.check("disconnect-confirm-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    page.set_viewport_size({"width": 1280, "height": 900})
    tab.follow(page.get_by_role("link", name="Keep it connected"), "dashboard-kept")
    assert _status(live) is ConnectionStatus.ACTIVE, "asking changed nothing"
    tab.follow(page.get_by_role("link", name=f"Disconnect {company}"), "disconnect-confirm-again")
    tab.follow(page.get_by_role("button", name=f"Disconnect {company}"), "disconnected")
    expect(page.get_by_role("heading", level=1, name="QuickBooks disconnected")).to_be_visible()
    assert _status(live) is ConnectionStatus.DISCONNECTED
