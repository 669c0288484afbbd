"""activity feed indexes

The activity log reads an organization's actions newest first, and one customer's or one
invoice's actions and log entries; without these, each page sorts or scans the whole history.

Revision ID: 0003_activity_feed_indexes
Revises: 0003_weekly_digest
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003_activity_feed_indexes"
down_revision = "0003_weekly_digest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_actions_org_created", "actions", ["organization_id", "created_at"])
    op.create_index("ix_actions_connection_target", "actions", ["connection_id", "target_type", "target_id"])
    op.create_index("ix_activity_log_connection_customer", "activity_log",
                    ["connection_id", "customer_provider_id", "created_at"])
    op.create_index("ix_activity_log_connection_invoice", "activity_log",
                    ["connection_id", "invoice_provider_id", "created_at"])
    op.create_index("ix_activity_log_action", "activity_log", ["action_id"])


def downgrade() -> None:
    op.drop_index("ix_activity_log_action", table_name="activity_log")
    op.drop_index("ix_activity_log_connection_invoice", table_name="activity_log")
    op.drop_index("ix_activity_log_connection_customer", table_name="activity_log")
    op.drop_index("ix_actions_connection_target", table_name="actions")
    op.drop_index("ix_actions_org_created", table_name="actions")
