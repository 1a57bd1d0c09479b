"""identity: failed sign-ins are counted per number and client address, with a ceiling per number.

Replaces the lock of a number after 10 wrong passwords from anywhere, which let
anyone lock a user out (docs/architecture.md § Sign-in rules). The table starts
empty: the old lock was counted from ``sign_in_attempts`` and needs no data.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sign_in_throttles",
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("factor", sa.String(length=16), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UtcDateTime(), nullable=False),
        sa.Column("blocked_until", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("phone", "factor", "client_address", name=op.f("pk_sign_in_throttles")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("sign_in_throttles")
