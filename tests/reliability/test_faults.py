"""Fault injection against both sandboxes: real cycles through the real connectors while the provider
misbehaves. Every test ends the same way: the mirror agrees with the sandbox's books (every open
invoice, customer and balance) and no effect happened twice or went missing (books.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from functools import partialmethod
from typing import Any

import pytest
import requests
from flask import Flask

from connectors.contract import Connector, Page, SyncRequest
from connectors.quickbooks.client import QboClient
from connectors.quickbooks.sandbox import writes as qbo_writes
from connectors.sandbox import SandboxServer
from connectors.xero.client import RetryPolicy
from connectors.xero.connector import XeroConnector
from integration.cycle.sync import sync_connection
from integration.store.models import ActionStatus, Connection, ConnectionStatus, Organization
from integration.web import create_app
from oauth.intuit import IntuitOAuth
from oauth.xero import XeroOAuth
from tests.reliability.books import (
    Books,
    assert_exactly_once,
    assert_mirror_consistent,
    exactly_once_findings,
    live_rules,
)
from tests.reliability.conftest import Figures

LIVE = live_rules()
QBO_THROTTLE = {
    "Fault": {
        "Error": [{"Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429", "code": "3001"}],
        "type": "ThrottleFault",
    }
}
# Each provider's write-backs: a note is a sparse Invoice update (QuickBooks) or a PUT of History
# (Xero); an invoice emailed by the accounting system; a customer's terms or credit hold.
WRITES = {
    "notes": {"quickbooks": {"path": r"/invoice$", "method": "POST"}, "xero": {"path": r"/History$", "method": "PUT"}},
    "sends": {
        "quickbooks": {"path": r"/invoice/[^/]+/send$", "method": "POST"},
        "xero": {"path": r"/Email$", "method": "POST"},
    },
    "terms": {"quickbooks": {"path": r"/customer$", "method": "POST"}, "xero": {"path": r"/Contact(s|Groups)/.+"}},
}
CLIENT_TIMEOUT = 0.5  # seconds; an injected timeout answers after 1.5 s, when the client has given up
# Six weeks on (a Wednesday), the small company has invoices 30 days late (re-sent by the accounting
# system) and one 60 days late (its customer goes on credit hold): the day those write-backs happen.
SENDS_AND_HOLDS = dt.timedelta(days=44)


def _inject(books: Books, where: str, **rule: Any) -> None:
    """Live rules, the day the `where` write-backs happen, and `rule` on those requests (or on every read)."""
    books.set_rules(LIVE)
    if where in ("sends", "terms"):
        books.advance(SENDS_AND_HOLDS)
    books.fault(**{**({} if where == "reads" else WRITES[where][books.provider]), **rule})


def _finish(books: Books) -> None:
    """A clean cycle with every fault gone, then the two checks."""
    books.clear_faults()
    summary = books.cycle()
    assert summary.status == "done", summary.detail
    assert_mirror_consistent(books)
    assert_exactly_once(books)


class Hooked:
    """The real connector, with `hook(name, *args)` called before each of the named methods."""

    def __init__(self, inner: Connector, names: set[str], hook: Callable[..., None]) -> None:
        self.inner, self.names, self.hook = inner, names, hook

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name not in self.names:
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self.hook(name, *args)
            return value(*args, **kwargs)

        return call


@pytest.mark.parametrize("where", ["reads", *WRITES])
def test_a_burst_of_5xx_is_retried_within_the_cycle(books: Books, where: str) -> None:
    _inject(books, where, kind="status", status=503, count=2)
    summary = books.cycle()
    assert summary.status == "done", summary.detail
    assert books.faults_left() == 0, "the burst was served"
    assert not [
        a for a in books.actions() if a.status is not ActionStatus.DONE and a.status is not ActionStatus.SKIPPED
    ]
    _finish(books)


@pytest.mark.parametrize("where", ["reads", "notes"])
def test_an_outage_longer_than_the_retries_is_finished_by_the_next_cycle(books: Books, where: str) -> None:
    _inject(books, where, kind="status", status=502, count=40)
    summary = books.cycle()
    assert summary.status in ("failed", "done"), summary.detail
    if where == "notes":
        assert [a for a in books.actions() if a.status is ActionStatus.PLANNED], (
            "what the outage stopped waits for the next cycle"
        )
    _finish(books)


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QboClient, "__init__", partialmethod(QboClient.__init__, timeout=CLIENT_TIMEOUT))
    policy = RetryPolicy(timeout=(CLIENT_TIMEOUT, CLIENT_TIMEOUT))
    monkeypatch.setattr(XeroConnector, "__init__", partialmethod(XeroConnector.__init__, retry=policy))
    for client in (IntuitOAuth, XeroOAuth):
        monkeypatch.setattr(client, "__init__", partialmethod(client.__init__, timeout=CLIENT_TIMEOUT))


@pytest.mark.parametrize("where", ["reads", *WRITES])
def test_timeouts_after_the_work_was_done_repeat_nothing(books: Books, short_timeouts: None, where: str) -> None:
    """A timed-out write was performed: the answer was lost, not the effect. Its retry must not repeat it."""
    _inject(books, where, kind="timeout", seconds=3 * CLIENT_TIMEOUT, count=2)
    summary = books.cycle()
    assert summary.status == "done", summary.detail
    assert books.faults_left() == 0
    _finish(books)


TOKEN_ENDPOINTS = {"quickbooks": r"^/oauth2/v1/tokens/bearer$", "xero": r"^/connect/token$"}


@pytest.mark.parametrize("kind", ["status", "timeout", "malformed", "close"])
def test_a_token_refresh_that_fails_or_loses_its_answer(books: Books, short_timeouts: None, kind: str) -> None:
    """The refresh at the start of a cycle fails; with `timeout` the provider rotated the refresh
    token and the answer was lost. The next cycle refreshes again and the connection keeps working."""
    books.set_rules(LIVE)
    books.advance(dt.timedelta(hours=2))  # the access token has expired: the cycle begins with a refresh
    books.fault(path=TOKEN_ENDPOINTS[books.provider], kind=kind, seconds=3 * CLIENT_TIMEOUT, count=1)
    first = books.cycle()
    assert first.status in ("done", "failed"), first.detail
    assert books.faults_left() == 0
    assert books.connection().status is ConnectionStatus.ACTIVE, books.connection().status_reason
    _finish(books)


def test_malformed_json_is_retried_never_mirrored(books: Books) -> None:
    books.set_rules(LIVE)
    books.fault(kind="malformed", count=2)
    summary = books.cycle()
    assert summary.status == "done", summary.detail
    assert books.faults_left() == 0
    _finish(books)


def test_dropped_connections_are_retried(books: Books) -> None:
    books.set_rules(LIVE)
    books.fault(kind="close", count=2)
    summary = books.cycle()
    assert summary.status == "done", summary.detail
    _finish(books)


def test_a_storm_of_injected_429s_is_waited_out(books: Books) -> None:
    books.set_rules(LIVE)
    body = QBO_THROTTLE if books.provider == "quickbooks" else ""
    books.fault(kind="status", status=429, body=body, count=3)
    summary = books.cycle()
    assert summary.status == "done", summary.detail
    assert books.faults_left() == 0
    assert sum(1 for s in books.world.sleeps if s >= 1) >= 3, "each 429 was waited out"
    _finish(books)


def test_the_providers_own_minute_limit_is_respected(books: Books) -> None:
    """The sandbox's real limiter (not an injected fault) answers 429 with its own headers all cycle long."""
    books.set_rules(LIVE)
    limit = "requests_per_minute" if books.provider == "quickbooks" else "calls_per_minute"
    assert books.admin("POST", "/limits", json={limit: 4}).status_code == 200
    summary = books.cycle()
    assert summary.status == "done", summary.detail
    assert books.runtime.counter.snapshot()["throttled_total"] > 0, "the limit was hit"
    _finish(books)


