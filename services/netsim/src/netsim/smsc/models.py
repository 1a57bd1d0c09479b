"""A simulated handset's inbox: one row per delivered SMS."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from netsim.db import Base
from simfleet_runtime.db import UtcDateTime

MESSAGE_ID_MAX = 100
SENDER_MAX = 64
TEXT_MAX = 4096


class SmsView(Protocol):
    """A delivered SMS as read: the stored object, or its columns as a row (inboxes are read as rows)."""

    id: str
    to_msisdn: str
    sender: str
    text: str
    delivered_at: datetime


class Sms(Base):
    __tablename__ = "sms_messages"
    __table_args__ = (Index(None, "to_msisdn", "delivered_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    # The SubmitSmsCommand's message_id: a repeated command delivers once.
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_MAX), unique=True)
    to_msisdn: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(SENDER_MAX))
    text: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime] = mapped_column(UtcDateTime)
