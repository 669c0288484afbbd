"""send time and approvals

An action done with a warning (delivered, its note refused by the books) keeps the warning in its
own column. Saved rules that had a stage both email the customer and have the accounting system
re-send the invoice (two messages the same day) keep arpilot's email, the stage's channel: the
rules now refuse the pair. The new `awaiting_approval` action status needs no change (the status
is stored as text).

Revision ID: 0006_send_time_and_approvals
Revises: 0005_customer_structure
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006_send_time_and_approvals"
down_revision = "0005_customer_structure"
branch_labels = None
depends_on = None

_rules = sa.table("organization_rules", sa.column("id", sa.Integer), sa.column("rules", sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch_op:
        batch_op.add_column(sa.Column("warning", sa.Text(), nullable=True))
    bind = op.get_bind()
    for row_id, rules in bind.execute(sa.select(_rules.c.id, _rules.c.rules)).all():
        fixed = one_message_per_stage(rules)
        if fixed is not None:
            bind.execute(_rules.update().where(_rules.c.id == row_id).values(rules=fixed))


def one_message_per_stage(rules: Any) -> dict[str, Any] | None:
    """The rules with `resend_invoice` dropped from stages that email; None when nothing changes."""
    stages = (rules or {}).get("ladder", {}).get("stages") if isinstance(rules, dict) else None
    if not isinstance(stages, list):
        return None
    changed = False
    for stage in stages:
        if isinstance(stage, dict) and stage.get("resend_invoice") and stage.get("channel", "email") != "call":
            stage["resend_invoice"] = False
            changed = True
    return rules if changed else None


def downgrade() -> None:
    with op.batch_alter_table("actions") as batch_op:
        batch_op.drop_column("warning")
