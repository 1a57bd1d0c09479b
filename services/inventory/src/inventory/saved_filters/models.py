"""A saved filter: a user's name for the fields a list of lines and an operation's selection share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inventory.db import Base
from simfleet_runtime.db import UtcDateTime


class SavedFilter(Base):
    __tablename__ = "saved_filters"
    __table_args__ = (
        UniqueConstraint("owner_id", "name"),
        Index(None, "customer_id", "owner_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    owner_id: Mapped[str] = mapped_column(String(26))
    name: Mapped[str] = mapped_column(String(100))
    node_id: Mapped[str] = mapped_column(String(64))
    states: Mapped[list[str]] = mapped_column(JSON)
    tariff_code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    group_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SavedFilterOwner(Base):
    """One row per user who has saved a filter: a save locks it (``FOR UPDATE``) before counting the user's
    filters, so two saves at the same moment are counted one after the other and the cap holds."""

    __tablename__ = "saved_filter_owners"

    customer_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(26), primary_key=True)
