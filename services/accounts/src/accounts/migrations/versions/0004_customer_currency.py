"""accounts: a customer's currency and settlement method, chosen at onboarding.

Every personal account of the customer keeps its money in ``currency`` (ISO
4217) and settles by ``settlement_method``; node.created carries them to
billing. Customers onboarded before are RUB and prepaid, as billing opened them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 06:00:00

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
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=False, server_default="RUB"))
        batch_op.add_column(
            sa.Column("settlement_method", sa.String(length=16), nullable=False, server_default="prepaid")
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("settlement_method")
        batch_op.drop_column("currency")
