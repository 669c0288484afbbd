"""The policy projected over the coming days: each day decided on the same books with the days before
recorded as done, so a step comes once; keys already in the ledger never come; today is decided now."""

from __future__ import annotations

import datetime as dt

from connectors.sandbox.scenario import generate_demo_company
from integration.policy.actions import PlannedAction
from integration.policy.backtest import decision_time
from integration.policy.decide import decide
from integration.policy.projection import project
from integration.policy.rules import Rules
from integration.policy.scenario_snapshot import snapshot_from_scenario
from integration.policy.snapshot import Snapshot

SCENARIO = generate_demo_company()
RULES = Rules.default()
SNAPSHOT = snapshot_from_scenario(SCENARIO, SCENARIO.as_of)
NOW = decision_time(SCENARIO.as_of, SCENARIO.company.timezone, RULES) + dt.timedelta(hours=2)


def test_fourteen_days_each_step_once_in_day_order() -> None:
    steps = project(SNAPSHOT, RULES, NOW, 14)
    days = [s.day for s in steps]
    assert days == sorted(days) and days[0] == SCENARIO.as_of and days[-1] < SCENARIO.as_of + dt.timedelta(days=14)
    keys = [s.action.idempotency_key for s in steps]
    assert len(keys) == len(set(keys))  # what a day decided is recorded: the next day does not decide it again
    assert {s.action for s in steps if s.day == SCENARIO.as_of} == set(decide(SNAPSHOT, RULES, NOW))


def test_later_days_are_decided_at_the_send_windows_opening() -> None:
    seen: list[dt.datetime] = []

    def recording(snapshot: Snapshot, rules: Rules, at: dt.datetime) -> list[PlannedAction]:
        seen.append(at)
        return decide(snapshot, rules, at)

    project(SNAPSHOT, RULES, NOW, 3, decide_on=recording)
    tomorrow = SCENARIO.as_of + dt.timedelta(days=1)
    assert seen == [
        NOW,
        decision_time(tomorrow, SCENARIO.company.timezone, RULES),
        decision_time(tomorrow + dt.timedelta(days=1), SCENARIO.company.timezone, RULES),
    ]


def test_a_key_already_in_the_ledger_never_comes() -> None:
    steps = project(SNAPSHOT, RULES, NOW, 14)
    skipped = steps[0].action.idempotency_key
    again = project(SNAPSHOT, RULES, NOW, 14, known_keys={skipped})
    assert skipped not in {s.action.idempotency_key for s in again}
    assert again, "the other steps still come"
