"""identity: a user made under an idempotency key remembers what the key was used for.

``request_fingerprint`` is the SHA-256 of the call and its content
(``simfleet_runtime.idempotency``, never the password); a later call with the
same key and another content is refused. Users made before have none and are
compared by phone and customer, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("request_fingerprint")
