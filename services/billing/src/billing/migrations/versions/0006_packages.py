"""billing: data packages (purchases, packages, receipts) and what packages covered of a record

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 05:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "package_purchases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("offer_code", sa.String(length=32), nullable=False),
        sa.Column("offer_name", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("node_id", sa.String(length=26), nullable=False),
        sa.Column("scope_node_id", sa.String(length=26), nullable=False),
        sa.Column("personal_account_id", sa.String(length=26), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("receipt_email", sa.String(length=254), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_purchases")),
    )
    op.create_index(
        op.f("ix_package_purchases_customer_id_created_at"),
        "package_purchases",
        ["customer_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "data_packages",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("purchase_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("offer_code", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=26), nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("node_id", sa.String(length=26), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_packages")),
    )
    op.create_index(op.f("ix_data_packages_line_id_expires_at"), "data_packages", ["line_id", "expires_at"])
    op.create_index(op.f("ix_data_packages_node_id_expires_at"), "data_packages", ["node_id", "expires_at"])
    op.create_index(op.f("ix_data_packages_purchase_id"), "data_packages", ["purchase_id"])
    op.create_table(
        "package_receipts",
        sa.Column("purchase_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("purchase_id", name=op.f("pk_package_receipts")),
    )
    op.create_index(
        op.f("ix_package_receipts_sent_at_next_attempt_at"), "package_receipts", ["sent_at", "next_attempt_at"]
    )
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("package_units", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("package_units")
    op.drop_index(op.f("ix_package_receipts_sent_at_next_attempt_at"), table_name="package_receipts")
    op.drop_table("package_receipts")
    op.drop_index(op.f("ix_data_packages_purchase_id"), table_name="data_packages")
    op.drop_index(op.f("ix_data_packages_node_id_expires_at"), table_name="data_packages")
    op.drop_index(op.f("ix_data_packages_line_id_expires_at"), table_name="data_packages")
    op.drop_table("data_packages")
    op.drop_index(op.f("ix_package_purchases_customer_id_created_at"), table_name="package_purchases")
    op.drop_table("package_purchases")
