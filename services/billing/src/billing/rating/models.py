"""Rated usage: every record rating took, once (its id is the key), with what it consumed and cost, or why not.

A record is never changed after it is stored; the ledger entry that charged
it is named in ``entry_id``. ``allowance_use`` counts, per line, period and
kind, what the tariff's allowances have covered so far.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, Index, Integer, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from simfleet_runtime.db import UtcDateTime

RATED = "rated"
REJECTED = "rejected"
RECORD_ID_MAX = 64
_REJECTED = text(f"outcome = '{REJECTED}'")


class UsageRecord(Base):
    __tablename__ = "usage_records"
    __table_args__ = (
        Index(None, "line_id", "started_at"),
        # The rejected list's order; only rejected records are in it (rating adds nothing to it otherwise).
        Index(None, "rated_at", "record_id", sqlite_where=_REJECTED, postgresql_where=_REJECTED),
    )

    record_id: Mapped[str] = mapped_column(String(RECORD_ID_MAX), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(8))
    # Why a rejected record was not rated (UNKNOWN_LINE, ...); "" when rated.
    reason: Mapped[str] = mapped_column(String(200))
    # The line, customer and personal account it was rated for; "" when unknown.
    line_id: Mapped[str] = mapped_column(String(26))
    customer_id: Mapped[str] = mapped_column(String(64))
    personal_account_id: Mapped[str] = mapped_column(String(26))
    msisdn: Mapped[str] = mapped_column(String(16))
    imsi: Mapped[str] = mapped_column(String(15))
    kind: Mapped[str] = mapped_column(String(8))
    zone: Mapped[str] = mapped_column(String(16))
    roaming_country: Mapped[str] = mapped_column(String(2))
    destination: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The billing period it belongs to: "2026-12".
    period: Mapped[str] = mapped_column(String(7))
    quantity: Mapped[int] = mapped_column(BigInteger)
    units: Mapped[int] = mapped_column(BigInteger)
    included_units: Mapped[int] = mapped_column(BigInteger)
    # What bought data packages covered (bytes), after the allowance.
    package_units: Mapped[int] = mapped_column(BigInteger, server_default="0")
    charged: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    tariff_code: Mapped[str] = mapped_column(String(64))
    tariff_version: Mapped[int] = mapped_column(Integer)
    # The ledger entry that charged it; none when it cost nothing or was rejected.
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AllowanceUse(Base):
    __tablename__ = "allowance_use"

    line_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger)


USAGE = cast(Table, UsageRecord.__table__)
ALLOWANCE_USE = cast(Table, AllowanceUse.__table__)
