"""The lines as billing knows them, and their terms over time.

``lines`` is each line's latest state; ``line_terms`` keeps every change of
what rating depends on (number, personal account, tariff, services, state)
with the time it took effect, so a record is rated by the terms in force when
it started, even when it arrives after they changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import JSON, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from billing.ledger.models import SERIAL
from simfleet_runtime.db import UtcDateTime


class BillingLine(Base):
    __tablename__ = "lines"

    line_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(26))
    msisdn: Mapped[str] = mapped_column(String(16), index=True)
    imsi: Mapped[str] = mapped_column(String(15))
    personal_account_id: Mapped[str] = mapped_column(String(26))
    tariff_code: Mapped[str] = mapped_column(String(64))
    services: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    # When inventory changed it last (the event's time): older news changes nothing.
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LineTerm(Base):
    """What rating needs of a line, from ``effective_from`` until the line's next term."""

    __tablename__ = "line_terms"
    __table_args__ = (
        Index(None, "msisdn", "effective_from"),
        Index(None, "line_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    line_id: Mapped[str] = mapped_column(String(26))
    customer_id: Mapped[str] = mapped_column(String(64))
    msisdn: Mapped[str] = mapped_column(String(16))
    personal_account_id: Mapped[str] = mapped_column(String(26))
    tariff_code: Mapped[str] = mapped_column(String(64))
    services: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)


LINES = cast(Table, BillingLine.__table__)
LINE_TERMS = cast(Table, LineTerm.__table__)
