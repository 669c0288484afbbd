"""The owner's weekly digest: its content from a real live cycle, sending it once per week, the
CLI and the clock's weekly job."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.app_context import Runtime
from integration.cli import main
from integration.clock.scheduler import DIGEST_JOB_ID, DIGEST_TARGET, build_clock
from integration.config import load_settings
from integration.owner.call_list import CallTask
from integration.owner.connection_health import ConnectionHealth
from integration.owner.dashboard_lists import AccountFlag, ActionLine
from integration.owner.digest import (
    DigestFacts,
    compose_digest,
    gather_digest,
    iso_week,
    send_digest,
)
from integration.store.db import transaction
from integration.store.models import Connection, ConnectionStatus, Organization, User, WeeklyDigest
from reminders.delivery import Address, DeliveryReceipt, DeliveryTransient, EmailMessage, OutboxSender
from tests.cycle.conftest import World, make_world
from tests.sandbox.conftest import small_scenario

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
SINCE = NOW - dt.timedelta(days=7)


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    yield from make_world(small_scenario(NOW.date()), sessions, tmp_path)


def send(world: World, sender: object, now: dt.datetime = NOW) -> str:
    return send_digest(
        world.sessions,
        sender,  # type: ignore[arg-type]
        world.organization_id,
        now,
        HOUR,
        "digest@arpilot.local",
        "http://127.0.0.1:5000/",
    ).status


def facts(**changes: object) -> DigestFacts:
    values: dict[str, object] = dict(
        organization_id=7,
        organization_name="Harbor & Pine",
        week="2026-W48",
        since=SINCE,
        until=NOW,
        done={"Reminder email": 3, "Note on invoice": 4},
        emails_sent=3,
        calls_logged=1,
        failed=[],
        calls=[],
        escalations=[],
        reconnects=[],
        newly_on_hold=[],
    )
    values.update(changes)
    return DigestFacts(**values)  # type: ignore[arg-type]


def test_iso_week_labels() -> None:
    assert iso_week(dt.date(2026, 11, 23)) == "2026-W48"
    assert iso_week(dt.date(2027, 1, 1)) == "2026-W53"


def test_compose_lists_what_needs_the_owner_then_what_was_done() -> None:
    call = CallTask(
        4, "O'Brien <Sons>", "+1-555-0101", "reminder 2", "Invoice 1003 is 25 days late.", (), (), (), NOW, 0, None
    )
    reconnect = ConnectionHealth(
        1,
        "quickbooks",
        "Harbor & Pine books",
        ConnectionStatus.NEEDS_RECONNECT,
        "grant revoked",
        NOW,
        None,
        "stopped",
        None,
    )
    hold = AccountFlag("Cobalt Dental", "Invoices 1004 are 95 days late.", NOW)
    escalation = ActionLine(
        9, NOW, "Escalation advised", "Acme", "the final notice went out, so choose a next step", "done"
    )
    message = compose_digest(
        facts(calls=[call], reconnects=[reconnect], newly_on_hold=[hold], escalations=[escalation]),
        Address("owner@harborpine.example", "Pat"),
        "digest@arpilot.local",
        "https://arpilot.example/",
    )
    assert message.key == "digest:7:2026-W48"
    assert message.subject == "arpilot weekly digest for Harbor & Pine: 4 things need you (2026-W48)"
    text = message.text
    assert text.index("WHAT NEEDS YOU") < text.index("WHAT ARPILOT DID")
    assert "- Reconnect Harbor & Pine books (quickbooks)" in text
    assert "- Call O'Brien <Sons> on +1-555-0101: Invoice 1003 is 25 days late." in text
    assert "- Decide the next step for Acme: the final notice went out" in text
    assert "- Cobalt Dental went on credit hold: Invoices 1004 are 95 days late." in text
    assert "- Reminder email: 3" in text and "- Call outcomes you logged: 1" in text
    assert "https://arpilot.example/" in text
    assert "O&#39;Brien &lt;Sons&gt;" in (message.html or "") and "<Sons>" not in (message.html or "")


def test_a_quiet_week_says_so() -> None:
    message = compose_digest(
        facts(done={}, calls_logged=0), Address("owner@harborpine.example"), "digest@arpilot.local", "x"
    )
    assert message.subject == "arpilot weekly digest for Harbor & Pine: nothing needs you (2026-W48)"
    assert "Nothing: arpilot has it in hand." in message.text and "- Nothing this week." in message.text


def test_a_live_cycles_week(world: World) -> None:
    world.set_rules({"mode": "live"})
    world.cycle()
    with world.sessions() as session:
        # The ledger stamps the cycle's clock; the week is read up to a moment after the cycle.
        gathered = gather_digest(session, world.organization_id, world.clock.now() + HOUR, HOUR)
    assert sorted(c.customer_name for c in gathered.calls) == ["Cobalt Dental", "O'Brien\\Sons Hardware"]
    # The emails' notes are written by the emails themselves, after delivery (issue 14): the notes
    # left are the call stage's, for Cobalt Dental's invoice.
    assert gathered.done == {"Call task": 2, "Note on invoice": 1, "Reminder email": 2}
    assert gathered.emails_sent == 2 and gathered.needs_count == 2 and not gathered.reconnects


def test_sent_once_per_organization_and_week(world: World, tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path / "digests")
    assert send(world, outbox) == "sent"
    assert send(world, outbox, NOW + dt.timedelta(days=2)) == "already_sent"  # Wednesday of the same week
    entries = outbox.entries()
    assert len(entries) == 1 and entries[0]["to"] == ["owner@harborpine.example"]
    assert send(world, outbox, NOW + dt.timedelta(days=7)) == "sent"  # next Monday: the next week's digest
    with world.sessions() as session:
        rows = session.scalars(select(WeeklyDigest).order_by(WeeklyDigest.week)).all()
    assert [(r.week, r.status) for r in rows] == [("2026-W48", "sent"), ("2026-W49", "sent")]


class FlakySender:
    provider, idempotent = "flaky", False

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_next = True

    def send(self, message: EmailMessage) -> DeliveryReceipt:
        if self.fail_next:
            self.fail_next = False
            raise DeliveryTransient("503 from the provider", status=503)
        self.sent.append(message)
        return DeliveryReceipt("m-1", self.provider)


def test_a_failed_send_is_recorded_and_retried(world: World) -> None:
    sender = FlakySender()
    assert send(world, sender) == "failed"
    with world.sessions() as session:
        row = session.scalars(select(WeeklyDigest)).one()
        assert (row.status, row.error) == ("failed", "503 from the provider")
    assert send(world, sender) == "sent" and len(sender.sent) == 1
    assert send(world, sender) == "already_sent" and len(sender.sent) == 1


def test_a_send_interrupted_by_a_crash_is_not_repeated_by_a_sender_that_could_deliver_twice(
    world: World, tmp_path: Path
) -> None:
    with transaction(world.sessions) as session:
        session.add(
            WeeklyDigest(
                organization_id=world.organization_id, week="2026-W48", recipient="x@y.example", status="sending"
            )
        )
    sender = FlakySender()
    sender.fail_next = False
    assert send(world, sender) == "already_sent" and sender.sent == []
    assert send(world, OutboxSender(tmp_path / "digests")) == "sent"  # the outbox drops a repeated key itself


def test_no_owner_email_means_no_digest(world: World, tmp_path: Path) -> None:
    with transaction(world.sessions) as session:
        for user in session.scalars(select(User)):
            user.email = None
    assert send(world, OutboxSender(tmp_path / "digests")) == "no_recipient"
    with world.sessions() as session:
        assert session.scalars(select(WeeklyDigest)).all() == []


def test_a_connection_needing_reconnect_is_in_the_digest(world: World) -> None:
    with transaction(world.sessions) as session:
        connection = session.get(Connection, world.connection_id)
        assert connection is not None
        connection.status = ConnectionStatus.NEEDS_RECONNECT
    with world.sessions() as session:
        gathered = gather_digest(session, world.organization_id, NOW, HOUR)
    assert [c.id for c in gathered.reconnects] == [world.connection_id] and gathered.needs_owner


def test_digest_command_prints_and_sends_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ARPILOT_EMBEDDED_CLOCK", "0")
    runtime = Runtime(load_settings())
    runtime.migrate()
    with transaction(runtime.sessions) as session:
        organization = Organization(name="Harbor & Pine")
        session.add(organization)
        session.flush()
        session.add(
            User(organization_id=organization.id, provider="quickbooks", subject="s", email="owner@harborpine.example")
        )
        session.add(Connection(organization_id=organization.id, provider="quickbooks", external_id="realm-1"))
        organization_id = organization.id
    runtime.engine.dispose()
    runner = CliRunner()
    printed = runner.invoke(main, ["digest"])
    assert printed.exit_code == 0, printed.output
    assert (
        "To: owner@harborpine.example" in printed.output
        and "Subject: arpilot weekly digest for Harbor & Pine" in printed.output
    )
    first = runner.invoke(main, ["digest", "--send"])
    second = runner.invoke(main, ["digest", "--send", "--organization", str(organization_id)])
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert ": sent owner@harborpine.example" in first.output and ": already sent" in second.output
    assert len(OutboxSender(tmp_path / "var" / "outbox").entries()) == 1
    missing = runner.invoke(main, ["digest", "--organization", "999"])
    assert missing.exit_code == 2 and "organization 999 does not exist" in missing.output


def test_the_clock_holds_a_weekly_digest_job(tmp_path: Path) -> None:
    runtime = Runtime(load_settings({"ARPILOT_VAR_DIR": str(tmp_path)}))
    runtime.migrate()
    clock = build_clock(runtime, blocking=False)
    clock.start()
    try:
        job = clock.scheduler.get_job(DIGEST_JOB_ID)
        assert job is not None and job.func_ref == DIGEST_TARGET
        assert job.next_run_time.weekday() == 0 and (job.next_run_time.hour, job.next_run_time.minute) == (13, 0)
        assert job.coalesce and job.misfire_grace_time == 24 * 3600
    finally:
        clock.shutdown()
        runtime.engine.dispose()
