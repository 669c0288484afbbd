"""Preview (what would happen today) and backtest (what would have happened over a past period).

Backtest replays each day of the period on a scenario's books as they stood that day: invoices
exist from their issue date and are paid on their real payment dates, and every action decided is
fed back into the history as if it had been done, so the next day sees it. The figure owners care
about most is the false alarms: reminders that went to invoices paid within a few days anyway,
set beside the same figures for QuickBooks' and Xero's own schedules (integration.policy.baselines).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.sandbox.scenario import Scenario
from integration.policy.actions import ActionKind, PlannedAction
from integration.policy.aging import Aging, aging
from integration.policy.baselines import (
    BUILT_IN_SCHEDULES,
    PolicyFigures,
    count_late_nudges,
    days_to_pay,
    fixed_schedule,
    late_invoices,
)
from integration.policy.credits import settled_invoices
from integration.policy.decide import decide
from integration.policy.history import record
from integration.policy.profiles import PaymentProfile, payment_profiles
from integration.policy.rules import STAGES, Rules
from integration.policy.scenario_snapshot import snapshot_from_scenario
from integration.policy.snapshot import History, Snapshot

# Reminders from reminder_1 on speak of lateness; a check-in or courtesy note is never an alarm.
ALARM_STAGES = frozenset(STAGES[2:])


@dataclass(frozen=True)
class Preview:
    actions: list[PlannedAction]
    profiles: dict[str, PaymentProfile]
    aging: Aging


def preview(snapshot: Snapshot, rules: Rules, now: dt.datetime) -> Preview:
    return Preview(decide(snapshot, rules, now), payment_profiles(snapshot, rules, now), aging(snapshot, now))


def decision_time(day: dt.date, timezone: str, rules: Rules) -> dt.datetime:
    """The instant a daily cycle runs in a replay: the opening hour of the send window, local."""
    local = dt.datetime(day.year, day.month, day.day, rules.schedule.send_from_hour, tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


@dataclass
class BacktestReport:
    start: dt.date
    end: dt.date
    days: int = 0
    reminders_by_stage: Counter[str] = field(default_factory=Counter)  # invoice-steps per stage, by email
    holds_on: list[tuple[dt.date, str]] = field(default_factory=list)
    holds_off: list[tuple[dt.date, str]] = field(default_factory=list)
    mid_month_moves: list[tuple[dt.date, str]] = field(default_factory=list)
    escalations: int = 0
    false_alarm_days: int = 7
    # Observed, not simulated (see integration.policy.baselines): the same for every policy.
    days_to_pay: float | None = None
    # "arpilot" (its overdue steps are the reminders from reminder_1 on), then each built-in schedule.
    policies: dict[str, PolicyFigures] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.policies.setdefault("arpilot", PolicyFigures("arpilot", self.false_alarm_days))

    @property
    def arpilot(self) -> PolicyFigures:
        return self.policies["arpilot"]

    @property
    def emails(self) -> int:
        return self.arpilot.emails

    @property
    def call_tasks(self) -> int:
        return self.arpilot.calls

    @property
    def settled_reminders(self) -> int:
        """Invoice-steps of arpilot's reminders to invoices already paid, or covered by the customer's
        credit, on the day they went out: a reminder no customer should ever get."""
        return self.arpilot.settled_reminders

    @property
    def alarm_reminders(self) -> int:
        return self.arpilot.overdue_reminders

    @property
    def false_alarms(self) -> int:
        return self.arpilot.false_alarms

    @property
    def false_alarm_pct(self) -> float:
        return self.arpilot.false_alarm_pct

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "emails": self.emails,
            "call_tasks": self.call_tasks,
            "reminders_by_stage": {stage: self.reminders_by_stage.get(stage, 0) for stage in STAGES},
            "holds_on": [[d.isoformat(), c] for d, c in self.holds_on],
            "holds_off": [[d.isoformat(), c] for d, c in self.holds_off],
            "mid_month_moves": [[d.isoformat(), c] for d, c in self.mid_month_moves],
            "escalations": self.escalations,
            "alarm_reminders": self.alarm_reminders,
            "false_alarms": self.false_alarms,
            "false_alarm_days": self.false_alarm_days,
            "false_alarm_pct": round(self.false_alarm_pct, 1),
            "reminders_to_paid_or_credited": self.settled_reminders,
            "days_to_pay": None if self.days_to_pay is None else round(self.days_to_pay, 1),
            "policies": {name: figures.as_dict() for name, figures in self.policies.items()},
        }


def paid_in_full_on(scenario: Scenario) -> dict[str, dt.date]:
    """The day each invoice's payments first covered its total."""
    totals = {i.id: i.total for i in scenario.invoices}
    running: dict[str, Decimal] = {}
    done: dict[str, dt.date] = {}
    settling = [(p.date, p.id, invoice_id, amount) for p in scenario.payments for invoice_id, amount in p.applied]
    settling += [(a.date, c.id, a.invoice_id, a.amount) for c in scenario.credits for a in c.allocations]
    for day, _, invoice_id, amount in sorted(settling):
        running[invoice_id] = running.get(invoice_id, Decimal(0)) + amount
        if invoice_id not in done and running[invoice_id] >= totals[invoice_id]:
            done[invoice_id] = day
    return done


