"""inventory: a row per user who saves filters, locked by each save so that the cap of 50 holds (AC-5).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 00:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "saved_filter_owners",
        sa.Column("customer_id", sa.String(length=26), nullable=False),
        sa.Column("owner_id", sa.String(length=26), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "owner_id", name=op.f("pk_saved_filter_owners")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("saved_filter_owners")
