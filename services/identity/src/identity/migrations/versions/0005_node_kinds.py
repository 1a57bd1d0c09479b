"""identity: the hierarchy's projection keeps each node's kind, as every copy of it does.

The table is the runtime's (``simfleet_runtime.nodepaths``); identity does not
read kinds yet. Rows projected before have none (NULL = not known); only what
the path itself proves is filled: a customer's root (one id) is its company.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
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
