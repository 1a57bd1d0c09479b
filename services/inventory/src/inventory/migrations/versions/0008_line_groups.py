"""inventory: groups of lines kept as things a customer manages (AC-5).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 00:20:00

Lines named their group by a bare name; each name a customer's lines carry becomes a group at the customer's
company node (the root of the lines' paths; the line's own node when its path is not projected yet), drawn with
the default icon and colour, and its lines refer to it by id.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime
from simfleet_runtime.ids import new_id
from simfleet_runtime.nodepaths import path_ids
from simfleet_runtime.validation import GROUP_COLOUR_DEFAULT, GROUP_ICON_DEFAULT

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    groups = op.create_table(
        "line_groups",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("customer_id", sa.String(length=26), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("icon", sa.String(length=32), nullable=False),
        sa.Column("colour", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_groups")),
        sa.UniqueConstraint("customer_id", "node_id", "name", name=op.f("uq_line_groups_customer_id_node_id_name")),
    )
    with op.batch_alter_table("line_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_groups_customer_id_name"), ["customer_id", "name"], unique=False)
    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.String(length=26), nullable=True))
        batch_op.create_index(batch_op.f("ix_lines_group_id"), ["group_id"], unique=False)

    conn = op.get_bind()
    named = conn.execute(
        sa.text(
            "SELECT l.customer_id, l.group_name, MIN(l.node_id) AS node_id, MIN(p.path) AS path"
            " FROM lines l LEFT JOIN node_paths p ON p.customer_id = l.customer_id AND p.node_id = l.node_id"
            " WHERE l.group_name IS NOT NULL GROUP BY l.customer_id, l.group_name"
        )
    ).all()
    now = datetime.now(UTC)
    for customer_id, name, node_id, path in named:
        group_id = new_id()
        root = path_ids(path)[0] if path else node_id
        conn.execute(
            groups.insert().values(
                id=group_id,
                customer_id=customer_id,
                node_id=root,
                name=name,
                icon=GROUP_ICON_DEFAULT,
                colour=GROUP_COLOUR_DEFAULT,
                created_at=now,
                updated_at=now,
            )
        )
        conn.execute(
            sa.text("UPDATE lines SET group_id = :group_id WHERE customer_id = :customer_id AND group_name = :name"),
            {"group_id": group_id, "customer_id": customer_id, "name": name},
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lines_group_id"))
        batch_op.drop_column("group_id")
    with op.batch_alter_table("line_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_groups_customer_id_name"))
    op.drop_table("line_groups")
