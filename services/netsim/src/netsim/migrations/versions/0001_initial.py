"""Handset inboxes, mailboxes and the bus tables.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.bus import create_bus_tables
from simfleet_runtime.db import UtcDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("to_msisdn", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sms_messages"),
        sa.UniqueConstraint("message_id", name="uq_sms_messages_message_id"),
    )
    op.create_index("ix_sms_messages_to_msisdn_delivered_at", "sms_messages", ["to_msisdn", "delivered_at"])
    op.create_table(
        "mails",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("from_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mails"),
    )
    op.create_index("ix_mails_to_address_received_at", "mails", ["to_address", "received_at"])
    create_bus_tables(op)


def downgrade() -> None:
    for table in ("dead_letters", "processed_events", "outbox"):
        op.drop_table(table)
    op.drop_index("ix_mails_to_address_received_at", table_name="mails")
    op.drop_table("mails")
    op.drop_index("ix_sms_messages_to_msisdn_delivered_at", table_name="sms_messages")
    op.drop_table("sms_messages")
