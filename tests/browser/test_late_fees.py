"""Late fees as the owner meets them: the customer's settings page lists the fee the live cycle
charged, and the owner reverses it with a note (each page audited at desktop and phone widths)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from integration.owner.stored_rules import load_rules, save_rules
from integration.store.db import transaction
from integration.store.models import MirroredCustomer, Organization
from tests.browser.flows import connect


def charge_fees(live) -> int:  # type: ignore[no-untyped-def]
    """Late fees on, going ahead without asking, live: one cycle charges the 25-days-late invoice.
    Returns the row id of the customer it belongs to."""
    sessions = live.app.extensions["arpilot"].sessions
    with transaction(sessions) as db:
        [organization_id] = db.scalars(select(Organization.id))
        rules = load_rules(db, organization_id).to_json()
        rules["mode"], rules["late_fees"] = "live", {**rules["late_fees"], "enabled": True, "approve_first": False}
        save_rules(db, organization_id, rules)
    [summary] = live.run_cycles()
    assert summary.status == "done", summary
    with sessions() as db:
        return int(db.scalars(select(MirroredCustomer.id).where(MirroredCustomer.name.startswith("O'Brien"))).one())


def test_the_owner_reverses_a_late_fee_with_a_note(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    customer_id = charge_fees(live)
    page = tab.goto(live.url(f"/settings/customers/{customer_id}"), "customer-late-fees")
    expect(page.get_by_role("heading", name="Late fees")).to_be_visible()
    expect(page.get_by_role("group", name="Late fee LF-1003 on invoice 1003")).to_contain_text("$25.00")
    page.set_viewport_size({"width": 390, "height": 844})  # an owner on the phone
    tab.check("customer-late-fees-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Why reverse it").fill("Goodwill: first time late")
    tab.follow(page.get_by_role("button", name="Reverse late fee LF-1003"), "customer-late-fee-reversed")
    expect(page.get_by_role("status").first).to_contain_text("is void in the accounting system")
    expect(page.get_by_text("Your note: Goodwill: first time late")).to_be_visible()
    expect(page.get_by_role("button", name="Reverse late fee LF-1003")).to_have_count(0)