class Paging:
    """The real connector, with `between_pages(n)` called once the n-th page it handed out is stored."""

    def __init__(self, inner: Connector, between_pages: Callable[[int], None]) -> None:
        self.inner, self.between_pages, self.pages = inner, between_pages, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def changes(self, request: SyncRequest) -> Iterator[Page]:
        for page in self.inner.changes(request):
            yield page
            self.pages += 1
            self.between_pages(self.pages)


def _sync_paging(books: Books, between_pages: Callable[[int], None], page_size: int = 2) -> int:
    """A real sync of the connection in small pages; returns how many pages it took."""
    with books.sessions() as session:
        connection = session.get(Connection, books.connection_id)
        organization = session.get(Organization, connection.organization_id)  # type: ignore[union-attr]
        session.expunge_all()
    paging = Paging(books.deps().connectors(connection, organization), between_pages)  # type: ignore[arg-type]
    sync_connection(books.sessions, books.connection_id, paging, books.clock.now(), page_size=page_size)  # type: ignore[arg-type]
    return paging.pages


def test_a_token_expiring_in_the_middle_of_paging(books: Books, figures: Figures) -> None:
    before = books.stored_tokens()

    def an_hour_and_more_passes(page: int) -> None:
        if page == 2:
            books.advance(dt.timedelta(minutes=75))  # the access token (1 h) dies between two pages
            figures.fault("token expired mid-paging")

    pages = _sync_paging(books, an_hour_and_more_passes)
    assert pages > 3, "the sync went on paging after the token expired"
    after = books.stored_tokens()
    assert after.access_token != before.access_token, "a refreshed token was stored"
    assert books.connection().status is ConnectionStatus.ACTIVE
    assert_mirror_consistent(books)
    books.set_rules(LIVE)
    _finish(books)


