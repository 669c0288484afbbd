"""customers' replies, the owner's reply address and per-stage email wording

Revision ID: 0007_replies_and_templates
Revises: 0006_send_time_and_approvals
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_replies_and_templates"
down_revision = "0006_send_time_and_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("reply_address", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("reply_address_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("opening", sa.Text(), nullable=False),
        sa.Column("closing", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_message_templates_organization_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("organization_id", "stage", name="uq_message_templates_organization_stage"),
    )
    op.create_table(
        "inbound_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("matched_by", sa.String(length=16), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("says_paid", sa.Boolean(), nullable=False),
        sa.Column("task_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forwarded_ref", sa.Text(), nullable=True),
        sa.Column("forward_error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_inbound_replies_organization_id_organizations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name=op.f("fk_inbound_replies_connection_id_connections"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"],
                                name=op.f("fk_inbound_replies_action_id_actions"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_replies")),
    )
    op.create_index("ix_inbound_replies_org_received", "inbound_replies", ["organization_id", "received_at"])
    op.create_index("ix_inbound_replies_message_id", "inbound_replies", ["message_id"])
    op.create_index("ix_inbound_replies_connection_customer", "inbound_replies", ["connection_id", "customer_provider_id"])


def downgrade() -> None:
    op.drop_index("ix_inbound_replies_connection_customer", table_name="inbound_replies")
    op.drop_index("ix_inbound_replies_message_id", table_name="inbound_replies")
    op.drop_index("ix_inbound_replies_org_received", table_name="inbound_replies")
    op.drop_table("inbound_replies")
    op.drop_table("message_templates")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("reply_address_confirmed_at")
        batch.drop_column("reply_address")
