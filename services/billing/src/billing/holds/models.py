"""The holds in force: one row per personal account below its floor (deleted when it is back above it), and
every line's reasons to be blocked (an exhausted account, a spending limit)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Index, Integer, String, Table
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


class LineHold(Base):
    """A line's financial block, whatever its reasons: ``reasons`` counts its rows in ``line_hold_reasons``.

    The row stays when the count is back at 0 (the line is then not held): it is what a change of the line's
    reasons locks, so that two changes of one line never both believe they added its first reason or removed
    its last.
    """

    __tablename__ = "line_holds"

    line_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    msisdn: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LineHoldReason(Base):
    """One reason a line is held: ``account:<ledger account id>`` (its account ran out) or ``limit:<limit id>``."""

    __tablename__ = "line_hold_reasons"
    __table_args__ = (Index(None, "reason"),)

    line_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(UtcDateTime)


LINE_HOLDS = cast(Table, LineHold.__table__)
LINE_HOLD_REASONS = cast(Table, LineHoldReason.__table__)
