"""ticketing: attachments of notes and the chunks their bytes are stored in

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 15:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simfleet_runtime.db import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "attachment_chunks",
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("blob_key", "seq", name=op.f("pk_attachment_chunks")),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("ticket_id", sa.String(length=26), nullable=False),
        sa.Column("note_id", sa.String(length=26), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploader_kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["note_id"], ["ticket_notes.id"], name=op.f("fk_attachments_note_id_ticket_notes")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_attachments_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_state_expires_at"), ["state", "expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_ticket_id_note_id"), ["ticket_id", "note_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_ticket_id_note_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_state_expires_at"))

    op.drop_table("attachments")
    op.drop_table("attachment_chunks")
