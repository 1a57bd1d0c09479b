"""billing: spending limits, the lines' spend, and the reasons each line is held

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:30:00

The holds in force when it runs (a personal account below its floor) give
their lines in service the reason ``account:<id>``, so that their release
unblocks them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "spending_limits",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("node_id", sa.String(length=26), nullable=False),
        sa.Column("line_id", sa.String(length=26), nullable=True),
        sa.Column("msisdn", sa.String(length=16), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spending_limits")),
        sa.UniqueConstraint("request_key", name=op.f("uq_spending_limits_request_key")),
    )
    op.create_index(
        op.f("ix_spending_limits_customer_id_node_id"), "spending_limits", ["customer_id", "node_id"], unique=False
    )
    op.create_table(
        "limit_notices",
        sa.Column("limit_id", sa.String(length=26), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("reached_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("limit_id", "period", name=op.f("pk_limit_notices")),
    )
    op.create_table(
        "line_spend",
        sa.Column("line_id", sa.String(length=26), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("line_id", "period", "currency", name=op.f("pk_line_spend")),
    )
    op.create_table(
        "line_holds",
        sa.Column("line_id", sa.String(length=26), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Integer(), nullable=False),
        sa.Column("changed_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_line_holds")),
    )
    op.create_table(
        "line_hold_reasons",
        sa.Column("line_id", sa.String(length=26), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("since", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("line_id", "reason", name=op.f("pk_line_hold_reasons")),
    )
    op.create_index(op.f("ix_line_hold_reasons_reason"), "line_hold_reasons", ["reason"], unique=False)
    # The holds in force: their lines in service held for their account (what its release unblocks).
    op.execute(
        "INSERT INTO line_hold_reasons (line_id, reason, since) "
        "SELECT l.line_id, 'account:' || h.account_id, h.since FROM financial_holds h "
        "JOIN lines l ON l.personal_account_id = h.personal_account_id AND l.customer_id = h.customer_id "
        "WHERE l.state IN ('active', 'blocked')"
    )
    op.execute(
        "INSERT INTO line_holds (line_id, customer_id, msisdn, reasons, changed_at) "
        "SELECT l.line_id, l.customer_id, l.msisdn, COUNT(*), MIN(r.since) FROM line_hold_reasons r "
        "JOIN lines l ON l.line_id = r.line_id GROUP BY l.line_id, l.customer_id, l.msisdn"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_line_hold_reasons_reason"), table_name="line_hold_reasons")
    op.drop_table("line_hold_reasons")
    op.drop_table("line_holds")
    op.drop_table("line_spend")
    op.drop_table("limit_notices")
    op.drop_index(op.f("ix_spending_limits_customer_id_node_id"), table_name="spending_limits")
    op.drop_table("spending_limits")
