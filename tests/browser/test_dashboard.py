"""The dashboard after a cycle: what it decided (observe mode), the call list (live mode), the cockpit's
first screen on desktop and phone, and a first sync's progress shown live."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from pathlib import Path

from playwright.sync_api import expect

from integration.cycle.progress import CycleProgress
from integration.store.db import transaction
from integration.store.models import CycleRun
from tests.browser.flows import connect

CALL_OUTCOMES = ("Promised to pay", "Disputed", "Paid", "No answer")


def test_observe_mode_dashboard_shows_what_the_cycle_decided(tab, live) -> None:  # type: ignore[no-untyped-def]
    connect(tab, live, "quickbooks")
    [summary] = live.run_cycles()
    assert summary.status == "observed" and summary.decided, summary
    page = tab.page
    page.reload()
    tab.check("dashboard-observed")
    expect(page.get_by_role("heading", name="Today's actions")).to_be_visible()
    page.get_by_text(re.compile(r"actions? arpilot would take, and why")).click()  # compact until asked for
    expect(page.get_by_text(summary.decided[0]["reason"]).first).to_be_visible()


def test_live_mode_dashboard_lists_calls_with_outcome_buttons(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    live.set_mode("live")
    [summary] = live.run_cycles()
    assert summary.status == "done", summary
    assert any(action["kind"] == "create_call_task" for action in summary.decided)
    page = tab.page
    page.reload()
    tab.check("dashboard-live")
    expect(page.get_by_role("heading", name="Today's actions")).to_be_visible()
    page.locator("li.call summary").first.click()  # each call is one line until opened
    for outcome in CALL_OUTCOMES:
        expect(page.get_by_role("button", name=outcome).first).to_be_visible()
    tab.follow(page.get_by_role("button", name="No answer").first, "dashboard-after-no-answer")
    expect(page.get_by_role("status").first).to_be_visible()


PHONE = {"width": 390, "height": 844}
HEIGHTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard-heights.json"


def _in_first_screen(page, locator) -> bool:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= page.viewport_size["height"]


def test_tiles_and_the_days_calls_fill_the_first_screen_on_desktop_and_phone(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    """The cockpit, top first: the headline tiles and the day's calls in the first screen, then the
    aging; each call one line, its details and outcome form behind a disclosure."""
    live = small_live
    connect(tab, live, "quickbooks")
    live.set_mode("live")
    [summary] = live.run_cycles()
    assert summary.status == "done", summary
    page = tab.page
    heights = {}
    for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.reload()
        tab.check(f"dashboard-cockpit-{name}")
        owed = page.locator(".tile").filter(has_text="Owed").first
        first_call = page.locator("li.call summary").first
        for part in (owed, page.get_by_role("heading", name=re.compile("^Calls to make")), first_call):
            expect(part).to_be_visible()
            assert _in_first_screen(page, part), f"{name}: not in the first screen"
        aging = page.get_by_role("heading", name="Aging")
        assert aging.bounding_box()["y"] > first_call.bounding_box()["y"]
        heights[name] = page.evaluate("document.documentElement.scrollHeight")
    # The details open on demand, with the outcome buttons inside.
    page.locator("li.call summary").first.click()
    for outcome in CALL_OUTCOMES:
        expect(page.locator("li.call").first.get_by_role("button", name=outcome)).to_be_visible()
    tab.check("dashboard-cockpit-phone-call-open")
    HEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    HEIGHTS.write_text(json.dumps(heights) + "\n")
    assert heights["phone"] < 6000, heights  # the small company's whole page; it was 25,000 px for the demo's


def test_a_first_sync_shows_its_progress_and_the_figures_come_without_a_reload(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    sessions = live.app.extensions["arpilot"].sessions
    [connection_id] = live.connection_ids()
    with transaction(sessions) as db:
        run = CycleRun(connection_id=connection_id, started_at=dt.datetime.now(dt.UTC))
        db.add(run)
        db.flush()
        run_id = run.id
    progress = CycleProgress(sessions, run_id, clock=itertools.count(0, 60).__next__)  # a minute between pages
    progress.entity("invoice")
    page = tab.page
    page.reload()
    tab.check("dashboard-first-sync")
    status = page.get_by_role("status").filter(has_text="First sync running")
    expect(status).to_contain_text("0 invoices so far (syncing invoices, 0 pages fetched)")
    expect(page.get_by_text("No figures yet: they appear when the first sync has finished.")).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    progress.page("invoice", 340)
    expect(status).to_contain_text("340 invoices so far (syncing invoices, 1 page fetched)", timeout=15_000)
    # The cycle ends (the real one, now): the figures replace the empty state, still without a reload.
    with transaction(sessions) as db:
        db.delete(db.get(CycleRun, run_id))
    [summary] = live.run_cycles()
    assert summary.status == "observed", summary
    expect(page.locator(".tile").filter(has_text="Owed").first).to_be_visible(timeout=15_000)
    expect(page.get_by_role("status").filter(has_text="First sync running")).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True
    tab.check("dashboard-after-first-sync")
