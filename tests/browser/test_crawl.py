"""Every page the signed-in navigation leads to, and every page linked from those, passes the page
audit (see `tests.browser.tab.Tab.check`): screenshot, no console errors, labels, contrast, keyboard."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import parse_qsl, urljoin, urlsplit

from tests.browser.flows import connect

# Sign-in and sign-out paths leave for the provider or end the session; the connect tests walk them.
LEAVES_THE_APP = ("/connect/", "/launch/", "/disconnected/")
MAX_PAGES = 40


def kind_of_page(url: str) -> str:
    """One visit per kind of page: /customers/12 and /customers/13 are one kind, /activity and
    /activity?customer=12 are two (a filtered list shows other links)."""
    parts = urlsplit(url)
    keys = sorted({key for key, _ in parse_qsl(parts.query)})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def test_every_page_in_the_signed_in_navigation_passes_the_audit(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    live.set_mode("live")
    [summary] = live.run_cycles()  # pages with something on them: actions, calls, notes, emails
    assert summary.status == "done", summary
    page = tab.page
    navigation = page.get_by_role("navigation", name="Main").get_by_role("link")
    hrefs = [urljoin(live.base_url, link.get_attribute("href") or "") for link in navigation.all()]
    assert hrefs, "the navigation lists the owner's pages"
    queue = deque(hrefs)
    kinds: set[str] = set()
    audited: list[str] = []
    while queue:
        url = queue.popleft().split("#")[0]
        kind = kind_of_page(url)
        if kind in kinds or urlsplit(url).path.startswith(LEAVES_THE_APP):
            continue
        kinds.add(kind)
        answer = page.request.get(url)  # with the browser's cookies: as the signed-in owner
        assert answer.ok, f"{url}: {answer.status}"
        if not answer.headers.get("content-type", "").startswith("text/html") or "attachment" in answer.headers.get(
            "content-disposition", ""
        ):
            continue  # a download (packet, text): nothing to render
        tab.goto(url, "crawl-" + (re.sub(r"[/?&]+", "-", kind).strip("-") or "dashboard"))
        audited.append(kind)
        assert len(audited) <= MAX_PAGES, f"more kinds of page than expected: {audited}"
        links = page.eval_on_selector_all("main a[href]", "links => links.map(link => link.href)")
        queue.extend(link for link in links if link.startswith(live.base_url))
    assert {kind_of_page(href) for href in hrefs} <= set(audited)
