"""The screen (ladder.Screen) only saves decide work: every decision is the same without it.

Replayed on the generated company where most customers slip, so the habit wait, early stages,
part payments and broken promises all meet invoices the screen leaves out or sets apart.
"""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.sandbox.scenario.generator import generate_demo_company
from integration.policy import backtest as replay
from integration.policy.actions import PlannedAction
from integration.policy.decide import decide
from integration.policy.ladder import LadderSchedule
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot


def _decisions(monkeypatch: pytest.MonkeyPatch, *, screened: bool) -> list[list[PlannedAction]]:
    found: list[list[PlannedAction]] = []

    def recording(snapshot: Snapshot, rules: Rules, now: dt.datetime) -> list[PlannedAction]:
        found.append(decide(snapshot, rules, now))
        return found[-1]

    with monkeypatch.context() as patch:
        patch.setattr(replay, "decide", recording)
        if not screened:
            patch.setattr(LadderSchedule, "screen", lambda *_: None)
        replay.backtest(generate_demo_company(mix="late"), Rules.default(), dt.date(2026, 6, 1), dt.date(2026, 8, 31))
    return found


def test_decide_gives_the_same_actions_with_and_without_the_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    screened = _decisions(monkeypatch, screened=True)
    unscreened = _decisions(monkeypatch, screened=False)
    assert len(screened) == 92
    assert sum(map(len, screened)) > 500  # enough happened to judge by
    assert any("brought forward" in a.reason for day in screened for a in day)
    assert screened == unscreened
