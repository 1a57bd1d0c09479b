"""A mailbox: one row per received message and recipient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from netsim.db import Base
from simfleet_runtime.db import UtcDateTime

ADDRESS_MAX = 320


class Mail(Base):
    __tablename__ = "mails"
    __table_args__ = (Index(None, "to_address", "received_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    to_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    from_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Size of the message as received over SMTP, in bytes.
    size_bytes: Mapped[int] = mapped_column(Integer)