def backtest(
    history: Scenario,
    rules: Rules,
    start: dt.date,
    end: dt.date,
    *,
    false_alarm_days: int = 7,
    on_day: Callable[[dt.date], None] | None = None,
) -> BacktestReport:
    """Replay every day from start to end (inclusive) on the scenario's books."""
    if end < start:
        raise ValueError(f"the backtest ends ({end}) before it starts ({start})")
    report = BacktestReport(start, end, false_alarm_days=false_alarm_days)
    paid_on = paid_in_full_on(history)
    done = History()
    on_hold: set[str] = set()
    mid_month: set[str] = set()
    day = start
    while day <= end:
        snapshot = snapshot_from_scenario(history, day, done, frozenset(on_hold), frozenset(mid_month))
        actions = decide(snapshot, rules, decision_time(day, history.company.timezone, rules))
        _tally(report, actions, day, paid_on)
        report.arpilot.settled_reminders += _settled_steps(actions, snapshot)
        apply_account_moves(actions, on_hold, mid_month)
        done = record(done, actions, day)
        report.days += 1
        if on_day is not None:
            on_day(day)
        day += dt.timedelta(days=1)
    for schedule in BUILT_IN_SCHEDULES:
        report.policies[schedule.name] = fixed_schedule(history, schedule, start, end, paid_on, false_alarm_days)
    late = late_invoices(history, start, end, paid_on)
    report.days_to_pay = days_to_pay(history, paid_on, start, end)
    for figures in report.policies.values():
        count_late_nudges(figures, late)
        figures.days_to_pay = report.days_to_pay
    return report


def apply_account_moves(actions: list[PlannedAction], on_hold: set[str], mid_month: set[str]) -> None:
    """Update the customers' state at the provider as if the hold and terms moves were done."""
    for action in actions:
        if action.kind is ActionKind.CREDIT_HOLD_ON:
            on_hold.add(action.customer_id)
        elif action.kind is ActionKind.CREDIT_HOLD_OFF:
            on_hold.discard(action.customer_id)
        elif action.kind is ActionKind.SET_MID_MONTH_TERMS:
            mid_month.add(action.customer_id)


def _settled_steps(actions: list[PlannedAction], snapshot: Snapshot) -> int:
    """How many invoice-steps of the day's reminders went to invoices already paid or covered by credit."""
    reminded = [i for a in actions if a.kind is ActionKind.SEND_REMINDER for i in a.invoice_ids]
    if not reminded:
        return 0
    settled = settled_invoices(snapshot)
    return sum(1 for invoice_id in reminded if invoice_id in settled)