def test_a_grant_revoked_mid_cycle_stops_cleanly_and_a_reconnect_finishes_the_work(
    books: Books, figures: Figures
) -> None:
    books.set_rules(LIVE)
    writes: list[str] = []

    def revoke_at_the_first_note(name: str, *args: Any) -> None:
        writes.append(name)
        if len(writes) == 1:
            books.revoke_grant()
            books.advance(dt.timedelta(hours=2))  # and the access token in hand expires too
            figures.fault("grant revoked")

    stopped = books.cycle(wrap=lambda c: Hooked(c, {"add_invoice_note", "add_invoice_notes"}, revoke_at_the_first_note))
    assert stopped.status == "stopped", stopped.detail
    assert books.connection().status is ConnectionStatus.NEEDS_RECONNECT
    actions = books.actions()
    assert not [a for a in actions if a.status in (ActionStatus.FAILED, ActionStatus.IN_FLIGHT)]
    waiting = [a.id for a in actions if a.status is ActionStatus.PLANNED]
    assert waiting, "the work the revocation stopped is kept"
    assert books.cycle().status == "skipped", "a connection that needs reconnecting is left alone"

    books.reconnect()
    _finish(books)
    done = {a.id for a in books.actions() if a.status in (ActionStatus.DONE, ActionStatus.SKIPPED)}
    assert set(waiting) <= done


