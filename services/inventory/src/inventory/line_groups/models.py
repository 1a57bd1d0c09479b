"""A group of lines: its name, icon and colour, and the node it belongs to. Lines refer to it by id
(``lines.group_id``) and keep a copy of its name (``lines.group_name``) for the lists and filters by name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inventory.db import Base
from simfleet_runtime.db import UtcDateTime


class LineGroup(Base):
    __tablename__ = "line_groups"
    __table_args__ = (
        UniqueConstraint("customer_id", "node_id", "name"),
        Index(None, "customer_id", "name"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    node_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    icon: Mapped[str] = mapped_column(String(32))
    colour: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