def _tally(report: BacktestReport, actions: list[PlannedAction], day: dt.date, paid_on: dict[str, dt.date]) -> None:
    for action in actions:
        kind = action.kind
        if kind is ActionKind.SEND_REMINDER:
            report.arpilot.emails += 1
            for invoice_id, stage in action.payload["invoice_stages"].items():
                report.reminders_by_stage[stage] += 1
                if stage in ALARM_STAGES:
                    report.arpilot.overdue_step(invoice_id, day, paid_on.get(invoice_id))
        elif kind is ActionKind.CREATE_CALL_TASK:
            report.arpilot.calls += 1
            for invoice_id in action.invoice_ids:
                report.arpilot.nudged(invoice_id, day)
        elif kind is ActionKind.CREDIT_HOLD_ON:
            report.holds_on.append((day, action.customer_id))
            report.arpilot.holds += 1
        elif kind is ActionKind.CREDIT_HOLD_OFF:
            report.holds_off.append((day, action.customer_id))
        elif kind is ActionKind.SET_MID_MONTH_TERMS:
            report.mid_month_moves.append((day, action.customer_id))
        elif kind is ActionKind.RECOMMEND_ESCALATION:
            report.escalations += 1


# The waits tried on a training period, and the share of late invoices a wait may reach later
# than QuickBooks' own first reminder (the policy's promise: late payers hear no later).
HABIT_WAIT_CHOICES = (0, 7, 14, 21, 28)
MAX_LATE_NUDGE_PCT = 2.0
# Another wait replaces the rules' own only when it has at least this many points fewer false
# alarms on the training period: a half year holds a few hundred reminders, and a smaller
# difference is as likely chance as habit (an early, history-poor period once chose 7 days for
# 0.4 points, and then did more than twice as badly as 21 on the year after).
MIN_TRAINED_GAIN_PCT = 1.0


@dataclass(frozen=True)
class Training:
    """The habit wait chosen on a training period, and what each candidate did there."""

    start: dt.date
    end: dt.date
    chosen: int
    tried: dict[int, PolicyFigures]

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "habit_wait_days": self.chosen,
            "tried": {str(wait): figures.as_dict() for wait, figures in self.tried.items()},
        }


def with_habit_wait(rules: Rules, days: int) -> Rules:
    return dataclasses.replace(rules, grace=dataclasses.replace(rules.grace, habit_wait_days=days))


def train_habit_wait(
    history: Scenario, rules: Rules, start: dt.date, end: dt.date, *, false_alarm_days: int = 7
) -> Training:
    """Choose `grace.habit_wait_days` on one period, to be judged on a later one (see choose_wait)."""
    tried = {
        wait: backtest(history, with_habit_wait(rules, wait), start, end, false_alarm_days=false_alarm_days).arpilot
        for wait in sorted({*HABIT_WAIT_CHOICES, rules.grace.habit_wait_days})
    }
    return Training(start, end, choose_wait(tried, rules.grace.habit_wait_days), tried)


def choose_wait(tried: Mapping[int, PolicyFigures], own: int) -> int:
    """Among the waits whose late nudges stay within MAX_LATE_NUDGE_PCT, the one with the fewest
    false alarms (the shorter on a tie), unless the rules' `own` wait is among them and comes within
    MIN_TRAINED_GAIN_PCT of it; no wait at all when none stays within the bound."""
    allowed = [wait for wait, figures in tried.items() if figures.late_nudge_pct <= MAX_LATE_NUDGE_PCT]
    if not allowed:
        return 0
    best = min(allowed, key=lambda wait: (tried[wait].false_alarm_pct, wait))
    if own in allowed and tried[own].false_alarm_pct - tried[best].false_alarm_pct < MIN_TRAINED_GAIN_PCT:
        return own
    return best
