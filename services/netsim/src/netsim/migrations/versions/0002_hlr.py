"""The HLR: subscribers and the record of applied provisioning items.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hlr_subscribers",
        sa.Column("imsi", sa.String(15), nullable=False),
        sa.Column("msisdn", sa.String(16), nullable=True),
        sa.Column("iccid", sa.String(20), nullable=False),
        sa.Column("barrings", sa.JSON(), nullable=False),
        sa.Column("apns", sa.JSON(), nullable=False),
        sa.Column("forwarding", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("imsi", name="pk_hlr_subscribers"),
        sa.UniqueConstraint("msisdn", name="uq_hlr_subscribers_msisdn"),
        sa.UniqueConstraint("iccid", name="uq_hlr_subscribers_iccid"),
    )
    op.create_table(
        "hlr_applied_items",
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("command_id", sa.String(100), nullable=False),
        sa.Column("imsi", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("failure", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_hlr_applied_items"),
    )
    op.create_index("ix_hlr_applied_items_command_id", "hlr_applied_items", ["command_id"])


def downgrade() -> None:
    op.drop_index("ix_hlr_applied_items_command_id", table_name="hlr_applied_items")
    op.drop_table("hlr_applied_items")
    op.drop_table("hlr_subscribers")
