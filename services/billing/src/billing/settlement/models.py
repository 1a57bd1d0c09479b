"""The history of personal accounts' settlement methods (BI-13)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from simfleet_runtime.db import UtcDateTime


class SettlementChange(Base):
    """A change of settlement method, asked for once and applied (the account's floor moved) at its date."""

    __tablename__ = "settlement_changes"
    __table_args__ = (
        Index("ix_settlement_changes_account_id_requested_at", "account_id", "requested_at"),
        Index("ix_settlement_changes_applied_at_effective_at", "applied_at", "effective_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    method: Mapped[str] = mapped_column(String(16))
    credit_limit: Mapped[int] = mapped_column(BigInteger)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


CHANGES = cast(Table, SettlementChange.__table__)
