"""inventory: an operation remembers what its idempotency key was used for.

``request_fingerprint`` is the SHA-256 of the call and its content
(``simfleet_runtime.idempotency``); a later call with the same key and another
content is refused. Operations made before have none and replay as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 07:00:00

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
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("request_fingerprint")
