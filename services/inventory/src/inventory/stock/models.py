"""SIM cards and numbers, and the states they pass through."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from inventory.db import Base
from simfleet_runtime.db import UtcDateTime

# SIM card states.
IN_STOCK = "in_stock"
RESERVED = "reserved"
INSTALLED = "installed"
RETIRED = "retired"
SIM_STATES = (IN_STOCK, RESERVED, INSTALLED, RETIRED)

# Number states.
FREE = "free"
NUMBER_RESERVED = "reserved"
ASSIGNED = "assigned"
QUARANTINED = "quarantined"
NUMBER_STATES = (FREE, NUMBER_RESERVED, ASSIGNED, QUARANTINED)


class Sim(Base):
    """A SIM card: in the operator's stock (no customer), a customer's reserve, or in a line."""

    __tablename__ = "sims"
    __table_args__ = (Index(None, "state", "customer_id", "iccid"),)

    iccid: Mapped[str] = mapped_column(String(20), primary_key=True)
    imsi: Mapped[str] = mapped_column(String(15), unique=True)
    # nonce (12 bytes) + AES-GCM ciphertext of {"puk1", "puk2"}, the ICCID as associated data.
    puk: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(26))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Number(Base):
    """A number of the operator's pool."""

    __tablename__ = "numbers"
    __table_args__ = (Index(None, "state", "msisdn"),)

    msisdn: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    # Who holds it while reserved or assigned.
    customer_id: Mapped[str | None] = mapped_column(String(26))
    quarantined_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
