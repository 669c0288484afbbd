"""Issues 14 and 15.10: a verified payment webhook skips that invoice's pending actions without a cycle.

On both sandboxes (QuickBooks announces the Payment, Xero the INVOICE it changed) and both databases:
reminders queued for the afternoon's send window are planned; the customer pays; the sandbox's
signed webhook reaches arpilot's web app, whose targeted refresh reads the invoice, stores it and
skips the reminder "paid since planning". Then the exactly-once interleavings with a cycle that
executes at the same time: whichever of the refresh's cancel and the executor's claim comes first
wins, and the other leaves the action alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from connectors.sandbox import SandboxServer
from integration.config import load_settings
from integration.cycle.execute import _claim
from integration.cycle.sync import ChangedEntity, InProcessSyncRequests
from integration.cycle.targeted_refresh import PAID_REASON, TargetedRefresher, refresh_changes
from integration.store.models import Action, ActionStatus, ActivityEntry, MirroredInvoice, Organization
from integration.web import create_app
from tests.reliability.books import Books, assert_exactly_once

# Reminders decided at 10:00 (Denver) wait for the send window that opens at 14:00.
QUEUED = {"mode": "live", "schedule": {"send_from_hour": 14, "send_until_hour": 18}}
WINDOW_OPENS = dt.timedelta(hours=4)


@pytest.fixture
def arpilot_web(books: Books) -> Iterator[Flask]:
    """arpilot's web app on loopback receiving the sandbox's webhooks, its targeted refresh on the world's clock."""
    url = books.sessions.kw["bind"].url.render_as_string(hide_password=False)
    web = create_app(dataclasses.replace(books.world.settings, database_url=url))
    state = web.extensions["arpilot_webhooks"]
    state.refresher = TargetedRefresher(state.sync_requests, books.sessions, books.deps().connectors, books.clock.now)
    with SandboxServer(web) as server:
        assert (
            books.admin("POST", "/webhooks", json={"url": f"{server.base_url}/webhooks/{books.provider}"}).status_code
            == 200
        )
        yield web
    state.refresher.shutdown()


def _queued_reminders(books: Books) -> list[Action]:
    return [
        a for a in books.actions() if a.kind == "send_reminder" and a.status is ActionStatus.PLANNED and a.not_before
    ]


def _wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def _status(books: Books, action_id: int) -> ActionStatus:
    return next(a.status for a in books.actions() if a.id == action_id)


def test_a_payment_webhook_skips_the_paid_invoices_queued_reminder(books: Books, arpilot_web: Flask) -> None:
    books.set_rules(QUEUED)
    assert books.cycle().status == "done"
    queued = _queued_reminders(books)
    assert len(queued) >= 2, "the cycle queued reminders for the send window"
    target, others = queued[0], queued[1:]
    for invoice_id in target.payload["invoice_ids"]:
        books.pay(invoice_id)
    assert books.admin("POST", "/webhooks/wait").json()["idle"]
    _wait_for(lambda: _status(books, target.id) is ActionStatus.SKIPPED)

    skipped = next(a for a in books.actions() if a.id == target.id)
    assert skipped.last_error == PAID_REASON
    assert [_status(books, a.id) for a in others] == [ActionStatus.PLANNED] * len(others)
    with books.sessions() as session:
        assert (
            session.scalar(select(ActivityEntry.message).where(ActivityEntry.action_id == target.id))
            == f"Skipped: {PAID_REASON}"
        )
        balances = session.scalars(
            select(MirroredInvoice.balance).where(
                MirroredInvoice.connection_id == books.connection_id,
                MirroredInvoice.provider_id.in_(target.payload["invoice_ids"]),
            )
        ).all()
    assert balances and all(b == 0 for b in balances), "the refreshed invoices are in the mirror"

    books.clock.advance(WINDOW_OPENS)
    assert books.cycle().status == "done"
    assert all(target.idempotency_key not in key for key in books.outbox_keys()), "the paid reminder never went out"
    assert all(_status(books, a.id) is not ActionStatus.PLANNED for a in others), "the others went out in the window"
    assert_exactly_once(books)


