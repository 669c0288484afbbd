"""Every page of the signed-in navigation, and every page those link to, passes the page audit
(see `tests.browser.tab.Tab.check`): screenshot, no console errors, labels, contrast, keyboard."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from tests.browser.flows import connect

# Sign-in and sign-out paths leave for the provider or end the session; the connect tests walk them.
LEAVES_THE_APP = ("/connect/", "/launch/", "/disconnected/")
MAX_PAGES = 40


def _kind_of_page(path: str) -> str:
    """One visit per kind of page: /customers/12/packet and /customers/13/packet are the same page."""
    return re.sub(r"\d+", "N", path)


def test_every_page_in_the_signed_in_navigation_passes_the_audit(tab, small_live) -> None:  # type: ignore[no-untyped-def]
    live = small_live
    connect(tab, live, "quickbooks")
    live.set_mode("live")
    [summary] = live.run_cycles()  # pages with something on them: actions, calls, holds, notes
    assert summary.status == "done", summary
    page = tab.page
    navigation = page.get_by_role("navigation", name="Main").get_by_role("link")
    hrefs = [urljoin(live.base_url, link.get_attribute("href") or "") for link in navigation.all()]
    assert hrefs, "the navigation lists the owner's pages"
    queue = deque((href, 0) for href in hrefs)
    kinds: set[str] = set()
    audited: list[str] = []
    while queue:
        url, depth = queue.popleft()
        path = urlsplit(url).path
        if _kind_of_page(path) in kinds or path.startswith(LEAVES_THE_APP):
            continue
        kinds.add(_kind_of_page(path))
        answer = page.request.get(url)  # the browser's cookies: the signed-in owner
        assert answer.ok, f"{url}: {answer.status}"
        if not answer.headers.get("content-type", "").startswith("text/html") or "attachment" in answer.headers.get("content-disposition", ""):
            continue  # a download (packet, CSV): nothing to render
        tab.goto(url, "crawl-" + (_kind_of_page(path).strip("/").replace("/", "-") or "dashboard"))
        audited.append(path)
        assert len(audited) <= MAX_PAGES, f"more kinds of page than expected: {audited}"
        if depth == 0:
            links = page.eval_on_selector_all("main a[href]", "links => links.map(link => link.href)")
            queue.extend((link, 1) for link in links if link.startswith(live.base_url))
    assert set(urlsplit(href).path for href in hrefs) <= set(audited)
