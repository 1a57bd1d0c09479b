"""What reaches users: the events accepted for each of them, and the notices made of those events.

``notice_events`` holds one row per event, user and channel: its primary key
*is* that triple, so an event redelivered, replayed after a restart or
consumed twice accepts nothing more. The composer gathers a user's rows of one
kind and channel into one ``notices`` row once the first has waited the
grouping window (a burst becomes one summary), and the sender hands pending
notices on, marking them sent in the transaction that queues an SMS (the
network's SMSC takes each message id once), or after the mail relay accepted
an email.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notifications.db import Base
from simfleet_runtime.db import UtcDateTime

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


class NoticeEvent(Base):
    __tablename__ = "notice_events"
    __table_args__ = (Index(None, "notice_id", "user_id", "channel", "kind", "created_at"),)

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(64))
    # The values its text names (see notifications.templates.VALUES).
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # NULL until the composer put it in a notice.
    notice_id: Mapped[str | None] = mapped_column(String(26), nullable=True)


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        Index(None, "state", "next_attempt_at"),
        Index(None, "user_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    events: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
