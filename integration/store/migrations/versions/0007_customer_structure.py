"""customer structure: QuickBooks jobs and sub-customers billed with their parent

A job billed with its parent is collected as the parent's account, so the mirror keeps the parent,
whether the job is billed with it, and the "Parent:Job" name the owner sees in QuickBooks.

Revision ID: 0005_customer_structure
Revises: 0004_customer_credits
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_customer_structure"
down_revision = "0004_customer_credits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("parent_provider_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("bill_with_parent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("full_name", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("full_name")
        batch.drop_column("bill_with_parent")
        batch.drop_column("parent_provider_id")
