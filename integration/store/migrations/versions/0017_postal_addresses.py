"""postal addresses: where letters go and who sends them

Each mirrored customer keeps its billing address, and each connection its company's own address
with when it was last read from the books (as JSON objects: integration/store/postal.py). The
customers' sync cursors are dropped, so the next cycle reads every customer again and fills the
addresses of those that have not changed since (an incremental sync would never bring them).

Revision ID: 0017_postal_addresses
Revises: 0016_account_plans
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_postal_addresses"
down_revision = "0016_account_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns only: SQLite and PostgreSQL add them without a table copy, and every
    # existing row reads as "not read yet" until the next sync or cycle fills it.
    op.add_column("customers", sa.Column("billing_address", sa.JSON(), nullable=True))
    op.add_column("connections", sa.Column("company_address", sa.JSON(), nullable=True))
    op.add_column("connections", sa.Column("company_address_read_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("DELETE FROM sync_cursors WHERE entity = 'customer'")


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("company_address_read_at")
        batch.drop_column("company_address")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("billing_address")
