"""The action ledger: plan each decided action once.

Plan inserts each decided action under `<connection>:<policy key>`; a key already there is left
alone, so deciding the same day again plans nothing new. `integration.cycle.execute` performs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from integration.policy.actions import PlannedAction
from integration.store.models import Action, ActionStatus


def ledger_key(connection_id: int, policy_key: str) -> str:
    return f"{connection_id}:{policy_key}"


def plan(
    session: Session,
    organization_id: int,
    connection_id: int,
    actions: Sequence[PlannedAction],
    balances: Mapping[str, Decimal],
) -> int:
    """Insert actions not yet in the ledger; returns how many were new. `balances` by invoice id
    are what decide saw, so execute can tell whether the invoice changed since."""
    if not actions:
        return 0
    rows = [
        _row(
            organization_id,
            connection_id,
            action,
            {"balances": {i: str(balances[i]) for i in action.invoice_ids if i in balances}},
            ActionStatus.PLANNED,
        )
        for action in actions
    ]
    return len(_insert_new(session, rows))


def claim(
    session: Session, organization_id: int, connection_id: int, action: PlannedAction, facts: Mapping[str, Any]
) -> int | None:
    """Insert the action already in flight, with `facts` in its payload, unless its key is in the
    ledger; returns its id, or None when the key was there. Of two sessions claiming one key, exactly
    one gets the row (the unique key decides), which is what makes a step done on request happen once."""
    row = _row(organization_id, connection_id, action, facts, ActionStatus.IN_FLIGHT)
    inserted = _insert_new(session, [{**row, "attempts": 1}])
    return inserted[0] if inserted else None


def _row(
    organization_id: int,
    connection_id: int,
    action: PlannedAction,
    facts: Mapping[str, Any],
    status: ActionStatus,
) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "connection_id": connection_id,
        "idempotency_key": ledger_key(connection_id, action.idempotency_key),
        "kind": action.kind.value,
        "target_type": "invoice" if len(action.invoice_ids) == 1 else "customer",
        "target_id": action.invoice_ids[0] if len(action.invoice_ids) == 1 else action.customer_id,
        "payload": {**action.as_dict(), **facts},
        "reason": action.reason,
        "status": status,
        "not_before": action.not_before,
    }


def _insert_new(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """The ids of the rows inserted; a row whose key is in the ledger already is left out."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Action).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return list(session.scalars(statement.returning(Action.id), rows))
