"""billing: promised payments

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:40:00

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
        "promised_payments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("personal_account_id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("open_slot", sa.String(length=26), nullable=True),
        sa.Column("taken_by", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("repay_entry_id", sa.String(length=64), nullable=True),
        sa.Column("repaid_by", sa.String(length=16), nullable=False),
        sa.Column("taken_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("repaid_at", UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_promised_payments_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promised_payments")),
        sa.UniqueConstraint("open_slot", name="uq_promised_payments_open_slot"),
    )
    op.create_index(
        op.f("ix_promised_payments_account_id_taken_at"), "promised_payments", ["account_id", "taken_at"], unique=False
    )
    op.create_index(op.f("ix_promised_payments_status_due_at"), "promised_payments", ["status", "due_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_promised_payments_status_due_at"), table_name="promised_payments")
    op.drop_index(op.f("ix_promised_payments_account_id_taken_at"), table_name="promised_payments")
    op.drop_table("promised_payments")