@pytest.mark.parametrize("books", ["quickbooks"], indirect=True)  # Xero has no optimistic locking
def test_a_stale_sync_token_from_a_real_concurrent_edit(books: Books, figures: Figures) -> None:
    """The owner edits the invoice between arpilot's read and its write; the write is refused as
    stale, re-read and applied once, and the owner's edit survives."""
    books.set_rules(LIVE)
    company = books.company
    edited: list[str] = []

    def owner_edits_first(connector: Connector) -> Connector:
        real = connector.client.write  # type: ignore[attr-defined]

        def write(entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
            if entity == "Invoice" and not edited:
                edited.append(body["Id"])
                current = company.stored("Invoice", body["Id"])  # type: ignore[union-attr]
                qbo_writes.save(
                    company,  # type: ignore[arg-type]
                    "Invoice",
                    {
                        "Id": body["Id"],
                        "SyncToken": current["SyncToken"],
                        "sparse": True,
                        "CustomerMemo": {"value": "Paid by cheque, in the post"},
                    },
                )
                figures.fault("stale SyncToken")
            return real(entity, body, request_id)

        connector.client.write = write  # type: ignore[attr-defined]
        return connector

    summary = books.cycle(wrap=owner_edits_first)
    assert summary.status == "done", summary.detail
    assert edited
    invoice = company.stored("Invoice", edited[0])  # type: ignore[union-attr]
    assert invoice["CustomerMemo"]["value"] == "Paid by cheque, in the post"
    assert books.note_refs()[edited[0]], "arpilot's note landed on the re-read invoice"
    _finish(books)


@pytest.mark.parametrize("skew_minutes", [-180, -10, 10, 180])
def test_clock_skew_between_arpilot_and_the_provider(books: Books, figures: Figures, skew_minutes: int) -> None:
    """arpilot's clock runs ahead of or behind the provider's: tokens expire by the provider's clock,
    changes are stamped with it, and days go by."""
    skew = dt.timedelta(minutes=skew_minutes)
    figures.fault(f"clock skew {skew_minutes:+d} min")
    books.set_rules(LIVE)
    assert books.cycle(deps=books.deps(skew)).status == "done"
    first_open = sorted(books.open_invoices())
    books.advance(dt.timedelta(minutes=62))  # the provider sees the token expired; arpilot, behind, may not
    books.pay(first_open[0])
    summary = books.cycle(deps=books.deps(skew))
    assert summary.status == "done", summary.detail
    assert_mirror_consistent(books)
    for _ in range(3):  # days pass: each day's cycle sees that day's changes
        books.advance(dt.timedelta(days=1))
        summary = books.cycle(deps=books.deps(skew))
        assert summary.status == "done", summary.detail
    assert_mirror_consistent(books)
    assert_exactly_once(books)
    assert books.connection().status is ConnectionStatus.ACTIVE


@pytest.fixture
def arpilot_web(books: Books) -> Iterator[Flask]:
    """arpilot's web app on loopback, on the world's database, receiving the sandbox's webhooks."""
    url = books.sessions.kw["bind"].url.render_as_string(hide_password=False)
    web = create_app(dataclasses.replace(books.world.settings, database_url=url))
    with SandboxServer(web) as server:
        target = f"{server.base_url}/webhooks/{books.provider}"
        assert books.admin("POST", "/webhooks", json={"url": target}).status_code == 200
        yield web


def test_duplicated_and_out_of_order_webhooks(books: Books, arpilot_web: Flask, figures: Figures) -> None:
    books.set_rules(LIVE)
    assert books.cycle().status == "done"
    for invoice_id in sorted(books.open_invoices())[:2]:
        books.pay(invoice_id, "10.00")
        books.advance(dt.timedelta(minutes=1))
    assert books.admin("POST", "/webhooks/wait").json()["idle"]
    sent = [d for d in books.runtime.webhooks.deliveries() if d.status == 200]
    assert sent, "the payments were announced"

    target = books.runtime.webhooks.target
    assert target is not None
    queue = arpilot_web.extensions["arpilot_webhooks"].sync_requests
    queued = queue.drain(books.connection_id)
    assert queued, "the first deliveries queued a sync"
    for delivery in reversed(sent):  # every delivery again, newest first, as a provider retrying would
        answer = requests.post(
            target.url,
            data=delivery.body.encode(),
            timeout=10,
            headers={target.signature_header: delivery.signature, "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["duplicates"] == answer.json()["received"] > 0, "recognised as already seen"
    figures.fault("webhook duplicated", len(sent))
    figures.fault("webhook out of order", len(sent) - 1)
    assert queue.drain(books.connection_id) == [], "a replay queues nothing new"

    summary = books.cycle()
    assert summary.status == "done", summary.detail
    assert_mirror_consistent(books)
    assert_exactly_once(books)


def test_the_checks_notice_a_duplicated_note_and_a_stale_mirror(books: Books) -> None:
    """The two final checks are not vacuous: a note written twice and a payment the mirror missed are both caught."""
    books.set_rules(LIVE)
    assert books.cycle().status == "done"
    noted = next(i for i, refs in books.note_refs().items() if refs)
    company = books.company
    with company.lock:
        if books.provider == "quickbooks":
            record = company.entities["Invoice"][noted]  # type: ignore[union-attr]
            original = record["PrivateNote"]
            record["PrivateNote"] = f"{original}\n{original.splitlines()[-1]}"
        else:
            records = company.history[noted]  # type: ignore[union-attr]
            records.append(dict(next(r for r in records if r["Changes"] == "Note")))
    assert any("times on invoice" in d for d in exactly_once_findings(books).duplicates)
    with company.lock:  # planted, not found: put it back so the suite's figures count only real ones
        if books.provider == "quickbooks":
            record["PrivateNote"] = original
        else:
            records.pop()
    assert_exactly_once(books)

    books.pay(sorted(books.open_invoices())[0])
    with pytest.raises(AssertionError):
        assert_mirror_consistent(books)
    _finish(books)
