"""letters to post: a reminder stage with `letter` on also leaves a letter for the owner to print

Revision ID: 0015_documents
Revises: 0014_customer_page
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_documents"
down_revision = "0014_customer_page"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("customer_name", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name="fk_letters_organization_id_organizations", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name="fk_letters_connection_id_connections", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], name="fk_letters_action_id_actions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_letters"),
        sa.UniqueConstraint("action_id", name="uq_letters_action_id"),
    )
    op.create_index("ix_letters_org_posted", "letters", ["organization_id", "posted_at"])


def downgrade() -> None:
    op.drop_index("ix_letters_org_posted", table_name="letters")
    op.drop_table("letters")
