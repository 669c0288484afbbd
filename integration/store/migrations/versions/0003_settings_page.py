"""settings page: built-in reminders acknowledged per connection, payment plans' starting point

Revision ID: 0003_settings_page
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_settings_page'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('built_in_reminders_off_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('invoice_pauses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_paid_before', sa.Numeric(precision=19, scale=4), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('invoice_pauses', schema=None) as batch_op:
        batch_op.drop_column('plan_paid_before')
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_column('built_in_reminders_off_at')