def _pay_and_refresh(books: Books, action: Action) -> list[int]:
    for invoice_id in action.payload["invoice_ids"]:
        books.pay(invoice_id)
    connector = books.deps().connectors(books.connection(), _organization(books))
    changes = [ChangedEntity("invoice", i, "Update") for i in action.payload["invoice_ids"]]
    return refresh_changes(books.sessions, books.connection_id, connector, changes, books.clock.now()).cancelled


def _organization(books: Books) -> Organization:
    with books.sessions() as session:
        organization = session.get(Organization, books.connection().organization_id)
        assert organization is not None
        session.expunge(organization)
        return organization


def test_a_refresh_during_execution_cancels_a_later_action_which_is_then_not_performed(books: Books) -> None:
    books.set_rules(QUEUED)
    assert books.cycle().status == "done"
    first, later = _queued_reminders(books)[:2]
    books.clock.advance(WINDOW_OPENS)
    cancelled: list[int] = []
    sender = books.world.outbox
    send = sender.send

    def send_then_pay_the_later_one(message):  # type: ignore[no-untyped-def]
        if not cancelled:  # the webhook's refresh lands while the cycle is sending its first email
            cancelled.extend(_pay_and_refresh(books, later))
        return send(message)

    sender.send = send_then_pay_the_later_one  # type: ignore[method-assign]
    try:
        assert books.cycle().status == "done"
    finally:
        del sender.send
    assert cancelled == [later.id]
    assert _status(books, first.id) is ActionStatus.DONE and _status(books, later.id) is ActionStatus.SKIPPED
    assert all(later.idempotency_key not in key for key in books.outbox_keys())
    assert_exactly_once(books)


def test_an_action_the_executor_claimed_is_left_to_it(books: Books) -> None:
    books.set_rules(QUEUED)
    assert books.cycle().status == "done"
    action = _queued_reminders(books)[0]
    with books.sessions.begin() as session:
        assert _claim(session, action.id, ActionStatus.PLANNED)
    assert _pay_and_refresh(books, action) == []
    assert _status(books, action.id) is ActionStatus.IN_FLIGHT


def test_an_action_cancelled_after_the_executor_read_it_cannot_be_claimed(books: Books) -> None:
    books.set_rules(QUEUED)
    assert books.cycle().status == "done"
    action = _queued_reminders(books)[0]
    seen = next(a for a in books.actions() if a.id == action.id).status  # what the executor read: planned
    assert _pay_and_refresh(books, action) == [action.id]
    with books.sessions.begin() as session:
        assert not _claim(session, action.id, seen)
    assert _status(books, action.id) is ActionStatus.SKIPPED


def test_the_refresher_drains_each_change_once_however_often_it_is_poked() -> None:
    requests = InProcessSyncRequests()
    seen: list[tuple[int, str]] = []
    done = threading.Event()

    class Recording(TargetedRefresher):
        def refresh(self, connection_id, changes):  # type: ignore[no-untyped-def]
            seen.extend((connection_id, c.entity_id) for c in changes)
            if len(seen) == 40:
                done.set()

    refresher = Recording(requests, None, None)  # type: ignore[arg-type]
    for n in range(40):
        requests.add(n % 3 + 1, [ChangedEntity("invoice", str(n), "Update")])
        refresher.poke(n % 3 + 1)
    assert done.wait(10)
    refresher.shutdown()
    assert sorted(seen) == sorted((n % 3 + 1, str(n)) for n in range(40)) and requests.pending() == []


def test_a_web_process_that_starts_cycles_refreshes_and_one_that_does_not_only_queues(tmp_path: Path) -> None:
    with_redis = create_app(
        load_settings(
            {
                "ARPILOT_VAR_DIR": str(tmp_path / "a"),
                "ARPILOT_EMBEDDED_CLOCK": "0",
                "REDIS_URL": "redis://127.0.0.1:6379/0",
            }
        )
    )
    neither = create_app(load_settings({"ARPILOT_VAR_DIR": str(tmp_path / "b"), "ARPILOT_EMBEDDED_CLOCK": "0"}))
    refresher = with_redis.extensions["arpilot_webhooks"].refresher
    assert isinstance(refresher, TargetedRefresher)
    refresher.shutdown()
    assert neither.extensions["arpilot_webhooks"].refresher is None
