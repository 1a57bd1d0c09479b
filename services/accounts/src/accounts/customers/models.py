from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from accounts.db import Base
from simfleet_runtime.db import UtcDateTime

ONBOARDING = "onboarding"
"""Written, but its profile manager is not created in identity yet: retrying the request finishes it."""
ACTIVE = "active"
SUSPENDED = "suspended"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    tax_number: Mapped[str] = mapped_column(String(12), unique=True)
    registration_number: Mapped[str] = mapped_column(String(15), unique=True)
    tax_registration_reason_code: Mapped[str] = mapped_column(String(9), default="")
    status: Mapped[str] = mapped_column(String(16), default=ONBOARDING)
    root_node_id: Mapped[str] = mapped_column(String(26))
    profile_manager_user_id: Mapped[str] = mapped_column(String(26), default="")
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    """The back-office's idempotency key of the onboarding request."""
    request_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """What the key was used for (simfleet_runtime.idempotency): a reuse for another customer is refused."""
    currency: Mapped[str] = mapped_column(String(3), default="RUB", server_default="RUB")
    """ISO 4217: the currency of every personal account's money (node.created carries it to billing)."""
    settlement_method: Mapped[str] = mapped_column(String(16), default="prepaid", server_default="prepaid")
    """How its personal accounts settle: prepaid, postpaid or credit."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    signed_on: Mapped[date] = mapped_column(Date)
