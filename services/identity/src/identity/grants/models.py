from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from identity.models import Base
from simfleet_runtime.db import UtcDateTime


class GrantRecord(Base):
    """A role over a node of the customer's hierarchy, held by a user."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("user_id", "role_id", "node_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    role_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(26), index=True)
    granted_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
