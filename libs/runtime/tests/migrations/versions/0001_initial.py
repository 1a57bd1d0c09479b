"""The first migration of a tiny service: its table and the bus tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.bus import create_bus_tables
from simfleet_runtime.db import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rt_notes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    create_bus_tables(op)


def downgrade() -> None:
    for name in ("dead_letters", "processed_events", "outbox", "rt_notes"):
        op.drop_table(name)
