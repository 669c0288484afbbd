"""Production wiring (no clock in the web process, REDIS_URL set): a new connection and a verified
webhook enqueue their cycle on RQ at once, one job per burst. Real Redis; unreachable fails."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import select

from connectors.quickbooks.webhooks import sign
from integration.clock.queue import QUEUE_NAME, SOON_WINDOW, CycleQueue, run_worker
from integration.clock.slots import slot_index
from integration.config import Settings
from integration.store.db import transaction
from integration.store.models import Connection, Organization
from integration.web import soon
from tests import clock_helpers
from tests.clock_helpers import RunSoonRecorder
from tests.conftest import MakeApp
from tests.oauth import fake_intuit as fake
from tests.oauth.fake_intuit import FakeIntuit, fake_intuit
from tests.oauth.webflow import start
from tests.quickbooks.test_webhooks import cloud_events
from tests.rq_helpers import REDIS_URL, throwaway_queue

pytestmark = pytest.mark.redis

TARGET = "tests.clock_helpers:record_cycle"
INTERVAL = dt.timedelta(minutes=10)
NOW = dt.datetime(2026, 11, 23, 17, 0, 10, tzinfo=dt.UTC)
VERIFIER = "test-verifier-token"
REALM = "9130"


@pytest.fixture
def queue() -> Iterator[Queue]:
    clock_helpers.calls.clear()
    yield from throwaway_queue()


@pytest.fixture
def intuit() -> Iterator[FakeIntuit]:
    with fake_intuit() as fake_server:
        yield fake_server


def production_app(make_app: MakeApp, queue: Queue) -> Flask:
    """The web app as production wires it: no embedded clock, a cycle queue (here the test's own)."""
    app = make_app(quickbooks=fake.SETTINGS, quickbooks_webhook_verifier=VERIFIER)
    assert soon.CLOCK_EXTENSION not in app.extensions and soon.QUEUE_EXTENSION not in app.extensions
    app.extensions[soon.QUEUE_EXTENSION] = CycleQueue(queue, INTERVAL, TARGET, clock=lambda: NOW)
    return app


def soon_job_id(queue: Queue, connection_id: int) -> str:
    return f"{queue.name}-connection-{connection_id}-soon-60s-window-{slot_index(connection_id, SOON_WINDOW, NOW)}"


def test_connect_enqueues_the_first_cycle_once_and_a_worker_runs_it(
    make_app: MakeApp, queue: Queue, intuit: FakeIntuit
) -> None:
    app = production_app(make_app, queue)
    client = app.test_client()
    _, query = start(client)
    answer = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": query["state"], "realmId": intuit.realm_id},
    )
    assert answer.status_code == 302
    with app.extensions["arpilot"].sessions() as db:
        connection_id = db.execute(select(Connection.id)).scalar_one()
    assert queue.job_ids == [soon_job_id(queue, connection_id)]
    assert queue.fetch_job(queue.job_ids[0]).args == (connection_id,)
    run_worker(queue, burst=True, simple=True)
    assert clock_helpers.calls == [connection_id]


def _connection(app: Flask, external_id: str) -> int:
    with transaction(app.extensions["arpilot"].sessions) as session:
        organization = Organization(name="Harbor & Pine")
        session.add(organization)
        session.flush()
        connection = Connection(organization_id=organization.id, provider="quickbooks", external_id=external_id)
        session.add(connection)
        session.flush()
        return connection.id


def _deliver(app: Flask, body: bytes) -> None:
    answer = app.test_client().post(
        "/webhooks/quickbooks",
        data=body,
        headers={"Content-Type": "application/json", "intuit-signature": sign(body, VERIFIER)},
    )
    assert answer.status_code == 200, answer.data


def test_a_webhook_burst_enqueues_one_cycle(make_app: MakeApp, queue: Queue) -> None:
    app = production_app(make_app, queue)
    connection_id = _connection(app, REALM)
    _deliver(app, cloud_events(("e-1", "qbo.invoice.updated.v1", "130"), ("e-2", "qbo.payment.created.v1", "77")))
    _deliver(app, cloud_events(("e-3", "qbo.invoice.updated.v1", "131")))
    _deliver(app, cloud_events(("e-3", "qbo.invoice.updated.v1", "131")))  # Intuit's retry of the same delivery
    assert queue.job_ids == [soon_job_id(queue, connection_id)]


def test_a_webhook_for_a_company_not_held_enqueues_nothing(make_app: MakeApp, queue: Queue) -> None:
    app = production_app(make_app, queue)
    _deliver(app, cloud_events(("e-1", "qbo.invoice.updated.v1", "130")))  # no connection for realm 9130
    assert queue.count == 0


def test_redis_down_still_connects_and_the_slot_runs_the_cycle(
    make_app: MakeApp, intuit: FakeIntuit, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = Queue("arpilot-test-unreachable", connection=Redis.from_url("redis://127.0.0.1:1/0"))
    app = production_app(make_app, unreachable)
    client = app.test_client()
    _, query = start(client)
    answer = client.get(
        "/connect/quickbooks/callback",
        query_string={"code": intuit.issue_code(), "state": query["state"], "realmId": intuit.realm_id},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "could not be enqueued now, it runs at its slot" in caplog.text


def test_production_settings_give_the_web_process_the_cycle_queue(settings: Settings, make_app: MakeApp) -> None:
    app = make_app(redis_url=REDIS_URL, embedded_clock=False)
    cycles = app.extensions[soon.QUEUE_EXTENSION]
    assert (
        isinstance(cycles, CycleQueue)
        and cycles.queue.name == QUEUE_NAME
        and cycles.interval == settings.cycle_interval
    )


def test_with_a_queue_an_embedded_clock_leaves_the_cycle_to_the_workers(make_app: MakeApp, queue: Queue) -> None:
    app = production_app(make_app, queue)
    app.extensions[soon.CLOCK_EXTENSION] = recorder = RunSoonRecorder()
    connection_id = _connection(app, REALM)
    _deliver(app, cloud_events(("e-1", "qbo.invoice.updated.v1", "130")))
    assert queue.job_ids == [soon_job_id(queue, connection_id)] and recorder.soon == []


def test_without_a_queue_the_embedded_clock_runs_the_cycle(make_app: MakeApp) -> None:
    app = make_app(quickbooks_webhook_verifier=VERIFIER)
    app.extensions[soon.CLOCK_EXTENSION] = recorder = RunSoonRecorder()
    connection_id = _connection(app, REALM)
    _deliver(app, cloud_events(("e-1", "qbo.invoice.updated.v1", "130")))
    assert recorder.soon == [connection_id]


def test_without_clock_or_queue_the_connection_waits_for_its_slot(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    app = make_app(quickbooks_webhook_verifier=VERIFIER)
    assert soon.QUEUE_EXTENSION not in app.extensions and soon.CLOCK_EXTENSION not in app.extensions
    _connection(app, REALM)
    _deliver(app, cloud_events(("e-1", "qbo.invoice.updated.v1", "130")))
    assert caplog.records == []
