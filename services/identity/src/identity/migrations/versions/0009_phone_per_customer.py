"""identity: a phone number may be a user of several customers.

The number was unique across all customers, so inviting a number another
customer already had was refused, and the refusal told the inviter that the
number was a user elsewhere. It is now unique per customer (operator staff are
the customer ``""``); sign-ins pick one of a number's memberships.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 20:30:00

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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_phone"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_users_customer_id_phone"), ["customer_id", "phone"])
        batch_op.create_index(batch_op.f("ix_users_phone"), ["phone"], unique=False)


def downgrade() -> None:
    """Downgrade schema (fails if a number has become a user of two customers)."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_phone"))
        batch_op.drop_constraint(batch_op.f("uq_users_customer_id_phone"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_users_phone"), ["phone"])
