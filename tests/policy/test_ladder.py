"""The ladder's rules on their own: which stage an invoice is due for, and the screen's data."""

from __future__ import annotations

import math

from integration.policy.ladder import NO_STAGE, STAGE_INDEX, LadderSchedule, LastStep, Step, record_step
from integration.policy.pauses import NOT_PAUSED, PauseState
from integration.policy.rules import Rules
from tests.policy.builders import TODAY, invoice

SCHEDULE = LadderSchedule(Rules.default())
T = TODAY.toordinal()
REMINDER_1, REMINDER_2, PAST_DUE_30 = STAGE_INDEX["reminder_1"], STAGE_INDEX["reminder_2"], STAGE_INDEX["past_due_30"]


def due_step(
    days_late: int, last: LastStep | None = None, paid_on: int | None = None, pause: PauseState = NOT_PAUSED
) -> Step | None:
    return SCHEDULE.step_due(invoice("inv-1", days_late), T - days_late, pause, last, paid_on, T, 0)


def test_the_stage_for_an_invoices_age_and_grace_delays_only_the_stages_after_the_due_date() -> None:
    assert SCHEDULE.stage_for_age(20, 50, 0) == REMINDER_2
    assert SCHEDULE.stage_for_age(20, 50, 10) == REMINDER_1
    assert SCHEDULE.stage_for_age(-3, 27, 10) == STAGE_INDEX["courtesy"]
    assert SCHEDULE.stage_for_age(-10, 4, 0) == STAGE_INDEX["check_in"]
    assert SCHEDULE.stage_for_age(-10, 2, 0) == NO_STAGE


def test_a_backlog_gets_the_stage_for_its_age_once_and_nothing_repeats() -> None:
    step = due_step(40)
    assert step is not None and step.stage == PAST_DUE_30 and step.anchor == T - 10
    assert due_step(40, last=LastStep(T - 10, PAST_DUE_30)) is None


def test_a_part_payment_after_the_last_step_restarts_the_clock() -> None:
    last = LastStep(T - 20, REMINDER_1)  # the next gap, reminder_1 -> reminder_2, is 13 days
    assert due_step(21, last, paid_on=T - 12) is None
    step = due_step(21, last, paid_on=T - 13)
    assert step is not None and step.stage == REMINDER_2 and step.anchor == T and "part payment" in step.why


def test_a_broken_promise_resumes_the_ladder_a_stage_up_at_once() -> None:
    broken = PauseState(False, "did not pay by the promised 2026-06-01", T - 8)
    step = due_step(5, LastStep(T - 30, REMINDER_1), pause=broken)
    assert (
        step is not None
        and step.stage == REMINDER_2
        and step.anchor == T - 8
        and step.why.endswith("so the reminders resume")
    )


def test_history_entries_merge_to_the_latest_day_and_the_highest_stage() -> None:
    done: dict[str, LastStep] = {}
    record_step(done, ["a", "b"], LastStep(T - 5, REMINDER_1))
    record_step(done, ["a"], LastStep(T - 9, REMINDER_2))
    assert done == {"a": LastStep(T - 5, REMINDER_2), "b": LastStep(T - 5, REMINDER_1)}


def test_the_screen_needs_stages_that_rise_which_a_negative_grace_can_undo() -> None:
    next_at = SCHEDULE.thresholds(0).next_at
    assert next_at is not None and next_at[REMINDER_1] == 14 and next_at[STAGE_INDEX["final_notice"]] == math.inf
    assert SCHEDULE.screen({}, frozenset()) is not None
    assert SCHEDULE.thresholds(-12).next_at is None  # reminder_1 would fall before the courtesy heads-up


def test_a_stage_may_come_early_only_after_the_first_overdue_reminder_and_half_its_gap() -> None:
    earlies = SCHEDULE.earlies(0)
    assert earlies[STAGE_INDEX["courtesy"]] is None  # the first overdue reminder keeps day 1
    early = earlies[REMINDER_2]
    assert early is not None and (early.stage, early.at, early.half_gap, early.soonest) == (PAST_DUE_30, 30, 8, 22)
    shifted = SCHEDULE.earlies(5)[REMINDER_2]  # a good customer's grace moves both days
    assert shifted is not None and (shifted.at, shifted.soonest) == (35, 27)
    assert earlies[STAGE_INDEX["final_notice"]] is None  # the top of the ladder
    data = Rules.default().to_json()
    data["ladder"]["stages"][PAST_DUE_30]["channel"] = "call"
    calls = LadderSchedule(Rules.from_json(data))
    assert calls.earlies(0)[REMINDER_2] is None  # a call is the owner's time, on the ladder's day


def test_the_screen_sets_apart_what_may_come_early_and_only_with_habits_on() -> None:
    screen = SCHEDULE.screen({}, frozenset())
    assert screen is not None and (screen.next_at[REMINDER_1], screen.next_at[REMINDER_2]) == (14, 30)
    assert (screen.early_from[REMINDER_1], screen.early_from[REMINDER_2]) == (8, 22)
    off = LadderSchedule(Rules.from_json({"grace": {"habit_wait_days": 0}})).screen({}, frozenset())
    assert off is not None and off.early_from == off.next_at
