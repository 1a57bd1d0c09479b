"""billing: statements per period read an account's postings by when they were posted

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_postings_account_id_posted_at", "postings", ["account_id", "posted_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_postings_account_id_posted_at", table_name="postings")
