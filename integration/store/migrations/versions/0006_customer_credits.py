"""customer credits: credit notes, credit memos, overpayments and prepayments; unapplied payments

The policy sets a customer's available credit against what they owe (issue #13), so the mirror
keeps each credit with what remains of it, and each payment's unapplied part.

Revision ID: 0004_customer_credits
Revises: 0003_activity_feed_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_customer_credits"
down_revision = "0003_activity_feed_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=255), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("total", sa.Numeric(precision=19, scale=4), nullable=False),
        sa.Column("remaining", sa.Numeric(precision=19, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("allocations", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("provider_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"], name=op.f("fk_credits_connection_id_connections"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credits")),
        sa.UniqueConstraint("connection_id", "provider_id", name="uq_credits_connection_provider_id"),
    )
    op.create_index("ix_credits_connection_customer", "credits", ["connection_id", "customer_provider_id"])
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unapplied", sa.Numeric(precision=19, scale=4), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("unapplied")
    op.drop_index("ix_credits_connection_customer", table_name="credits")
    op.drop_table("credits")
