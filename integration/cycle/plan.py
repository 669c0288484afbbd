"""The action ledger: plan each decided action once.

Plan inserts each decided action under `<connection>:<policy key>`; a key already there is left
alone, so deciding the same day again plans nothing new. `integration.cycle.execute` performs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

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
        {
            "organization_id": organization_id,
            "connection_id": connection_id,
            "idempotency_key": ledger_key(connection_id, action.idempotency_key),
            "kind": action.kind.value,
            "target_type": "invoice" if len(action.invoice_ids) == 1 else "customer",
            "target_id": action.invoice_ids[0] if len(action.invoice_ids) == 1 else action.customer_id,
            "payload": {
                **action.as_dict(),
                "balances": {i: str(balances[i]) for i in action.invoice_ids if i in balances},
            },
            "reason": action.reason,
            "status": ActionStatus.PLANNED,
            "not_before": action.not_before,
        }
        for action in actions
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Action).on_conflict_do_nothing(index_elements=["idempotency_key"])
    result = session.execute(statement.returning(Action.id), rows)
    return len(result.all())
