from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.db import Base
from simfleet_runtime.db import UtcDateTime

# Methods and results, as stored and as published in events.
PASSWORD = "password"
OTP_SMS = "otp_sms"
OTP_EMAIL = "otp_email"
PASSWORD_RESET = "password_reset"

SUCCEEDED = "succeeded"
BAD_CREDENTIALS = "bad_credentials"
CODE_EXPIRED = "code_expired"
LOCKED = "locked"
USER_DISABLED = "user_disabled"


class SignInAttempt(Base):
    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_user_id_id", "user_id", "id"),
        Index("ix_sign_in_attempts_phone_occurred_at", "phone", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    customer_id: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(32))
    client_address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(512))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignInThrottle(Base):
    """Consecutive failed sign-ins with one factor for one number.

    One row per client address that failed (``client_address``), with the
    time before which that client is refused; and one row per factor with
    ``client_address`` = ``*`` counting the failures from every client since
    the number last signed in. Unknown numbers get rows like known ones.
    """

    __tablename__ = "sign_in_throttles"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    factor: Mapped[str] = mapped_column(String(16), primary_key=True)
    client_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
