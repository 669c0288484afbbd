"""Exactly-once under trouble: a payment between decide and execute, a SIGKILLed worker, a stale
SyncToken, a storm of 429s, and a refresh-token rotation in the middle of a cycle."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.contract import Connector
from integration.store.connections import load_tokens
from integration.store.models import ActionStatus, Connection
from oauth.crypto import TokenCipher
from tests.cycle.conftest import NOW, World
from tests.cycle.crash_worker import wait_until_released

LIVE = {"mode": "live"}
ROOT = Path(__file__).resolve().parents[2]


def _assert_no_duplicates(world: World) -> None:
    """Every email once, every note reference once per invoice, nothing left in flight."""
    keys = Counter(entry["key"] for entry in world.outbox.entries())
    assert all(count == 1 for count in keys.values()), keys
    for invoice_id, text in world.notes().items():
        refs = Counter(re.findall(r"^\[arpilot \d{4}-\d{2}-\d{2} (\S+?)\]", text, re.M))
        assert all(count == 1 for count in refs.values()), (invoice_id, text)
    assert not [a for a in world.actions() if a.status in (ActionStatus.IN_FLIGHT, ActionStatus.PLANNED)]


class _BeforeGetInvoice:
    """The real connector, with `hook(invoice_id)` run before each precondition read (of one or many)."""

    def __init__(self, inner: Connector, hook: Callable[[str], None]) -> None:
        self.inner, self.hook = inner, hook

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get_invoice(self, invoice_id: str):  # type: ignore[no-untyped-def]
        self.hook(invoice_id)
        return self.inner.get_invoice(invoice_id)

    def get_invoices(self, invoice_ids, **options):  # type: ignore[no-untyped-def]
        for invoice_id in invoice_ids:
            self.hook(invoice_id)
        return self.inner.get_invoices(invoice_ids, **options)


def _cycle_with_hook(world: World, hook: Callable[[str], None]):  # type: ignore[no-untyped-def]
    build = world.deps().connectors
    return world.cycle(connectors=lambda c, o: _BeforeGetInvoice(build(c, o), hook))


def test_payment_between_decide_and_execute_skips_the_reminder(world: World) -> None:
    world.set_rules(LIVE)
    paid: list[str] = []

    def pays_first(invoice_id: str) -> None:
        """The customer pays the moment arpilot re-checks the first reminder's invoice."""
        if not paid:
            paid.append(invoice_id)
            response = world.qbo.admin("POST", f"/companies/{world.qbo.realm}/payments", json={"invoice": invoice_id})
            assert response.status_code in (200, 201), response.text

    summary = _cycle_with_hook(world, pays_first)
    assert summary.status == "done", summary.detail
    skipped = [a for a in world.actions() if a.status == ActionStatus.SKIPPED]
    assert any(paid[0] in a.payload["invoice_ids"] and "paid" in (a.last_error or "") for a in skipped)
    for entry in world.outbox.entries():
        assert paid[0] not in entry.get("custom_args", {}).get("invoices", "")
    assert paid[0] not in world.notes()


@pytest.mark.parametrize(("point", "count"), [("send", 1), ("note", 1), ("get_invoice", 2), ("note", 3)])
def test_worker_killed_mid_execution_then_rerun(world: World, point: str, count: int) -> None:
    world.set_rules(LIVE)
    env = {
        **os.environ,
        "DATABASE_URL": str(world.sessions.kw["bind"].url.render_as_string(hide_password=False)),
        "ARPILOT_VAR_DIR": str(world.settings.var_dir),
        "QUICKBOOKS_ENVIRONMENT": world.settings.quickbooks.environment,  # type: ignore[union-attr]
        "ARPILOT_EMBEDDED_CLOCK": "0",
    }
    outbox = str(world.outbox.directory)
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.cycle.crash_worker",
            str(world.connection_id),
            NOW.isoformat(),
            outbox,
            point,
            str(count),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert any(a.status == ActionStatus.IN_FLIGHT for a in world.actions()), "killed while an action was in flight"
    wait_until_released(world.sessions.kw["bind"], world.connection_id)

    summary = world.cycle()
    assert summary.status == "done", summary.detail
    _assert_no_duplicates(world)
    done = [a for a in world.actions() if a.kind == "send_reminder" and a.status == ActionStatus.DONE]
    assert len(world.outbox.entries()) == len(done) > 0


def test_stale_sync_token_during_write_back_retries_once(world: World) -> None:
    world.set_rules(LIVE)
    stale = {
        "Fault": {
            "Error": [
                {
                    "Message": "Stale Object Error",
                    "Detail": "You and Pat were working on this at the same time.",
                    "code": "5010",
                }
            ],
            "type": "ValidationFault",
        }
    }
    response = world.qbo.admin(
        "POST",
        "/faults",
        json={"path": r"/invoice$", "method": "POST", "kind": "status", "status": 400, "body": stale, "count": 1},
    )
    assert response.status_code in (200, 201), response.text
    summary = world.cycle()
    assert summary.status == "done", summary.detail
    assert not [a for a in world.actions() if a.status == ActionStatus.FAILED]
    _assert_no_duplicates(world)


THROTTLE = {
    "Fault": {
        "Error": [{"Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429", "code": "3001"}],
        "type": "ThrottleFault",
    }
}


def _storm(world: World, count: int) -> None:
    response = world.qbo.admin(
        "POST", "/faults", json={"path": r"/v3/", "kind": "status", "status": 429, "body": THROTTLE, "count": count}
    )
    assert response.status_code in (200, 201), response.text


def test_a_storm_of_429s_is_waited_out(world: World) -> None:
    world.set_rules(LIVE)
    _storm(world, 4)
    summary = world.cycle()
    assert summary.status == "done", summary.detail
    assert sum(1 for s in world.sleeps if s >= 60) == 4, "each 429 was waited out for a minute, as Intuit asks"
    assert not [a for a in world.actions() if a.status == ActionStatus.FAILED]
    _assert_no_duplicates(world)


def test_a_storm_longer_than_the_retries_stops_the_cycle_and_the_next_one_resumes(world: World) -> None:
    world.set_rules(LIVE)
    _storm(world, 40)
    stopped = world.cycle()
    assert stopped.status == "stopped" and "429" in stopped.detail
    world.qbo.admin("DELETE", "/faults")
    resumed = world.cycle()
    assert resumed.status == "done", resumed.detail
    assert not [a for a in world.actions() if a.status == ActionStatus.FAILED]
    _assert_no_duplicates(world)


def test_refresh_token_rotation_in_the_middle_of_a_cycle(world: World) -> None:
    world.set_rules(LIVE)
    cipher = TokenCipher(world.settings.token_encryption_keys)

    def stored_refresh() -> str:
        with world.sessions() as session:
            tokens = load_tokens(session.get(Connection, world.connection_id), cipher)  # type: ignore[arg-type]
            assert tokens is not None
            return tokens.refresh_token

    before = stored_refresh()
    calls: list[str] = []

    def a_day_passes_midway(invoice_id: str) -> None:
        calls.append(invoice_id)
        if len(calls) == 2:  # a day passes between two calls: the access token is long expired
            world.clock.advance(dt.timedelta(hours=26))

    summary = _cycle_with_hook(world, a_day_passes_midway)
    assert summary.status == "done", summary.detail
    assert not [a for a in world.actions() if a.status == ActionStatus.FAILED]
    assert stored_refresh() != before, "the rotated refresh token was stored"
    _assert_no_duplicates(world)
