"""The acquirer's tables: every payment it was asked for, and its faults in force.

A payment's row is written by its first Authorize and changed only by a
conditional ``UPDATE ... WHERE state = 'authorized'`` (Capture, Void), so two
calls racing on one payment change it once (see :mod:`netsim.payments.service`).
The faults are one row (id 1) with a ``version`` raised by every change, like
the HLR's (:class:`~netsim.hlr.models.StoredFaults`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from netsim.db import Base
from simfleet_runtime.db import UtcDateTime

PAYMENT_ID_MAX = 64
CARD_TOKEN_MAX = 64
DESCRIPTION_MAX = 100
AUTHORIZATION_CODE_LENGTH = 6
FAULTS_ROW_ID = 1

AUTHORIZED = "authorized"
CAPTURED = "captured"
DECLINED = "declined"
VOIDED = "voided"
STATES = (AUTHORIZED, CAPTURED, DECLINED, VOIDED)


class Payment(Base):
    """One payment, keyed by the caller's id; ``state`` is one of :data:`STATES`."""

    __tablename__ = "payments"
    __table_args__ = (
        Index(None, "created_at"),
        CheckConstraint("state IN ('authorized', 'captured', 'declined', 'voided')", name="state"),
    )

    payment_id: Mapped[str] = mapped_column(String(PAYMENT_ID_MAX), primary_key=True)
    # Minor units of currency.
    amount: Mapped[int] = mapped_column(BigInteger)
    # ISO 4217 ("RUB").
    currency: Mapped[str] = mapped_column(String(3))
    card_token: Mapped[str] = mapped_column(String(CARD_TOKEN_MAX))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX))
    state: Mapped[str] = mapped_column(String(16))
    # Why it was declined ("insufficient_funds", "do_not_honor"...); none unless declined.
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    # The issuer's code; none for a declined payment.
    authorization_code: Mapped[str | None] = mapped_column(String(AUTHORIZATION_CODE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StoredPaymentFaults(Base):
    """The acquirer's fault injection in force for every replica: one row (id 1), see :mod:`netsim.payments.faults`."""

    __tablename__ = "payment_faults"
    __table_args__ = (CheckConstraint(f"id = {FAULTS_ROW_ID}", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    latency_ms: Mapped[int] = mapped_column(Integer)
    decline_rate: Mapped[float] = mapped_column(Float)
    lost_answer_rate: Mapped[float] = mapped_column(Float)
    outage: Mapped[bool] = mapped_column(Boolean)
    # Card tokens, validated and de-duplicated (validate_payment_faults), in the order given.
    declining_cards: Mapped[list[str]] = mapped_column(JSON)
    # One more on every change: replicas compare it with the version they apply.
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
