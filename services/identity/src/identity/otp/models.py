from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.db import Base
from simfleet_runtime.db import UtcDateTime

SIGN_IN = "sign_in"
PASSWORD_RESET = "password_reset"
SMS = "sms"
EMAIL = "email"


class OtpChallenge(Base):
    """One code sent (or, for a number without a user, pretended to be sent).

    Only an HMAC of the code, keyed by the server's pepper and bound to the
    challenge id, is stored.
    """

    __tablename__ = "otp_challenges"
    __table_args__ = (
        Index("ix_otp_challenges_phone_created_at", "phone", "created_at"),
        Index("ix_otp_challenges_client_address_created_at", "client_address", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    client_address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
