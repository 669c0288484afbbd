"""The browser: Debian's chromium driven by Playwright, one per test session, a fresh context per test.

`make test` installs chromium (`make browser`); Playwright's own browser downloads are never used.
A missing chromium fails the run under CI=true and skips these tests elsewhere.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.live import LiveArpilot, live_arpilot
from tests.browser.tab import SCREENSHOTS, Tab
from tests.sandbox.conftest import small_scenario

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container: chromium's sandbox needs user namespaces we may not have
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: the browser tests must run in CI (`make browser` installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this run's pages only, none left from an earlier one
    with sync_playwright() as playwright:
        # A plain launch runs on a fresh temporary profile, removed when the browser closes.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    # Keep each phase's outcome on the item: the tab fixture audits unchecked pages only after a pass.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveArpilot]:
    """arpilot on the demo company, as `arpilot web` serves it."""
    with live_arpilot(tmp_path / "var") as served:
        yield served


@pytest.fixture
def small_live(tmp_path: Path) -> Iterator[LiveArpilot]:
    """arpilot on a company of five invoices: a live cycle takes a second instead of a minute of
    QuickBooks request pacing, and still plans reminders, notes and call tasks."""
    with live_arpilot(tmp_path / "var", small_scenario(dt.date.today())) as served:
        yield served


@pytest.fixture(scope="session")
def keyboard_walks() -> dict[tuple[str, ...], list[str]]:
    return {}


@pytest.fixture
def tab(browser, keyboard_walks, request: pytest.FixtureRequest) -> Iterator[Tab]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    opened = Tab(context.new_page(), request.node.name, walked=keyboard_walks)
    yield opened
    context.close()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.passed:
        assert opened.unchecked() == [], "pages the test landed on without Tab.check()"
