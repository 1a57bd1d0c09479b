"""The holds in force: one row per personal account below its floor, deleted when it is back above it."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import String, Table
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from simfleet_runtime.db import UtcDateTime


class FinancialHold(Base):
    __tablename__ = "financial_holds"

    account_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    hold_id: Mapped[str] = mapped_column(String(26), unique=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    personal_account_id: Mapped[str] = mapped_column(String(26))
    since: Mapped[datetime] = mapped_column(UtcDateTime)


HOLDS = cast(Table, FinancialHold.__table__)
