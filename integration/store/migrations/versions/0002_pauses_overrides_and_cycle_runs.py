"""pauses, overrides and cycle runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('customer_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('customer_provider_id', sa.String(length=64), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=True),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_customer_overrides_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_overrides')),
    sa.UniqueConstraint('connection_id', 'customer_provider_id', name='uq_customer_overrides_connection_customer')
    )
    op.create_table('cycle_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_cycle_runs_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_runs'))
    )
    with op.batch_alter_table('cycle_runs', schema=None) as batch_op:
        batch_op.create_index('ix_cycle_runs_connection_started', ['connection_id', 'started_at'], unique=False)

    op.create_table('invoice_pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('invoice_provider_id', sa.String(length=64), nullable=False),
    sa.Column('disputed', sa.Boolean(), nullable=False),
    sa.Column('promise_to_pay', sa.Date(), nullable=True),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_invoice_pauses_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_pauses')),
    sa.UniqueConstraint('connection_id', 'invoice_provider_id', name='uq_invoice_pauses_connection_invoice')
    )
    


def downgrade() -> None:
    
    op.drop_table('invoice_pauses')
    with op.batch_alter_table('cycle_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_cycle_runs_connection_started')

    op.drop_table('cycle_runs')
    op.drop_table('customer_overrides')
    
