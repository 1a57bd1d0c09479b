"""Promised payments: one row per temporary credit, its ``status`` moving once from ``open`` to ``repaid``.

``open_slot`` holds the ledger account's id while the promised payment is
open and NULL once repaid: its unique constraint is what keeps an account at
one open promised payment, whatever takes race (NULLs never collide, on
SQLite as on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, CheckConstraint, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from simfleet_runtime.db import UtcDateTime

OPEN = "open"
REPAID = "repaid"
STATUSES = (OPEN, REPAID)

# Who repaid it.
DUE = "due"
CUSTOMER = "customer"


class PromisedPayment(Base):
    __tablename__ = "promised_payments"
    __table_args__ = (
        UniqueConstraint("open_slot", name="uq_promised_payments_open_slot"),
        Index(None, "account_id", "taken_at"),
        Index(None, "status", "due_at"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    personal_account_id: Mapped[str] = mapped_column(String(26))
    account_id: Mapped[str] = mapped_column(String(26))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(8))
    open_slot: Mapped[str | None] = mapped_column(String(26), nullable=True)
    taken_by: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[str] = mapped_column(String(64))
    repay_entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    repaid_by: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    repaid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


PROMISED = cast(Table, PromisedPayment.__table__)
