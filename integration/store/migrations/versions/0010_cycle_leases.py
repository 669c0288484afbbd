"""cycle leases

A cycle run holds a lease it renews while it works (`lease_expires_at`); a run still "running" after
its lease expired was killed or hung and is reaped (closed as failed, the owner told). The index
finds a connection's running runs and its latest outcomes.

Revision ID: 0008_cycle_leases
Revises: 0007_replies_and_templates
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_cycle_leases"
down_revision = "0007_replies_and_templates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cycle_runs") as batch:
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_cycle_runs_status_lease", "cycle_runs", ["status", "lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_cycle_runs_status_lease", table_name="cycle_runs")
    with op.batch_alter_table("cycle_runs") as batch:
        batch.drop_column("lease_expires_at")
