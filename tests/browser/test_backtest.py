"""The backtest page in a browser: a run's progress bar, then its result, at desktop and phone widths."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from playwright.sync_api import expect

import integration.owner.backtest_runs as backtest_runs
from tests.browser.flows import connect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def held_after_first_day(monkeypatch):  # type: ignore[no-untyped-def]
    """The replay stops after its first day until the test sets the event: the progress bar is shown for certain."""
    release = threading.Event()
    replay = backtest_runs.backtest

    def held(*args, on_day, **kwargs):  # type: ignore[no-untyped-def]
        def day_done(day: dt.date) -> None:
            on_day(day)
            release.wait(timeout=60)

        return replay(*args, on_day=day_done, **kwargs)

    monkeypatch.setattr(backtest_runs, "backtest", held)
    yield release
    release.set()


def test_backtest_shows_progress_then_the_comparison(tab, live, held_after_first_day) -> None:  # type: ignore[no-untyped-def]
    connect(tab, live, "quickbooks")
    live.run_cycles()  # the mirror holds the demo company's books
    page = tab.page
    tab.follow(page.get_by_role("link", name="Backtest"), "backtest-form")
    expect(page.get_by_role("heading", level=1, name="Backtest")).to_be_visible()

    # A refused period answers 400, which the browser logs as a console error: tests/web covers those.
    today = dt.date.today()
    page.get_by_label("First day").fill((today - dt.timedelta(days=60)).isoformat())
    page.get_by_label("Last day").fill(today.isoformat())
    tab.follow(page.get_by_role("button", name="Run the backtest"), "backtest-running")
    progress = page.locator("progress#run-progress")
    expect(progress).to_have_attribute("value", "1")
    expect(page.get_by_text("1 of 61 days")).to_be_visible()
    expect(page.get_by_role("link", name="Refresh")).to_be_hidden()  # the script polls instead
    page.set_viewport_size(PHONE)
    tab.check("backtest-running-phone")

    held_after_first_day.set()
    expect(page.get_by_role("heading", name="Days to pay")).to_be_visible(timeout=60_000)
    for policy in ("arpilot", "QuickBooks-like (1/15/30)", "Xero-like (7/14/21/30/45)"):
        expect(page.locator("#measure-emails").get_by_role("rowheader", name=policy)).to_be_visible()
    expect(page.get_by_text("observed in your books, not simulated")).to_be_visible()
    tab.check("backtest-result-phone")
    page.set_viewport_size(DESKTOP)
    tab.check("backtest-result")
    page.reload()
    tab.check("backtest-result-reloaded")
    expect(page.locator("#measure-false_alarms")).to_be_visible()
