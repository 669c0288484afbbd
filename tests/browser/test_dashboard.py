"""The dashboard after a cycle: what it decided (observe mode), the call list (live mode)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

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
    for outcome in CALL_OUTCOMES:
        expect(page.get_by_role("button", name=outcome).first).to_be_visible()
    tab.follow(page.get_by_role("button", name="No answer").first, "dashboard-after-no-answer")
    expect(page.get_by_role("status").first).to_be_visible()
