from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from accounts.db import Base
from simfleet_runtime.db import UtcDateTime


class AuditEvent(Base):
    """One action of the customer's history (AU-1), as a service reported it."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_customer_id_occurred_at", "customer_id", "occurred_at", "id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[str] = mapped_column(String(64), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    service: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(100), index=True)
    result: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(100), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(128), default="")
    trace_id: Mapped[str] = mapped_column(String(32), default="")


class AuditObject(Base):
    """An object an action touched, and the node it hangs under (what scopes the event)."""

    __tablename__ = "audit_objects"

    audit_id: Mapped[str] = mapped_column(ForeignKey("audit_events.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    node_id: Mapped[str] = mapped_column(String(26), default="", index=True)
