"""A ladder stage with `letter` on leaves one letter per delivered reminder, with the email's words
but for how to answer (a letter cannot be replied to), kept once however often the cycle runs."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from integration.owner.letters import mark_posted, note_posted
from integration.store.db import transaction
from integration.store.models import ActionStatus, ActivityEntry, Letter
from tests.cycle.conftest import NOW, World

LIVE: dict[str, object] = {"mode": "live"}
LETTERS_ON: dict[str, object] = {"mode": "live", "ladder": {"stages": [{"letter": True}] * 7}}


def _letters(world: World) -> list[Letter]:
    with world.sessions() as session:
        return list(session.scalars(select(Letter).order_by(Letter.id)))


def test_each_delivered_reminder_of_a_letter_stage_leaves_one_letter(world: World) -> None:
    world.set_rules(LETTERS_ON)
    assert world.cycle().status == "done"
    delivered = [a for a in world.actions() if a.kind == "send_reminder" and a.status == ActionStatus.DONE]
    letters = _letters(world)
    assert delivered and sorted(letter.action_id for letter in letters) == sorted(a.id for a in delivered)
    by_action = {a.id: a for a in delivered}
    for letter in letters:
        email = by_action[letter.action_id].payload
        assert letter.subject == email["subject"] and letter.posted_at is None
        assert abs(letter.created_at - NOW) < dt.timedelta(minutes=5)  # by the cycle's clock, as its email went out
        assert "Reply to this email or write to" in email["body_text"]
        assert "reply to this email" not in letter.body_text.lower()
        # The same words but for how to answer: where the email says to reply, the letter names the address.
        found = re.search(r"Reply to this email or write to (\S+)\.\n", email["body_text"])
        assert found is not None
        answered = letter.body_text.replace("? Write to", "? Reply to this email or write to")
        assert answered.replace(f"write to {found.group(1)} ", "reply to this email ") == email["body_text"]
    assert world.cycle().status == "done"
    assert len(_letters(world)) == len(letters)


def test_no_letter_unless_the_stage_asks(world: World) -> None:
    world.set_rules(LIVE)
    assert world.cycle().status == "done"
    assert [a for a in world.actions() if a.status == ActionStatus.DONE] and _letters(world) == []


def test_marking_posted_in_live_mode_notes_it_on_the_invoices_in_the_books(world: World) -> None:
    world.set_rules(LETTERS_ON)
    assert world.cycle().status == "done"
    letter = _letters(world)[0]
    with transaction(world.sessions) as session:
        posted = mark_posted(session, world.organization_id, letter.id, NOW)
    assert posted.entry_id is not None
    error = note_posted(world.sessions, world.organization_id, posted.entry_id, world.deps().connectors, NOW.date())
    assert error is None
    with world.sessions() as session:
        action = next(a for a in world.actions() if a.id == letter.action_id)
        entry = session.get_one(ActivityEntry, posted.entry_id)
    assert entry.details["note"] == "written"
    for invoice_id in action.payload["delivered"]:
        assert f'Letter posted: "{letter.subject}"' in world.notes()[invoice_id]
    with transaction(world.sessions) as session:
        assert mark_posted(session, world.organization_id, letter.id, NOW).entry_id is None  # once
