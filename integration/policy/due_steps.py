"""Which open invoices of a customer have a ladder step due today, and how the customer's own
payment habit moves the overdue emails among them: one waits while they will have paid soon anyway
(the habit wait), one they would not have paid by comes before their window for paying opens (an
early step). Pure, and run by decide for every customer with open invoices.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.contract import Invoice
from integration.policy.ladder import EARLY_NOTICE_DAYS, REMINDER_1, Early, LadderSchedule, LastStep, Step
from integration.policy.prediction import Prediction, Span, habit_of, span_of
from integration.policy.profiles import CustomerFacts, MonthEnd
from integration.policy.reasons import lateness
from integration.policy.rules import Rules


class DueSteps:
    """The inputs every customer shares, for one decide call."""

    def __init__(
        self,
        rules: Rules,
        schedule: LadderSchedule,
        done: Mapping[str, LastStep],
        last_applied: Mapping[str, int],
        today_ord: int,
    ) -> None:
        self.rules, self.schedule, self.stages = rules, schedule, schedule.stages
        self.done, self.last_applied, self.today_ord = done, last_applied, today_ord
        self.month_end = MonthEnd(rules.mid_month.month_end_days)

    def steps(self, entry: CustomerFacts, shift: int) -> list[Step]:
        """The invoices with a stage due today. A paused invoice waits (its pause is the owner's word).
        With habits on, the customer's own history moves overdue emails: one waits while they will
        have paid soon anyway (`habit_waits`), and one they would not have paid by comes before
        their window for paying opens (`early_step`). Customers with too little history keep the
        ladder as it stands."""
        span = span_of(entry) if self.schedule.habits else None
        stages, earlies, steps = self.stages, self.schedule.earlies(shift), []
        movable: list[tuple[Invoice, int, Step | Early]] = []  # what the customer's habit may move
        for item in entry.open:
            if item.pause.active:
                continue
            last = self.done.get(item.invoice.provider_id)
            paid_on = self.last_applied.get(item.invoice.provider_id) if last is not None else None
            step = self.schedule.step_due(item.invoice, item.due, item.pause, last, paid_on, self.today_ord, shift)
            if step is None:
                early = self.early_candidate(item.due, last, paid_on, earlies, span)
                if early is not None:
                    movable.append((item.invoice, item.due, early))
            elif span is not None and step.days >= 1 and step.stage >= REMINDER_1 and stages[step.stage].by_email:
                movable.append((item.invoice, item.due, step))
            else:
                steps.append(step)
        if entry.early and span is not None and self.may_come_early(self.schedule.earliest_early, span.latest_likely):
            for invoice in entry.early:  # set apart by the screen: nothing is due on them but an early stage
                due = (invoice.due_date or invoice.issue_date).toordinal()
                early = self.early_candidate(due, self.done[invoice.provider_id], None, earlies, span)
                if early is not None:
                    movable.append((invoice, due, early))
        if not movable:
            return steps
        habit = habit_of(entry)  # worked out only now: most customers need none
        assert habit is not None, "only a customer with enough history has anything movable"
        for invoice, due, moving in movable:
            prediction = habit.for_kind(self.month_end[invoice.due_date or invoice.issue_date])
            if isinstance(moving, Early):
                step = self.early_step(prediction, invoice, due, moving)
                if step is not None:
                    steps.append(step)
            elif not self.habit_waits(prediction, moving):
                steps.append(moving)
        return steps

    def habit_waits(self, prediction: Prediction, step: Step) -> bool:
        """An overdue email waits while the customer's own history says they will have paid within
        `grace.habit_wait_days` (their latest payment on comparable invoices, plus a margin), unless
        they are slipping. Calls and customers with too little history keep the ladder's day."""
        return (
            not prediction.slipping
            and step.days <= prediction.likely_late < step.days + self.rules.grace.habit_wait_days
        )

    def may_come_early(self, at: float, likely_late: int) -> bool:
        """Whether a stage falling due `at` days past due may come early for a customer likely to pay
        by `likely_late`: only when the habit wait could not hold it on its day."""
        return at + self.rules.grace.habit_wait_days <= likely_late

    def early_candidate(
        self, due: int, last: LastStep | None, paid_on: int | None, earlies: tuple[Early | None, ...], span: Span | None
    ) -> Early | None:
        """The stage after the last one done, when it may come early today, for a customer whose
        payments spread too widely for the habit wait to cover: they may pay any time in a long
        window, so an email on the ladder's day often lands as they pay anyway (a false alarm). It
        comes over EARLY_NOTICE_DAYS before the soonest they have ever paid, when the ladder's
        spacing leaves room for that (`earlies`, for the customer's grace: never in the first half
        of the gap after the stage before); a stage that could not land before then keeps its day.
        Not after a part payment since the last step either: that restarts the ladder's clock."""
        if span is None or last is None or (paid_on is not None and paid_on > last.day):
            return None
        early = earlies[last.stage]
        if early is None or not self.may_come_early(early.at, span.latest_likely):
            return None
        lands = max(span.opens_late - EARLY_NOTICE_DAYS - 1, early.soonest)
        if lands >= span.opens_late or not lands <= self.today_ord - due < early.at:
            return None
        return early if self.today_ord - last.day >= early.half_gap else None

    def early_step(self, prediction: Prediction, invoice: Invoice, due: int, early: Early) -> Step | None:
        """The stage brought forward (early_candidate), unless this invoice's own prediction (a
        month-end invoice is judged by their month-end ones) says the habit wait will hold it."""
        if not self.may_come_early(early.at, prediction.likely_late):
            return None
        why = f"brought forward from day {early.at}: they have never paid sooner than {lateness(prediction.opens_late)}"
        days = self.today_ord - due
        return Step(invoice, early.stage, due + early.at, days, f"{why}, so it reaches them before they pay")
