"""billing: spending limits' warnings to email, queued with their notices

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "limit_emails",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("limit_id", sa.String(length=26), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_limit_emails")),
    )
    op.create_index(op.f("ix_limit_emails_sent_at_next_attempt_at"), "limit_emails", ["sent_at", "next_attempt_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_limit_emails_sent_at_next_attempt_at"), table_name="limit_emails")
    op.drop_table("limit_emails")
