"""The simulated card acquirer: its payments and its faults in force (one row shared by every replica).

Revision ID: 0005
Revises: 0004
Create Date: 2026-01-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("card_token", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decline_reason", sa.String(length=32), nullable=True),
        sa.Column("authorization_code", sa.String(length=6), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('authorized', 'captured', 'declined', 'voided')", name="ck_payments_state"),
        sa.PrimaryKeyConstraint("payment_id", name="pk_payments"),
    )
    op.create_index("ix_payments_created_at", "payments", ["created_at"])
    op.create_table(
        "payment_faults",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("decline_rate", sa.Float(), nullable=False),
        sa.Column("lost_answer_rate", sa.Float(), nullable=False),
        sa.Column("outage", sa.Boolean(), nullable=False),
        sa.Column("declining_cards", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_payment_faults_one_row"),
        sa.PrimaryKeyConstraint("id", name="pk_payment_faults"),
    )


def downgrade() -> None:
    op.drop_table("payment_faults")
    op.drop_index("ix_payments_created_at", table_name="payments")
    op.drop_table("payments")
