"""What the policy would do over the coming days if nothing changes: decide, day by day, on today's books.

The books stay as they are (no payment is imagined); each day's decided actions are fed back into the
history as if they were done, as backtest does, so the next day sees them. An action whose ledger
key already exists (the owner skipped it, it failed, or an earlier day of the projection decided it)
is left out, as the cycle's plan leaves it out. Used by the owner's "Coming up" calendar and a
customer's next step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass

from integration.policy.actions import PlannedAction
from integration.policy.aging import local_today
from integration.policy.backtest import apply_account_moves, decision_time
from integration.policy.decide import decide
from integration.policy.history import record
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot

Decide = Callable[[Snapshot, Rules, dt.datetime], list[PlannedAction]]


@dataclass(frozen=True, slots=True)
class Projected:
    day: dt.date  # company-local
    action: PlannedAction


def project(
    snapshot: Snapshot,
    rules: Rules,
    now: dt.datetime,
    days: int,
    known_keys: Collection[str] = frozenset(),
    decide_on: Decide = decide,
) -> list[Projected]:
    """The actions of today (decided at `now`) and of the `days - 1` days after it (each decided at
    its send window's opening), in day order. `known_keys`: the policy keys already in the ledger."""
    timezone = snapshot.company.timezone
    today = local_today(now, timezone)
    history = snapshot.history
    on_hold, mid_month = set(snapshot.on_hold), set(snapshot.mid_month)
    # A key decided on an earlier day is in the ledger by now: the cycle's plan would not add it again
    # (an owner task such as applying credit is decided every day until it is done).
    planned = set(known_keys)
    found: list[Projected] = []
    for offset in range(days):
        day = today + dt.timedelta(days=offset)
        at = now if offset == 0 else max(now, decision_time(day, timezone, rules))
        that_day = dataclasses.replace(
            snapshot, history=history, on_hold=frozenset(on_hold), mid_month=frozenset(mid_month)
        )
        actions = [a for a in decide_on(that_day, rules, at) if a.idempotency_key not in planned]
        planned.update(a.idempotency_key for a in actions)
        found.extend(Projected(day, action) for action in actions)
        apply_account_moves(actions, on_hold, mid_month)
        history = record(history, actions, day)
    return found
