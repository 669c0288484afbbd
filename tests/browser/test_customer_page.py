"""The customer's side, in a browser: the link in a reminder in the outbox opens their page (no
session), they promise a date for an invoice and see it confirmed; at desktop and phone widths."""

from __future__ import annotations

import datetime as dt
import email
import re
from email.policy import default as default_policy

from playwright.sync_api import expect
from sqlalchemy import select

from integration.owner.stored_rules import load_rules, save_rules
from integration.store.db import transaction
from integration.store.models import Organization
from reminders.delivery import OutboxSender
from tests.browser.flows import connect
from tests.sandbox.conftest import APOSTROPHE_NAME

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _live_at_any_hour(live) -> None:  # type: ignore[no-untyped-def]
    """Live mode with a send window of every hour of every day, so the reminders leave whenever the test runs."""
    sessions = live.app.extensions["arpilot"].sessions
    with transaction(sessions) as db:
        [organization_id] = db.scalars(select(Organization.id))
        rules = load_rules(db, organization_id).to_json()
        schedule = {
            **rules["schedule"],
            "send_from_hour": 0,
            "send_until_hour": 24,
            "business_days": [1, 2, 3, 4, 5, 6, 7],
        }
        save_rules(db, organization_id, {**rules, "mode": "live", "schedule": schedule})


def _link_in_reminder_to(live, address: str) -> str:  # type: ignore[no-untyped-def]
    outbox = OutboxSender(live.app.extensions["arpilot"].settings.outbox_dir)
    entry = next(e for e in outbox.entries() if address in e["to"])
    message = email.message_from_bytes((outbox.directory / entry["file"]).read_bytes(), policy=default_policy)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(re.escape(live.base_url) + r"/c/\S+", text)
    assert found, text
    return found.group(0)


def test_a_customer_opens_the_link_in_a_reminder_and_promises_a_date(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    _live_at_any_hour(live)
    [summary] = live.run_cycles()
    assert summary.status == "done", summary
    link = _link_in_reminder_to(live, "ap@obrien.example")
    page = tab.page
    page.context.clear_cookies()  # the customer is not the signed-in owner
    tab.goto(link, "customer-page")
    expect(page.get_by_role("heading", level=1, name=re.compile("Your invoices from"))).to_be_visible()
    page.set_viewport_size(PHONE)
    tab.check("customer-page-phone")
    page.set_viewport_size(DESKTOP)
    first = page.locator("article.invoice").first
    number = first.get_by_role("heading", level=3).inner_text().removeprefix("Invoice ")
    tab.follow(first.get_by_role("link", name=re.compile("need more time")), "customer-invoice")
    page.set_viewport_size(PHONE)
    tab.check("customer-invoice-phone")
    page.set_viewport_size(DESKTOP)
    promised = dt.date.today() + dt.timedelta(days=7)
    page.get_by_label("I will pay by").fill(promised.isoformat())
    tab.follow(page.get_by_role("button", name="Promise this date"), "customer-page-promised")
    expect(page.get_by_role("status")).to_contain_text(f"we have recorded your promise to pay invoice {number}")
    expect(page.locator("article.invoice").first).to_contain_text(f"You promised to pay by {promised.isoformat()}")
    page.set_viewport_size(PHONE)
    tab.check("customer-page-promised-phone")
    assert APOSTROPHE_NAME.split("\\")[0] in page.content()
