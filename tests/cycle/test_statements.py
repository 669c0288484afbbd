"""The monthly statement through the whole cycle: planned on the owner's day, emailed once with its
PDF (totals as the mirror has them), never twice, whatever fails between sending and recording."""

from __future__ import annotations

import datetime as dt
import email
import io
from collections import defaultdict
from decimal import Decimal
from email import policy

import pypdf
from sqlalchemy import select

from integration.cycle.plan import claim
from integration.owner.outbox import OutboxQuery, outbox_email, outbox_page
from integration.policy.actions import ActionKind, PlannedAction
from integration.store.db import transaction
from integration.store.models import ActionStatus, MirroredCustomer, MirroredInvoice
from reminders.delivery import DeliveryReceipt, DeliveryTransient, EmailMessage
from tests.cycle.conftest import World

LIVE: dict[str, object] = {"mode": "live"}
STATEMENTS_ON: dict[str, object] = {
    "mode": "live",
    "statements": {"enabled": True, "day_of_month": 23},
}  # NOW is 23 November


def _statements(world: World) -> list:  # type: ignore[type-arg]
    return [a for a in world.actions() if a.kind == "send_statement"]


def _cycle_today_and_tomorrow(world: World, **overrides: object) -> None:
    """Today's reminders went first: one message a day holds the statements for tomorrow's window."""
    assert world.cycle(**overrides).status == "done"
    assert all(a.status == ActionStatus.PLANNED for a in _statements(world) if a.status != ActionStatus.FAILED)
    world.clock.advance(dt.timedelta(days=1))
    assert world.cycle(**overrides).status == "done"


def _mirror_totals(world: World) -> dict[str, Decimal]:
    """What each customer owes by the mirror, by customer name."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with world.sessions() as session:
        names = {c.provider_id: c.name for c in session.scalars(select(MirroredCustomer))}
        for invoice in session.scalars(select(MirroredInvoice).where(MirroredInvoice.status == "open")):
            totals[names[invoice.customer_provider_id]] += invoice.balance
    return dict(totals)


def test_statements_go_out_once_on_the_day_with_the_mirrors_totals(world: World) -> None:
    world.set_rules(STATEMENTS_ON)
    _cycle_today_and_tomorrow(world)
    statements = _statements(world)
    owing = _mirror_totals(world)
    assert len(statements) == len([amount for amount in owing.values() if amount > 0]) == 3
    done = [a for a in statements if a.status == ActionStatus.DONE]
    failed = [a for a in statements if a.status == ActionStatus.FAILED]
    assert len(done) == 2 and len(failed) == 1  # Cobalt Dental has no email address
    assert "no valid email address" in (failed[0].last_error or "")
    sent = [e for e in world.outbox.entries() if "statement" in e["categories"]]
    assert len(sent) == 2 and all(e["attachments"] for e in sent)
    for entry in sent:
        eml = email.message_from_bytes(world.outbox.path_for(entry["key"]).read_bytes(), policy=policy.default)
        (attached,) = eml.iter_attachments()
        text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(attached.get_content())).pages)
        name = next(n for n in owing if n in text)
        assert f"Total due (USD): ${owing[name]:,.2f}" in text

    with world.sessions() as session:
        listed = [
            r
            for r in outbox_page(session, world.organization_id, OutboxQuery()).rows
            if r.stage == "statement of account"
        ]
        shown = outbox_email(session, world.organization_id, done[0].id)
    assert len(listed) == 3 and shown.text and "Attached is your statement" in shown.text and shown.note is None

    assert world.cycle().status == "done"  # again: nothing new planned or sent
    assert len(_statements(world)) == 3
    assert len([e for e in world.outbox.entries() if "statement" in e["categories"]]) == 2


def test_off_by_default_no_statement_is_planned(world: World) -> None:
    world.set_rules(LIVE)
    assert world.cycle().status == "done"
    assert _statements(world) == []


class _LostAnswer:
    """The outbox, whose answer to each statement is lost once after it has written it."""

    idempotent = True

    def __init__(self, world: World) -> None:
        self.outbox, self.lost = world.outbox, set()  # type: ignore[var-annotated]

    def send(self, message: EmailMessage) -> DeliveryReceipt:
        receipt = self.outbox.send(message)
        if "statement" in message.categories and message.key not in self.lost:
            self.lost.add(message.key)
            raise DeliveryTransient("connection dropped after sending", ambiguous=True)
        return receipt


def test_an_answer_lost_after_sending_never_sends_twice(world: World) -> None:
    world.set_rules(STATEMENTS_ON)
    flaky = _LostAnswer(world)
    _cycle_today_and_tomorrow(world, sender=flaky)
    assert world.cycle(sender=flaky).status == "done"  # retried: the outbox already holds it
    statements = [a for a in _statements(world) if a.status == ActionStatus.DONE]
    assert len(statements) == 2 and all(a.attempts == 2 for a in statements)  # the lost answer, then done
    keys = [e["key"] for e in world.outbox.entries() if "statement" in e["categories"]]
    assert len(keys) == len(set(keys)) == 2


def test_a_statement_the_owner_is_sending_from_a_page_is_left_to_that_request(world: World) -> None:
    """Claimed in flight by the owner's request (integration.cycle.requested_statement): the cycle's
    executor neither recovers nor sends it, whatever the rules say about monthly statements."""
    world.set_rules(LIVE)
    assert world.cycle().status == "done"  # the mirror is filled
    with transaction(world.sessions) as session:
        customer = session.scalars(select(MirroredCustomer).where(MirroredCustomer.email.is_not(None))).first()
        assert customer is not None
        action = PlannedAction(
            kind=ActionKind.SEND_STATEMENT,
            customer_id=customer.provider_id,
            invoice_ids=(),
            stage=None,
            recipients=(customer.email or "",),
            reason="statement of account, emailed at your request",
            idempotency_key=f"statement:{world.connection_id}:{customer.provider_id}:2026-11-23",
        )
        facts = {"sending": True, "requested_at": world.clock.now().isoformat()}
        action_id = claim(session, world.organization_id, world.connection_id, action, facts)
    assert world.cycle().status == "done"
    (row,) = [a for a in _statements(world) if a.id == action_id]
    assert row.status is ActionStatus.IN_FLIGHT and row.attempts == 1
    assert [e for e in world.outbox.entries() if "statement" in e["categories"]] == []
