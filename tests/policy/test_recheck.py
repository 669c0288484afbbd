"""The executor's re-check at send time (issue 14): pure, rule by rule."""

from __future__ import annotations

import datetime as dt

import pytest

from integration.policy.actions import ActionKind
from integration.policy.pauses import NOT_PAUSED, PauseState
from integration.policy.recheck import GO, OwnerWord, Pending, needs_approval, recheck
from integration.policy.rules import Rules
from integration.policy.snapshot import CustomerOverride

ZONE = "America/Denver"
MONDAY_10 = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)  # 10:00 in Denver
EMAIL = Pending(ActionKind.SEND_REMINDER, "reminder_1", "email", ("inv-1", "inv-2"))
RULES = Rules.default()


def _check(pending: Pending = EMAIL, word: OwnerWord = OwnerWord(), rules: Rules = RULES, now: dt.datetime = MONDAY_10):  # type: ignore[no-untyped-def]
    return recheck(pending, word, rules, ZONE, now)


def test_nothing_changed_goes_ahead() -> None:
    assert _check() == GO


@pytest.mark.parametrize(
    ("override", "words"),
    [
        (CustomerOverride("c1", excluded=True), "excluded"),
        (CustomerOverride("c1", paused=True), "paused"),
        (CustomerOverride("c1", opted_out=True), "opted out"),
    ],
)
def test_the_owners_word_on_the_customer_since_planning_skips(override: CustomerOverride, words: str) -> None:
    verdict = _check(word=OwnerWord(override))
    assert verdict.skip is not None and words in verdict.skip


def test_a_paused_customer_is_still_released_from_hold() -> None:
    release = Pending(ActionKind.CREDIT_HOLD_OFF, None, None, ())
    assert _check(release, OwnerWord(CustomerOverride("c1", paused=True))) == GO


def test_invoices_paused_since_are_left_out_and_all_paused_skips() -> None:
    promised = PauseState(True, "promised to pay by 2026-12-01")
    some = _check(word=OwnerWord(pauses={"inv-1": promised, "inv-2": NOT_PAUSED}))
    assert some.skip is None and dict(some.left_out) == {"inv-1": "promised to pay by 2026-12-01"}
    every = _check(word=OwnerWord(pauses={"inv-1": promised, "inv-2": PauseState(True, "disputed")}))
    assert every.skip == "invoice promised to pay by 2026-12-01; invoice disputed since this was planned"
    task = Pending(ActionKind.CREATE_CALL_TASK, "reminder_2", None, ("inv-1",))
    assert _check(task, OwnerWord(pauses={"inv-1": promised})).skip is not None


def test_a_stage_turned_off_or_moved_to_another_channel_skips() -> None:
    data = RULES.to_json()
    data["ladder"]["stages"][2]["enabled"] = False
    assert "turned off" in (_check(rules=Rules.from_json(data)).skip or "")
    data = RULES.to_json()
    data["ladder"]["stages"][2]["channel"] = "call"
    assert "channel was changed to call" in (_check(rules=Rules.from_json(data)).skip or "")


def test_invoices_paid_since_skip_even_a_step_waiting_for_approval() -> None:
    notice = Pending(ActionKind.SEND_REMINDER, "final_notice", "email", ("inv-1", "inv-2"))
    assert "paid or closed" in (_check(notice, OwnerWord(closed=frozenset({"inv-1", "inv-2"}))).skip or "")
    assert _check(notice, OwnerWord(closed=frozenset({"inv-1"}))).ask_owner  # one still owed: still a question


def test_quiet_hours_as_they_stand_re_time() -> None:
    evening = dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)  # Monday 21:00 in Denver
    assert _check(now=evening).wait_until == dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # Tuesday 08:00
    later = Rules.from_json({"schedule": {"send_from_hour": 11}})
    assert _check(rules=later).wait_until == dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)  # today 11:00
    customer_zone = OwnerWord(CustomerOverride("c1", timezone="Europe/London"))  # 17:00 in London: open
    assert _check(word=customer_zone) == GO


def test_one_message_a_day_waits_for_tomorrows_window() -> None:
    verdict = _check(word=OwnerWord(messaged_today=True))
    assert verdict.wait_until == dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # Tuesday 08:00 Denver
    note = Pending(ActionKind.ADD_NOTE, "reminder_1", None, ("inv-1",))
    assert _check(note, OwnerWord(messaged_today=True)) == GO  # only what reaches the customer counts


def test_threatening_steps_ask_the_owner_until_approved() -> None:
    notice = Pending(ActionKind.SEND_REMINDER, "final_notice", "email", ("inv-1",))
    assert _check(notice).ask_owner
    assert _check(Pending(ActionKind.SEND_REMINDER, "final_notice", "email", ("inv-1",), approved=True)) == GO
    assert needs_approval(ActionKind.CREDIT_HOLD_ON, None, RULES) and needs_approval(
        ActionKind.RECOMMEND_ESCALATION, None, RULES
    )
    go_ahead = Rules.from_json({"approval": {"final_notice": False, "credit_hold": False, "escalation": False}})
    assert _check(notice, rules=go_ahead) == GO
    assert not needs_approval(ActionKind.CREDIT_HOLD_ON, None, go_ahead)
    hold = Pending(ActionKind.CREDIT_HOLD_ON, None, None, ())
    assert "turned off" in (_check(hold, rules=Rules.from_json({"credit_hold": {"enabled": False}})).skip or "")
