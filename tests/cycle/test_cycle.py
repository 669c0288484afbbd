"""The cycle end to end on the QuickBooks sandbox: sync, decide, plan, execute, exactly once."""

from __future__ import annotations

import email
import email.policy
import json
from collections import Counter

from connectors.quickbooks.client import QboClient
from integration.cycle.email_send import email_note
from integration.cycle.precondition_reads import READ_AHEAD
from integration.store.models import ActionStatus
from tests.cycle.conftest import World

LIVE = {"mode": "live"}


def test_observe_mode_decides_but_sends_and_writes_nothing(world: World) -> None:
    summary = world.cycle()
    assert summary.status == "observed", summary.detail
    assert summary.synced["invoice"] >= 4
    assert summary.decided, "the small company has overdue invoices"
    assert world.actions() == []
    assert world.outbox.entries() == []
    assert world.notes() == {}


def test_live_cycle_sends_writes_back_and_records_once(world: World) -> None:
    world.set_rules(LIVE)
    first = world.cycle()
    assert first.status == "done", first.detail
    actions = world.actions()
    assert actions and all(a.status in (ActionStatus.DONE, ActionStatus.SKIPPED) for a in actions), [
        (a.kind, a.status, a.last_error) for a in actions
    ]
    emails = world.outbox.entries()
    reminders = [a for a in actions if a.kind == "send_reminder" and a.status == ActionStatus.DONE]
    assert len(emails) == len(reminders) == first.execution["emails_sent"] > 0
    notes = world.notes()
    for action in reminders:
        for invoice_id in action.payload["delivered"]:
            assert action.payload["subject"] in notes[invoice_id]

    second = world.cycle()
    assert second.status == "done"
    assert second.planned == 0
    assert len(world.actions()) == len(actions)
    assert len(world.outbox.entries()) == len(emails)
    assert world.notes() == notes


def test_customer_without_email_gets_a_call_task_not_an_email(world: World) -> None:
    world.set_rules(LIVE)
    world.cycle()
    sandbox_ids = world.qbo.admin("GET", f"/companies/{world.qbo.realm}/ids").json()
    no_email_customer = sandbox_ids["customers"]["cust-03"]
    kinds = Counter(a.kind for a in world.actions() if a.payload["customer_id"] == no_email_customer)
    assert kinds["send_reminder"] == 0
    recipients = {r for entry in world.outbox.entries() for r in json.dumps(entry).split('"') if "@" in r}
    assert not any("cobalt" in r for r in recipients)


def test_write_back_reads_invoices_in_batches_and_writes_notes_without_reading_again(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The precondition reads of up to 30 actions are one `Id IN (...)` query, and a note starts
    from the copy that query returned instead of reading the invoice again."""
    reads: list[str] = []
    queries: list[str] = []
    real_read, real_query = QboClient.read, QboClient.query
    monkeypatch.setattr(
        QboClient, "read", lambda self, entity, *a, **k: reads.append(entity) or real_read(self, entity, *a, **k)
    )
    monkeypatch.setattr(
        QboClient, "query", lambda self, text, *a, **k: queries.append(text) or real_query(self, text, *a, **k)
    )
    world.set_rules(LIVE)
    summary = world.cycle()
    assert summary.status == "done", summary.detail
    checked = [a for a in world.actions() if a.kind in ("send_reminder", "resend_invoice", "add_note")]
    assert checked and summary.execution["notes_written"] > 0
    assert "Invoice" not in reads
    by_ids = [q for q in queries if q.startswith("SELECT * FROM Invoice WHERE Id IN")]
    assert 1 <= len(by_ids) <= -(-len(checked) // READ_AHEAD)
    for invoice_id, text in world.notes().items():
        refs = Counter(line.split("]")[0] for line in text.splitlines() if line.startswith("[arpilot"))
        assert all(count == 1 for count in refs.values()), (invoice_id, text)


def test_each_email_keeps_its_text_and_note_as_sent_for_the_outbox(world: World) -> None:
    world.set_rules({"mode": "live"})
    assert world.cycle().status == "done"
    reminders = [a for a in world.actions() if a.kind == "send_reminder" and a.status == ActionStatus.DONE]
    assert reminders
    notes = world.notes()
    for action in reminders:
        sent = email.message_from_bytes(
            world.outbox.path_for(action.idempotency_key).read_bytes(), policy=email.policy.default
        )
        as_sent = sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert action.payload["body_text"] == as_sent.replace("\r\n", "\n")  # MIME sends CRLF line ends
        for invoice_id in action.payload["delivered"]:
            assert email_note(action) in notes[invoice_id]
