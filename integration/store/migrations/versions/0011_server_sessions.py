"""server-side sessions; a company connected to one organization at a time, not forever

Web sessions move from the signed cookie into `web_sessions` so signing out, disconnecting the last
company and a new consent can end them. A company (provider, external id) may now have a row in
several organizations (each keeps its own history), but only one active row.

Revision ID: 0009_server_sessions
Revises: 0008_cycle_leases
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_server_sessions"
down_revision = "0008_cycle_leases"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name="fk_web_sessions_organization_id_organizations", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_web_sessions_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.UniqueConstraint("key_hash", name="uq_web_sessions_key_hash"),
    )
    op.create_index("ix_web_sessions_organization_id", "web_sessions", ["organization_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    with op.batch_alter_table("connections") as batch_op:
        batch_op.drop_constraint("uq_connections_provider_external_id", type_="unique")
        batch_op.create_unique_constraint("uq_connections_organization_company", ["organization_id", "provider", "external_id"])
    op.create_index("uq_connections_active_company", "connections", ["provider", "external_id"], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    # Fails, as it should, while a company has rows in two organizations.
    op.drop_index("uq_connections_active_company", table_name="connections")
    with op.batch_alter_table("connections") as batch_op:
        batch_op.drop_constraint("uq_connections_organization_company", type_="unique")
        batch_op.create_unique_constraint("uq_connections_provider_external_id", ["provider", "external_id"])
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_organization_id", table_name="web_sessions")
    op.drop_table("web_sessions")
