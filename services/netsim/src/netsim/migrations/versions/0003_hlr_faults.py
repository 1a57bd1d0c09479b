"""The HLR's faults in force, one row shared by every replica.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hlr_faults",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("failure_rate", sa.Float(), nullable=False),
        sa.Column("outage", sa.Boolean(), nullable=False),
        sa.Column("failing_msisdns", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_hlr_faults_one_row"),
        sa.PrimaryKeyConstraint("id", name="pk_hlr_faults"),
    )


def downgrade() -> None:
    op.drop_table("hlr_faults")
