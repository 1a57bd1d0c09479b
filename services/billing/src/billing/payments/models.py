"""Payments and automatic payments.

A payment row is written before the provider is asked anything, under the
id the provider knows it by; its ``state`` moves once, by conditional
updates, from ``pending`` to ``credited`` (with the ledger entry, in one
transaction), ``declined`` or ``failed``. ``provider_step`` remembers how far
the provider got (authorised, captured) so the reconciler resumes there.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from simfleet_runtime.db import UtcDateTime

PENDING = "pending"
CREDITED = "credited"
DECLINED = "declined"
FAILED = "failed"
STATES = (PENDING, CREDITED, DECLINED, FAILED)

CARD = "card"
AUTOMATIC = "automatic"
KINDS = (CARD, AUTOMATIC)

# How far the provider got.
NOT_ASKED = "not_asked"
AUTHORIZED = "authorized"
CAPTURED = "captured"


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index(None, "personal_account_id", "created_at"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    personal_account_id: Mapped[str] = mapped_column(String(26))
    account_id: Mapped[str] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    provider_step: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    card_token: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    credited_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AutoPayment(Base):
    """A personal account's automatic payment: below ``threshold``, pay ``amount`` by ``card_token``."""

    __tablename__ = "auto_payments"

    personal_account_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(26), index=True)
    threshold: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    card_token: Mapped[str] = mapped_column(String(64))
    daily_limit: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    set_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


PAYMENTS = cast(Table, Payment.__table__)
AUTO_PAYMENTS = cast(Table, AutoPayment.__table__)
