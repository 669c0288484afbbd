"""A statement emailed on request through SendGrid goes out once, whatever arrives together: two
requests at the same moment, or one while the other's send is still in progress, send one email;
a send that failed (or that a killed request left unsure) is said plainly, and the next press sends it.
On both databases, the requests in threads against the real app, SendGrid a loopback stand-in."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select, update

from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, ActivityEntry
from tests.conftest import MakeApp
from tests.delivery.fake_sendgrid import FakeSendGrid, Reply
from tests.delivery.samples import API_KEY
from tests.oauth.webflow import csrf_token
from tests.web.conftest import Seeded, signed_in


@pytest.fixture
def sendgrid() -> Iterator[FakeSendGrid]:
    server = FakeSendGrid(API_KEY).start()
    yield server
    server.gate.set()
    server.stop()


@pytest.fixture
def app(make_app: MakeApp, database_url: str, sendgrid: FakeSendGrid) -> Flask:
    """The owner's app sending through SendGrid (the `two_orgs` seed is built on it)."""
    return make_app(database_url=database_url, sendgrid_api_key=API_KEY, sendgrid_host=sendgrid.host)


def _presser(app: Flask, seeded: Seeded) -> Callable[[], str]:
    """One owner's press of Email a statement now, in its own client; returns the page it lands on."""
    client = signed_in(app, seeded)
    token = csrf_token(client)

    def press() -> str:
        url = f"/customers/{seeded.customer_id}/statement/email"
        return client.post(url, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)

    return press


def _in_thread(press: Callable[[], str], pages: list[str], start: threading.Barrier | None = None) -> threading.Thread:
    def run() -> None:
        if start is not None:
            start.wait()
        pages.append(press())

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _statement_rows(app: Flask) -> list[Action]:
    with app.extensions["arpilot"].sessions() as db:
        return list(db.scalars(select(Action).where(Action.kind == "send_statement")))


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_presses_at_the_same_moment_send_one_email(
    app: Flask, two_orgs: tuple[Seeded, Seeded], sendgrid: FakeSendGrid
) -> None:
    sendgrid.gate.clear()  # the first send is held until the other request has answered (or 10 s)
    pages: list[str] = []
    start = threading.Barrier(2)
    threads = [_in_thread(_presser(app, two_orgs[0]), pages, start) for _ in range(2)]
    _wait_for(lambda: len(pages) == 1 or len(sendgrid.requests) == 2)
    sendgrid.gate.set()
    for thread in threads:
        thread.join(30)
    assert len(sendgrid.requests) == 1
    said = sorted(
        "emailed"
        if "The statement was emailed to ap@example.com." in page
        else "going out"
        if "being sent to ap@example.com right now, at another request" in page
        else page
        for page in pages
    )
    assert said == ["emailed", "going out"]
    (row,) = _statement_rows(app)
    assert row.status is ActionStatus.DONE and row.external_ref == "email:fake-sg-1"
    assert row.payload["sent_to"] == ["ap@example.com"] and row.payload["subject"].startswith("Statement of account")


def test_a_press_during_a_send_says_it_is_going_out_and_one_after_says_where_it_went(
    app: Flask, two_orgs: tuple[Seeded, Seeded], sendgrid: FakeSendGrid
) -> None:
    mine = two_orgs[0]
    sendgrid.gate.clear()
    first: list[str] = []
    thread = _in_thread(_presser(app, mine), first)
    _wait_for(lambda: len(sendgrid.requests) == 1)  # the first request is inside SendGrid's call now
    during = _presser(app, mine)()
    sendgrid.gate.set()
    thread.join(30)
    after = _presser(app, mine)()
    assert "being sent to ap@example.com right now" in during
    assert "The statement was emailed to ap@example.com." in first[0]
    assert "statement already went to ap@example.com; it was not sent again." in after
    assert len(sendgrid.requests) == 1
    with app.extensions["arpilot"].sessions() as db:
        logged = db.scalars(select(ActivityEntry).where(ActivityEntry.kind == "statement_emailed")).all()
    assert [(e.organization_id, e.customer_provider_id) for e in logged] == [(mine.organization_id, "58")]


def test_a_failed_send_says_so_and_the_next_press_sends_it(
    app: Flask, two_orgs: tuple[Seeded, Seeded], sendgrid: FakeSendGrid
) -> None:
    press = _presser(app, two_orgs[0])
    sendgrid.replies.append(Reply(400, {"errors": [{"message": "Bad sender", "field": "from"}]}))
    failed = press()
    assert "The statement was not sent:" in failed and "Bad sender" in failed
    assert "Press Email a statement now to send it again." in failed
    (row,) = _statement_rows(app)
    assert row.status is ActionStatus.FAILED and "Bad sender" in (row.last_error or "")
    retried = press()
    assert "The statement was emailed to ap@example.com." in retried
    assert len(sendgrid.requests) == 2
    (row,) = _statement_rows(app)
    assert row.status is ActionStatus.DONE and row.attempts == 2 and row.last_error is None
    assert "already went to ap@example.com" in press() and len(sendgrid.requests) == 2


def test_a_send_left_unsure_by_a_killed_request_is_not_repeated_without_the_owner(
    app: Flask, two_orgs: tuple[Seeded, Seeded], sendgrid: FakeSendGrid
) -> None:
    press = _presser(app, two_orgs[0])
    press()
    # As if the request had been killed while SendGrid was being called, long ago.
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    with transaction(app.extensions["arpilot"].sessions) as db:
        (row,) = db.scalars(select(Action).where(Action.kind == "send_statement"))
        db.execute(
            update(Action)
            .where(Action.id == row.id)
            .values(status=ActionStatus.IN_FLIGHT, payload={**row.payload, "requested_at": long_ago})
        )
    unsure = press()
    assert "cannot tell whether it went out; it was not sent again" in unsure
    assert len(sendgrid.requests) == 1
    assert "The statement was emailed to ap@example.com." in press()
    assert len(sendgrid.requests) == 2
