"""inventory: a large operation's numbers wait in a few rows until it starts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 07:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "operation_target_chunks",
        sa.Column("operation_id", sa.String(length=26), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("first_position", sa.Integer(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_operation_target_chunks_operation_id_operations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation_id", "chunk", name=op.f("pk_operation_target_chunks")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("operation_target_chunks")
