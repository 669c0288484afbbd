"""company time zones and customer addresses

Each connected company keeps its own time zone (read from its books, changed by the owner);
each mirrored customer the country and region of its billing address (their own time zone).

Revision ID: 0010_company_timezones
Revises: 0009_server_sessions
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_company_timezones"
down_revision = "0009_server_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs of nullable columns: SQLite and PostgreSQL both take them without a table copy.
    op.add_column("connections", sa.Column("timezone", sa.String(length=64), nullable=True))
    op.add_column("customers", sa.Column("country", sa.String(length=64), nullable=True))
    op.add_column("customers", sa.Column("region", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("region")
        batch.drop_column("country")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("timezone")
