"""The settings page's email channel in a live cycle: the accounting system's own email instead of arpilot's."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from integration.policy.rules import Rules
from integration.store.models import ActionStatus
from integration.web.rules_form import parse_form
from tests.cycle.conftest import World
from tests.web.forms import rules_form


def test_reminders_go_out_through_the_accounting_systems_email_when_chosen(world: World) -> None:
    parsed = parse_form(MultiDict(rules_form(Rules.default(), email_channel="accounting_system_email")), "live")
    assert parsed.rules is not None, parsed.errors
    world.set_rules(parsed.rules.to_json())
    summary = world.cycle()
    assert summary.status == "done", summary.detail
    reminders = [a for a in world.actions() if a.kind == "send_reminder" and a.status is ActionStatus.DONE]
    assert reminders and all(a.payload["payload"]["channel"] == "accounting_system_email" for a in reminders)
    assert world.outbox.entries() == []  # nothing through arpilot's own email
    sent = {e["invoice_id"] for e in world.qbo.admin("GET", f"/companies/{world.qbo.realm}/emails").json()["emails"]}
    assert {i for a in reminders for i in a.payload["invoice_ids"]} <= sent
    notes = world.notes()
    # The note says when it happened, written after the send (issue 14).
    assert all(
        f"invoice emailed by the accounting system 2026-11-23 10:00; action {a.id}" in notes[i]
        for a in reminders
        for i in a.payload["invoice_ids"]
    )
