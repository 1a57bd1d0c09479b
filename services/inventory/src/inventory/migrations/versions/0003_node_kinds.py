"""inventory: the hierarchy's projection keeps each node's kind (is it a personal account?).

Kinds arrive with accounts' ``node.created`` from now on. Rows projected before
have no kind (NULL = not known, never "not a personal account": lines already
billed to such nodes keep working). Only what the path itself proves is filled:
a customer's root (a path of one id) is its company.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("node_paths", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=24), nullable=True))
    op.execute("UPDATE node_paths SET kind = 'company' WHERE path = '/' || node_id || '/'")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("node_paths", schema=None) as batch_op:
        batch_op.drop_column("kind")
