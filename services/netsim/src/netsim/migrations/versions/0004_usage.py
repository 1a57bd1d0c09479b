"""Subscribers' services in the HLR; the usage generator's settings and its lease.

Revision ID: 0004
Revises: 0003
Create Date: 2026-01-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hlr_subscribers") as batch:
        batch.add_column(sa.Column("services", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "usage_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("records_per_second", sa.Float(), nullable=False),
        sa.Column("voice_weight", sa.Float(), nullable=False),
        sa.Column("sms_weight", sa.Float(), nullable=False),
        sa.Column("data_weight", sa.Float(), nullable=False),
        sa.Column("roaming_share", sa.Float(), nullable=False),
        sa.Column("international_share", sa.Float(), nullable=False),
        sa.Column("msisdn_prefixes", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_usage_settings_one_row"),
        sa.PrimaryKeyConstraint("id", name="pk_usage_settings"),
    )
    op.create_table(
        "usage_lease",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_usage_lease_one_row"),
        sa.PrimaryKeyConstraint("id", name="pk_usage_lease"),
    )


def downgrade() -> None:
    op.drop_table("usage_lease")
    op.drop_table("usage_settings")
    with op.batch_alter_table("hlr_subscribers") as batch:
        batch.drop_column("services")
