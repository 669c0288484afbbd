"""The policy projected forward on one connection's mirror: what arpilot would do over the coming days.

Reads the same snapshot and rules the cycle decides on (`integration.cycle.gather.load_snapshot`,
`load_rules`), and the ledger keys the cycle would not plan again (skipped or failed steps), then
runs the pure `integration.policy.projection.project`. Nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.cycle.gather import load_snapshot
from integration.owner.stored_rules import load_rules
from integration.policy.projection import Projected, project
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot
from integration.store.models import Action, ActionStatus

# Planned, in-flight and done steps are in the snapshot's history; these are in the ledger only.
NOT_AGAIN = (ActionStatus.SKIPPED, ActionStatus.FAILED)


@dataclass(frozen=True)
class Projection:
    snapshot: Snapshot
    rules: Rules
    steps: list[Projected]


def known_keys(session: Session, connection_id: int) -> frozenset[str]:
    """The policy keys of the connection's skipped and failed steps: the cycle's plan would not add them again."""
    payloads = session.scalars(
        select(Action.payload).where(Action.connection_id == connection_id, Action.status.in_(NOT_AGAIN))
    )
    return frozenset(key for payload in payloads if (key := payload.get("idempotency_key")))


def projection(
    session: Session,
    organization_id: int,
    connection_id: int,
    now: dt.datetime,
    days: int,
    customer_id: str | None = None,
) -> Projection:
    """The connection's projected steps (one customer's when `customer_id` is given) from today for `days` days.
    The caller has checked that the connection is the organization's."""
    rules = load_rules(session, organization_id, connection_id)
    snapshot = load_snapshot(session, connection_id, now, None if customer_id is None else [customer_id])
    return Projection(snapshot, rules, project(snapshot, rules, now, days, known_keys(session, connection_id)))
