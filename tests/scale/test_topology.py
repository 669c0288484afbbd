"""The production topology, for real: PostgreSQL, Redis, both sandboxes, a clock and a standby clock,
three RQ workers, 30 connections; then the leading clock and a worker are killed mid-run.

What must hold: every connection gets exactly one cycle per interval, before and after the kill (the
standby leads within one interval and fires whatever slot the dead leader left unfired; RQ's
per-slot job ids refuse what it had already enqueued); no email or note is sent twice; the shared
rate limits keep both sandboxes from answering a single 429. PostgreSQL and Redis are required:
missing, the test fails.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import select

from integration.clock.queue import DEFAULT_TARGET, QUEUE_NAME, rq_function_path
from integration.clock.slots import slot_index
from integration.store.db import make_engine, make_session_factory, upgrade
from integration.store.models import Action, CycleRun
from oauth.crypto import TokenCipher
from tests.conftest import fresh_postgres_database
from tests.scale.topology import (
    Process,
    add_connection,
    admin,
    environment,
    midday_timezone,
    one_overdue_invoice,
    start,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

INTERVAL_SECONDS = 15
INTERVAL = dt.timedelta(seconds=INTERVAL_SECONDS)
# Xero allows a tenant 60 calls a minute: a first cycle there takes ~10 s of waiting, so fewer of them.
QUICKBOOKS_COMPANIES, XERO_ORGANISATIONS = 27, 3
WORKERS = 3
REDIS_URL = "redis://127.0.0.1:6379/9"  # a database of its own, flushed before and after


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test alone, migrated."""
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def redis() -> Iterator[Redis]:
    connection = Redis.from_url(REDIS_URL)
    connection.ping()  # an unreachable server fails the test, never skips it
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Everything the test starts, killed at the end whatever happened."""
    started: list[Process] = []
    yield started
    for process in started:
        process.kill()


def drain(queue: Queue, workers: list[Process], redis: Redis) -> None:
    """Wait until nothing is queued and no living worker runs a job."""
    living = {w.popen.pid for w in workers if w.popen.poll() is None}
    deadline = time.monotonic() + 180  # first cycles on a busy machine; only a hang gets this far
    while queue.count or any(w.get_current_job_id() for w in Worker.all(connection=redis) if w.pid in living):
        assert time.monotonic() < deadline, "the workers never drained the queue"
        time.sleep(0.2)


def test_clocks_and_workers_run_one_cycle_per_interval_through_a_leader_and_worker_kill(
    database_url: str, redis: Redis, processes: list[Process], tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    scenario = one_overdue_invoice(now.date(), midday_timezone(now))
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(scenario.dumps())
    logs, outbox = tmp_path / "logs", tmp_path / "outbox"

    # The sandboxes, each with as many companies as it will have connections.
    qbo = start(
        "sandbox-quickbooks", ["sandbox", "quickbooks", "--scenario", str(scenario_file)], environment({}), logs
    )
    xero = start("sandbox-xero", ["sandbox", "xero", "--scenario", str(scenario_file)], environment({}), logs)
    processes += [qbo, xero]
    qbo_url = qbo.wait_for(r"QuickBooks Online sandbox on (http://\S+?)/?\n").group(1)
    xero_url = xero.wait_for(r"Xero sandbox on (http://\S+?)/?\n").group(1)
    for _ in range(QUICKBOOKS_COMPANIES - 1):
        admin(qbo_url, "POST", "/companies", json=json.loads(scenario.dumps()))
    for n in range(XERO_ORGANISATIONS - 1):
        admin(xero_url, "POST", f"/organisations?short_code=org{n}", json=json.loads(scenario.dumps()))

    keys = Fernet.generate_key().decode()
    sessions = make_session_factory(make_engine(database_url))
    cipher = TokenCipher((keys,))
    connection_ids = []
    for n, company in enumerate(admin(qbo_url, "GET", "/companies")["companies"][:QUICKBOOKS_COMPANIES]):
        minted = admin(qbo_url, "POST", "/tokens", json={"realm_id": company["realm_id"]})
        connection_ids.append(
            add_connection(sessions, cipher, "quickbooks", company["realm_id"], minted, scenario, f"qbo-owner-{n}")
        )
    for n, org in enumerate(admin(xero_url, "GET", "/organisations")["organisations"][:XERO_ORGANISATIONS]):
        minted = admin(xero_url, "POST", "/tokens", json={"tenants": [org["tenant_id"]]})
        connection_ids.append(
            add_connection(sessions, cipher, "xero", org["tenant_id"], minted, scenario, f"xero-owner-{n}")
        )
    assert len(connection_ids) == QUICKBOOKS_COMPANIES + XERO_ORGANISATIONS == 30

    env = environment(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "TOKEN_ENCRYPTION_KEYS": keys,
            "ARPILOT_VAR_DIR": str(tmp_path / "var"),
            "ARPILOT_EMBEDDED_CLOCK": "0",
            "ARPILOT_CYCLE_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
            "EMAIL_OUTBOX_DIR": str(outbox),
            "QUICKBOOKS_ENVIRONMENT": f"{qbo_url}/.well-known/openid_configuration",
            "XERO_IDENTITY_URL": xero_url,
            "XERO_API_URL": xero_url,
        }
    )
    workers = [start(f"worker-{n}", ["worker"], env, logs) for n in range(WORKERS)]
    processes += workers
    for worker in workers:
        worker.wait_for(r"Listening on")
    # The first cycle of a connection syncs the whole company and sends its first reminders; run
    # those before the clocks start, so the regular cycles are what the intervals measure.
    queue = Queue(QUEUE_NAME, connection=redis)
    for connection_id in connection_ids:
        queue.enqueue(rq_function_path(DEFAULT_TARGET), connection_id)
    drain(queue, workers, redis)
    leader = start("clock-a", ["clock"], env, logs)
    processes.append(leader)
    leader.wait_for(r"fire this slot .* executed successfully")  # counting starts once it has fired its slot
    began = dt.datetime.now(dt.UTC)
    standby = start("clock-b", ["clock"], env, logs)
    processes.append(standby)
    standby.wait_for(r"standby")

    # An interval and a half in (every connection has had two slots), kill the leading clock and a
    # worker that is running a cycle.
    time.sleep(max(0.0, (began + 1.5 * INTERVAL - dt.datetime.now(dt.UTC)).total_seconds()))
    busy = {worker.pid for worker in Worker.all(connection=redis) if worker.get_current_job_id()}
    victim = next((w for w in workers if w.popen.pid in busy), workers[0])
    leader.kill()
    victim.kill()
    killed, kill_instant = time.monotonic(), dt.datetime.now(dt.UTC)
    standby.wait_for(r"leading", timeout=3 * INTERVAL_SECONDS)
    assert time.monotonic() - killed < INTERVAL_SECONDS, "the standby took longer than one interval to lead"

    # Two more intervals under the new leader, then stop the clock and let the queue drain.
    time.sleep(2 * INTERVAL_SECONDS)
    standby.kill()
    stopped = dt.datetime.now(dt.UTC)
    drain(queue, workers, redis)

    with sessions() as session:
        runs = session.execute(select(CycleRun.connection_id, CycleRun.started_at, CycleRun.status)).all()
        actions = session.scalars(select(Action)).all()
    for connection_id in connection_ids:
        # From the slot the first leader started in (a warm-up run in it counts: the leader then
        # fires nothing more in it) to the last that surely fired before the clock stopped, one
        # run each; the slot the stop fell in may or may not have one.
        first = slot_index(connection_id, INTERVAL, began)
        surely = slot_index(connection_id, INTERVAL, stopped - INTERVAL / 10 - dt.timedelta(seconds=1)) - first
        last = slot_index(connection_id, INTERVAL, stopped) - first
        ran_in = sorted(
            slot_index(connection_id, INTERVAL, started) - first for c, started, _ in runs if c == connection_id
        )
        counted = [slot for slot in ran_in if slot >= 0]
        assert surely + 1 <= len(counted) <= last + 1, (
            f"connection {connection_id}: runs in slots {ran_in}, expected one in each of 0..{surely} (and maybe "
            f"{last}); the leader was killed in slot {slot_index(connection_id, INTERVAL, kill_instant) - first}"
        )
    assert {status for _, _, status in runs} <= {"done", "observed", "running"}
    assert sum(status == "running" for _, _, status in runs) <= 1  # at most the killed worker's cycle

    # Nothing happened twice: one email per key in the outbox, one note line per action on an invoice.
    index = [json.loads(line) for line in (outbox / "index.jsonl").read_text().splitlines()]
    assert index and len({line["key"] for line in index}) == len(index)
    assert actions
    for company in admin(qbo_url, "GET", "/companies")["companies"][:QUICKBOOKS_COMPANIES]:
        for note in admin(qbo_url, "GET", f"/companies/{company['realm_id']}/notes")["invoices"].values():
            noted = re.findall(r"^\[arpilot \S+ (\S+)\]", note or "", flags=re.MULTILINE)
            assert len(noted) == len(set(noted)), note
    assert admin(qbo_url, "GET", "/requests")["throttled_total"] == 0
    assert admin(xero_url, "GET", "/requests")["throttled_total"] == 0
