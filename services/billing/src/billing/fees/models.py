"""How far each line's monthly fee has been charged.

One row per line: the last day (UTC) whose share of the fee was charged. A
day is charged once, by a conditional update of this row in the transaction
of the ledger entry that takes it.
"""

from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy import Date, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base


class FeeProgress(Base):
    __tablename__ = "fee_progress"
    __table_args__ = (Index(None, "charged_through"),)

    line_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    # The last day whose share was charged (the day before the line's first chargeable day at first).
    charged_through: Mapped[date] = mapped_column(Date)


FEE_PROGRESS = cast(Table, FeeProgress.__table__)
