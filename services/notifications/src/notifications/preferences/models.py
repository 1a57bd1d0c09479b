"""Who can be told: users as identity announced them, and what each chose to hear.

``users`` is notifications' copy of identity's users (from ``user.created``,
``user.disabled``/``enabled``): the phone and email notices go to. A user
without a row in ``preferences`` has the catalogue's defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from notifications.db import Base
from simfleet_runtime.db import UtcDateTime


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index(None, "customer_id"),)

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Preference(Base):
    __tablename__ = "preferences"
    __table_args__ = (Index(None, "customer_id"),)

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    # kind → the channels chosen for it (every kind of the catalogue when saved).
    choices: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
