"""the customer's page: link generations, credit policy acceptances, "customer says paid"

`customer_links` holds each customer's link generation (raising it revokes every link sent so far),
`policy_acceptances` each acceptance of the credit policy, `invoice_pauses.says_paid` the pause a
customer's "I already paid" puts on an invoice until the owner has checked it, and
`inbound_replies.invoice_provider_id` the invoice that check is about.

Revision ID: 0014_customer_page
Revises: 0013_companies_and_team
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_customer_page"
down_revision = "0013_companies_and_team"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name="fk_customer_links_connection_id_connections", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_customer_links"),
        sa.UniqueConstraint("connection_id", "customer_provider_id", name="uq_customer_links_connection_customer"),
    )
    op.create_table(
        "policy_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name="fk_policy_acceptances_organization_id_organizations", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name="fk_policy_acceptances_connection_id_connections", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_policy_acceptances"),
    )
    op.create_index("ix_policy_acceptances_organization_id", "policy_acceptances", ["organization_id"])
    op.create_index("ix_policy_acceptances_connection_customer", "policy_acceptances",
                    ["connection_id", "customer_provider_id", "accepted_at"])
    op.add_column("invoice_pauses", sa.Column("says_paid", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("inbound_replies", sa.Column("invoice_provider_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_replies") as batch:
        batch.drop_column("invoice_provider_id")
    with op.batch_alter_table("invoice_pauses") as batch:
        batch.drop_column("says_paid")
    op.drop_index("ix_policy_acceptances_connection_customer", table_name="policy_acceptances")
    op.drop_index("ix_policy_acceptances_organization_id", table_name="policy_acceptances")
    op.drop_table("policy_acceptances")
    op.drop_table("customer_links")
