"""The ladder as data, and the rule that says which stage an open invoice is due for today.

An invoice's place on the ladder comes from the history of what was already done, never from a
counter: the stage due today is the highest stage its age has reached beyond the last one done,
so a backlog gets the stage for its age, a missed cycle catches up once, and nothing repeats. A
part payment after the last step restarts the clock for the next step (no skip, no repeat); a
broken promise or plan resumes the ladder a stage up at once.

Stages are indexes into STAGES and dates are ordinals (`date.toordinal()`): these rules run for
every open invoice of the book.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import NamedTuple

from connectors.contract import Invoice
from integration.policy.pauses import PauseState
from integration.policy.rules import STAGES, Rules, Stage

NO_STAGE = -1  # the stage of an invoice with nothing done yet, and "no stage due"
STAGE_INDEX = {name: index for index, name in enumerate(STAGES)}
REMINDER_1 = STAGE_INDEX["reminder_1"]
EARLY_NOTICE_DAYS = 7  # a stage brought forward lands at least this long before the customer starts paying


class LastStep(NamedTuple):
    """Where an invoice stands: the latest day a step was done on it and the highest stage done.
    When the history holds several steps for one invoice, the two may come from different ones."""

    day: int
    stage: int

    def merged(self, other: LastStep) -> LastStep:
        return LastStep(max(self.day, other.day), max(self.stage, other.stage))


def record_step(done: dict[str, LastStep], invoice_ids: Iterable[str], step: LastStep) -> None:
    """Add one history entry's step to `done` (invoice id -> last step)."""
    for invoice_id in invoice_ids:
        known = done.setdefault(invoice_id, step)
        if known is not step:
            done[invoice_id] = known.merged(step)


@dataclass(frozen=True, slots=True)
class Step:
    """One invoice whose next stage is due today: the stage, the date the step rests on (its
    key's anchor), how late the invoice is, and why when it is not simply its age."""

    invoice: Invoice
    stage: int
    anchor: int
    days: int  # past due, negative before the due date
    why: str = ""


@dataclass(frozen=True, slots=True)
class Screen:
    """The pre-filter: which open invoices surely have no step due today, so that gather can leave
    them out and decide walks only the rest. gather applies it (`profiles.gather`, inline: it runs
    for nearly every open invoice of a large book).

    An invoice waits when its customer is screened, it has a step done, is not yet `next_at[stage]`
    days past due (the first day a later stage is due, without grace), nothing was paid on it since
    that step (`paid_since`) and no broken promise or plan can resume it. Grace only delays stages,
    so what waits without grace waits with it; customers whose owner's grace could bring a stage
    forward are `unscreened`, and so are customers with credit (settle weighs every open invoice).

    A waiting invoice at least `early_from[stage]` days past due may still have its next stage come
    early (`LadderSchedule.earlies`): gather sets it apart, and decide weighs it only when the
    customer's habit could bring the stage forward, which few customers' habits do."""

    done: Mapping[str, LastStep]
    next_at: tuple[float, ...]
    unscreened: frozenset[str]
    early_from: tuple[float, ...]
    paid_since: frozenset[str] = frozenset()  # invoices paid since their last step: see with_payments

    def with_payments(self, last_applied: Mapping[str, int]) -> Screen:
        """This screen once the payments are known. The invoices paid since their last step are found
        once, from the ids both paid and stepped (key views intersect at C speed), rather than looked
        up in the payments for every open invoice: in a large book each lookup is a cache miss."""
        both = last_applied.keys() & self.done.keys()
        return replace(self, paid_since=frozenset(i for i in both if last_applied[i] > self.done[i].day))


class Early(NamedTuple):
    """How far the stage after an invoice's last one may come before its day on the ladder, for a
    customer whose habit says they will not have paid by then (`due_steps.DueSteps.early_candidate`). It
    never comes in the first half of the gap after the stage before: neither by the ladder's days
    nor after the day that stage was actually done."""

    stage: int
    at: int  # days past due it falls due on the ladder, grace included
    half_gap: int  # half the days from the stage before, rounded up
    soonest: int  # days past due it may come on at the earliest: the stage before's, plus half_gap

    @classmethod
    def after(cls, stage: int, before: int, at: int) -> Early | None:
        """The stage falling due `at` days past due, after one falling due `before`; None when the
        gap leaves no room."""
        half_gap = (at - before + 1) // 2
        return cls(stage, at, half_gap, before + half_gap) if before + half_gap < at else None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the stages after issue fall due, for one grace shift.

    `days[n]` is the days past due from which the n-th post-issue stage is due; `next_at[last]` the
    days past due from which a stage after `last` is due (inf: none is). `next_at` is None when the
    days do not rise with the stage, which only an owner's negative grace override can cause."""

    days: tuple[int, ...]
    next_at: tuple[float, ...] | None


