"""Attachments of tickets' notes, and the chunks the database store keeps files in.

An attachment row is written before its bytes (``uploading``), marked ``stored``
once every byte is in and its type is decided by the content, and deleted with
its bytes when the upload is refused or fails. An upload not yet referenced by
a note (``note_id`` NULL) expires at ``expires_at``; ticketing's sweep deletes
it, and any upload left ``uploading`` by a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from simfleet_runtime.db import UtcDateTime
from ticketing.db import Base

UPLOADING = "uploading"
STORED = "stored"


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        Index(None, "ticket_id", "note_id"),
        Index(None, "state", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(26), ForeignKey("tickets.id"))
    note_id: Mapped[str | None] = mapped_column(String(26), ForeignKey("ticket_notes.id"), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploader_kind: Mapped[str] = mapped_column(String(16))
    # "uploading" until every byte is in and the type decided, then "stored".
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # While it waits for a note (and while uploading): when the sweep deletes it.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AttachmentChunk(Base):
    """One piece of a stored file (:class:`ticketing.attachments.storage.DatabaseStore`), in order by ``seq``."""

    __tablename__ = "attachment_chunks"

    blob_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


ATTACHMENTS = cast(Table, Attachment.__table__)
CHUNKS = cast(Table, AttachmentChunk.__table__)
