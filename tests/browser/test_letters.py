"""Letters to post as the owner meets them: the live cycle leaves a letter for each reminder of a
stage set to make one; the Letters page lists them, and the owner marks one posted (the page
audited at desktop and phone widths)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from integration.owner.stored_rules import load_rules, save_rules
from integration.store.db import transaction
from integration.store.models import Organization
from tests.browser.flows import connect


def make_letters(live) -> None:  # type: ignore[no-untyped-def]
    """Every stage also makes a letter, live: one cycle sends the reminders due and leaves their letters."""
    sessions = live.app.extensions["arpilot"].sessions
    with transaction(sessions) as db:
        [organization_id] = db.scalars(select(Organization.id))
        rules = load_rules(db, organization_id).to_json()
        rules["mode"] = "live"
        rules["ladder"]["stages"] = [{**stage, "letter": True} for stage in rules["ladder"]["stages"]]
        save_rules(db, organization_id, rules)
    [summary] = live.run_cycles()
    assert summary.status == "done", summary


def test_the_owner_marks_a_letter_posted(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    make_letters(live)
    page = tab.goto(live.url("/letters"), "letters")
    expect(page.get_by_role("heading", name="Letters to post")).to_be_visible()
    buttons = page.get_by_role("button", name="Mark the letter to")
    waiting = buttons.count()
    assert waiting > 0
    page.set_viewport_size({"width": 390, "height": 844})  # an owner on the phone
    tab.check("letters-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    tab.follow(buttons.first, "letters-posted")
    expect(page.get_by_role("status").first).to_contain_text("is marked posted")
    expect(page.get_by_role("button", name="Mark the letter to")).to_have_count(waiting - 1)
