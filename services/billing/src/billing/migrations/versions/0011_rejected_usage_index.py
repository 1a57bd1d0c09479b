"""billing: only rejected usage records in the rejected list's index

Every rated record paid for an entry in ``(outcome, rated_at)`` that only the
rejected list reads; a partial index on the rejected ones costs rating nothing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REJECTED = sa.text("outcome = 'rejected'")


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index(op.f("ix_usage_records_outcome_rated_at"), table_name="usage_records")
    op.create_index(
        op.f("ix_usage_records_rated_at_record_id"),
        "usage_records",
        ["rated_at", "record_id"],
        sqlite_where=REJECTED,
        postgresql_where=REJECTED,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_usage_records_rated_at_record_id"), table_name="usage_records")
    op.create_index(op.f("ix_usage_records_outcome_rated_at"), "usage_records", ["outcome", "rated_at"])
