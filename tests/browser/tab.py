"""One browser tab as a test drives it: every page it lands on is photographed and audited.

`Tab.check(name)` is the audit of the page now shown: a full-page screenshot saved as
test-artifacts/screenshots/<test>-<name>.png, no console error or uncaught exception so far, and
the accessibility checks of a11y.js (labels, names, contrast) plus a walk with the Tab key that must
reach every control. `Tab.unchecked()` lists the pages the tab landed on that were never checked,
so a test cannot slip past the audit by forgetting to call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Frame, Locator, Page

A11Y_SCRIPT = (Path(__file__).with_name("a11y.js")).read_text()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# The Tab walk's bound: presses per control, plus the stops on the document itself when it wraps.
TAB_PRESSES_PER_CONTROL = 3
TAB_SLACK = 10
TAB_BATCH = 8  # presses between reads of the focus record


class AuditFailed(AssertionError):
    """A page failed the audit; the message lists every finding."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@dataclass
class Tab:
    page: Page
    test_name: str
    visited: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    # Controls already walked with the Tab key (in order) -> those it missed. Shared by the session's
    # tabs: the same controls in the same order walk the same way, and a walk takes seconds.
    walked: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught exception: {error}"))
        self.page.on("framenavigated", self._navigated)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error at {message.location.get('url', '?')}: {message.text}")

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self.visited.append(frame.url)

    def goto(self, url: str, name: str) -> Page:
        """Open `url` (absolute, or a path on the page's origin) and check the page it lands on."""
        response = self.page.goto(url)
        assert response is not None and response.ok, f"{url}: {response.status if response else 'no response'}"
        self.check(name)
        return self.page

    def follow(self, control: Locator, name: str) -> Page:
        """Click a link or submit button and check the page it leads to."""
        with self.page.expect_navigation():
            control.click()
        self.check(name)
        return self.page

    def check(self, name: str) -> None:
        """Audit the page now shown (see the module docstring); raises AuditFailed with every finding."""
        self.page.wait_for_load_state("load")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{_slug(self.test_name)}-{_slug(name)}.png", full_page=True)
        findings = [f"{name} ({self.page.url}): {error}" for error in self.errors]
        report = self.page.evaluate(A11Y_SCRIPT)
        for kind in ("unlabeled", "unnamed", "lowContrast", "unmeasured"):
            findings += [f"{name}: {kind}: {item}" for item in report[kind]]
        controls = tuple(report["focusable"])
        if controls not in self.walked:
            self.walked[controls] = self._missed_by_keyboard(report["focusable"])
        findings += [f"{name}: not reachable with the Tab key: {key.split(':', 1)[1]}" for key in self.walked[controls]]
        self.checked.add(self.page.url)
        if findings:
            raise AuditFailed("\n".join(findings))

    def _missed_by_keyboard(self, focusable: list[str]) -> list[str]:
        """Press Tab through the page, once around from wherever focus is, and list the controls never focused."""
        wanted = set(focusable)
        walk: list[str] = []
        # A date input takes a Tab press per part (month, day, year), so presses can outnumber controls.
        presses = TAB_PRESSES_PER_CONTROL * len(wanted) + TAB_SLACK
        while presses > 0 and not wanted <= set(walk) and not (walk and walk[0] in walk[1:]):  # reached all, or wrapped
            for _ in range(min(TAB_BATCH, presses)):
                self.page.keyboard.press("Tab")
            presses -= TAB_BATCH
            walk += [key for key in self.page.evaluate("window.__a11yFocused.splice(0)") if key]
        # Leave nothing focused: the next screenshot shows the page as it loads, without a focus ring.
        self.page.evaluate("document.activeElement && document.activeElement.blur()")
        return sorted(wanted - set(walk))

    def unchecked(self) -> list[str]:
        return [url for url in dict.fromkeys(self.visited) if url not in self.checked and url != "about:blank"]
