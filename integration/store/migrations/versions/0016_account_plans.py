"""account plans: one payment plan over several invoices of a customer

`account_plans` holds each customer's plan (at most one): the covered invoices, the instalments,
what was paid on them before the plan, and who proposed it (the owner, or the customer on their page).

Revision ID: 0016_account_plans
Revises: 0015_documents
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_account_plans"
down_revision = "0015_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        sa.Column("instalments", sa.JSON(), nullable=False),
        sa.Column("paid_before", sa.Numeric(precision=19, scale=4, asdecimal=True), nullable=False),
        sa.Column("proposed_by", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name="fk_account_plans_connection_id_connections", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_account_plans"),
        sa.UniqueConstraint("connection_id", "customer_provider_id", name="uq_account_plans_connection_customer"),
    )


def downgrade() -> None:
    op.drop_table("account_plans")
