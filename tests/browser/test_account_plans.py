"""A payment plan over several invoices, in a browser: the owner sets one up from the customer's
settings page (choose invoices and instalments, edit the suggested schedule, save), and the customer
sees it on their page; each page audited at desktop and 390 px phone widths."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect
from sqlalchemy import select

from integration.customer.links import link_for
from integration.store.models import MirroredCustomer, Organization
from tests.browser.flows import connect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _both_widths(tab, name: str) -> None:  # type: ignore[no-untyped-def]
    tab.page.set_viewport_size(PHONE)
    tab.check(f"{name}-phone")
    tab.page.set_viewport_size(DESKTOP)


def test_the_owner_sets_a_plan_and_the_customer_sees_it(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    live.run_cycles()  # observe mode: the books mirrored, nothing sent
    sessions = live.app.extensions["arpilot"].sessions
    with sessions() as db:
        customer = db.scalars(select(MirroredCustomer).where(MirroredCustomer.name.startswith("O'Brien"))).one()
    page = tab.goto(live.url(f"/settings/customers/{customer.id}"), "customer-settings")
    tab.follow(page.get_by_role("link", name=re.compile("Set up or see a payment plan")), "plan")
    expect(page.get_by_role("heading", level=1, name=re.compile("Payment plan"))).to_be_visible()
    _both_widths(tab, "plan")
    page.get_by_label("Number of instalments").fill("2")
    first = dt.date.today() + dt.timedelta(days=5)
    page.get_by_label("First payment on").fill(first.isoformat())
    tab.follow(page.get_by_role("button", name="Suggest a schedule"), "plan-suggested")
    schedule = page.get_by_label("Instalments", exact=True)
    assert schedule.input_value().startswith(first.isoformat()), schedule.input_value()
    _both_widths(tab, "plan-suggested")
    tab.follow(page.get_by_role("button", name="Save plan"), "plan-saved")
    expect(page.get_by_role("status").first).to_contain_text("Payment plan saved")
    expect(page.get_by_role("table")).to_contain_text("$137.62")
    _both_widths(tab, "plan-saved")
    with sessions() as db:
        [organization_id] = db.scalars(select(Organization.id))
        settings = live.app.extensions["arpilot"].settings
        link = link_for(db, live.base_url, settings.secret_key, organization_id, customer, dt.datetime.now(dt.UTC))
    page.context.clear_cookies()  # the customer is not the signed-in owner
    tab.goto(link, "customer-page-plan")
    expect(page.get_by_role("heading", name="Payment plan", exact=True)).to_be_visible()
    expect(page.locator("#plan")).to_contain_text("You are on a payment plan")
    _both_widths(tab, "customer-page-plan")


def test_a_customer_proposes_a_plan_on_their_page(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    live.run_cycles()
    sessions = live.app.extensions["arpilot"].sessions
    with sessions() as db:
        customer = db.scalars(select(MirroredCustomer).where(MirroredCustomer.name.startswith("O'Brien"))).one()
        [organization_id] = db.scalars(select(Organization.id))
        settings = live.app.extensions["arpilot"].settings
        link = link_for(db, live.base_url, settings.secret_key, organization_id, customer, dt.datetime.now(dt.UTC))
    page = tab.page
    page.context.clear_cookies()
    tab.goto(link, "customer-page-offer")
    expect(page.get_by_role("button", name="Propose this payment plan")).to_be_visible()
    _both_widths(tab, "customer-page-offer")
    page.get_by_label("Number of payments").fill("2")
    tab.follow(page.get_by_role("button", name="Propose this payment plan"), "customer-page-proposed")
    expect(page.get_by_role("status")).to_contain_text("your payment plan is recorded")
    expect(page.locator("#plan")).to_contain_text("You are on a payment plan you proposed")
    _both_widths(tab, "customer-page-proposed")