class LadderSchedule:
    """The rules' ladder as data: the enabled stages and the days they fall due. Check-in counts
    from the issue date, every later stage from the due date; a customer's grace delays the
    stages after the due date."""

    def __init__(self, rules: Rules) -> None:
        self.stages: tuple[Stage, ...] = rules.ladder.stages
        self.enabled = tuple(index for index, stage in enumerate(self.stages) if stage.enabled)
        self.post_issue = tuple(index for index in self.enabled if index > 0)
        self.check_in = 0 in self.enabled
        self.stages_up = rules.pauses.broken_promise_stages_up
        self.habits = rules.grace.habit_wait_days > 0  # habits off: no stage waits for one or comes early
        self._thresholds: dict[int, Thresholds] = {}  # by grace shift: a book has a few distinct ones
        self._earlies: dict[int, tuple[Early | None, ...]] = {}  # by grace shift
        # The first ladder day (past due) of any stage that may come early: a customer whose habit
        # reaches no further has nothing brought forward.
        self.earliest_early = min((e.at for e in self.earlies(0) if e is not None), default=math.inf)

    def offset(self, index: int, shift: int) -> int:
        """A stage's days from its start date (issue for check-in, due date for the others), grace included."""
        offset = self.stages[index].offset_days
        return offset + shift if offset > 0 and index > 0 else offset

    def thresholds(self, shift: int) -> Thresholds:
        found = self._thresholds.get(shift)
        if found is None:
            days = tuple(self.offset(index, shift) for index in self.post_issue)
            next_at = None
            if all(a < b for a, b in pairwise(days)):
                next_at = tuple(
                    next((d for i, d in zip(self.post_issue, days, strict=True) if i > last), math.inf)
                    for last in range(len(STAGES))
                )
            found = self._thresholds[shift] = Thresholds(days, next_at)
        return found

    def earlies(self, shift: int) -> tuple[Early | None, ...]:
        """How early the stage after each last stage done may come, indexed by that stage. Only the
        overdue emails after the first: the first overdue reminder keeps its day (a late payer hears
        at once), and a call is the owner's time. None at the top of the ladder, or when the gap
        leaves no room."""
        found = self._earlies.get(shift)
        if found is None:
            found = self._earlies[shift] = tuple(self._early(last, shift) for last in range(len(STAGES)))
        return found

    def _early(self, last_stage: int, shift: int) -> Early | None:
        following = self.after(last_stage) if last_stage >= REMINDER_1 else None
        if following is None or not self.stages[following].by_email:
            return None
        return Early.after(following, self.offset(last_stage, shift), self.offset(following, shift))

    def screen(self, done: Mapping[str, LastStep], unscreened: frozenset[str]) -> Screen | None:
        """The pre-filter for this ladder, or None when its stages do not rise (nothing can be screened)."""
        next_at = self.thresholds(0).next_at
        if next_at is None:
            return None
        early_from = next_at
        if self.habits:
            early_from = tuple(at if e is None else e.soonest for at, e in zip(next_at, self.earlies(0), strict=True))
        return Screen(done, next_at, unscreened, early_from)

    def stage_day(self, index: int, issue: int, due: int, shift: int) -> int:
        return (issue if index == 0 else due) + self.offset(index, shift)

    def after(self, index: int, steps: int = 1) -> int | None:
        """The enabled stage `steps` above `index` (the last one if fewer are left), None past the top."""
        later = [i for i in self.enabled if i > index]
        if not later:
            return None
        return later[min(steps, len(later)) - 1]

    def stage_for_age(self, days_past_due: int, days_since_issue: int, shift: int) -> int:
        """The highest stage an invoice of this age has reached (NO_STAGE: none yet)."""
        position = bisect_right(self.thresholds(shift).days, days_past_due) - 1
        if position >= 0:
            return self.post_issue[position]
        if self.check_in and days_since_issue >= self.stages[0].offset_days:
            return 0
        return NO_STAGE

    def step_due(
        self,
        invoice: Invoice,
        due: int,
        pause: PauseState,
        last: LastStep | None,
        paid_on: int | None,
        today: int,
        shift: int,
    ) -> Step | None:
        """The step due today on one open invoice not paused, if any. A broken promise or plan comes
        first, then a part payment since the last step; otherwise the invoice's age decides."""
        issue = invoice.issue_date.toordinal()
        days = today - due
        reached = self.stage_for_age(days, today - issue, shift)
        last_stage = NO_STAGE if last is None else last.stage
        if pause.broken_on is not None and (last is None or last.day < pause.broken_on):
            resumed = self._resumed(last_stage, reached)
            if resumed > last_stage:
                return Step(invoice, resumed, pause.broken_on, days, f"{pause.why}, so the reminders resume")
        if last is not None and paid_on is not None and last.day < paid_on:
            return self._after_part_payment(invoice, last.stage, paid_on, issue, due, days, today, shift)
        if reached <= last_stage:
            return None
        return Step(invoice, reached, self.stage_day(reached, issue, due, shift), days)

    def _resumed(self, last_stage: int, reached: int) -> int:
        """After a broken promise or plan: `stages_up` stages above the last one done, or the stage
        for the invoice's age when that is higher."""
        bumped = self.after(last_stage, self.stages_up) if self.stages_up else None
        return max(reached, NO_STAGE if bumped is None else bumped)

    def _after_part_payment(
        self, invoice: Invoice, last_stage: int, paid_on: int, issue: int, due: int, days: int, today: int, shift: int
    ) -> Step | None:
        """A part payment after the last step restarts the clock: the next stage waits its usual gap
        after the last one, counted from the payment (at least a day)."""
        following = self.after(last_stage)
        if following is None:
            return None
        gap = self.stage_day(following, issue, due, shift) - self.stage_day(last_stage, issue, due, shift)
        anchor = paid_on + max(gap, 1)
        if today < anchor:
            return None
        return Step(
            invoice,
            following,
            anchor,
            days,
            f"a part payment on {dt.date.fromordinal(paid_on).isoformat()} restarted the clock",
        )
