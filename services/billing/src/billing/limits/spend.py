"""The spend counters: what each line was charged per period, moved in the transaction of the charge.

Rating, the fee run and a line package's purchase call :func:`add_spend` with what they charged, in the
transaction of their journal entry: a charge counted is a charge posted, and a
batch or a fee day charged once is counted once.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from billing.limits.models import SPEND


async def add_spend(session: AsyncSession, amounts: Mapping[tuple[str, str, str], int]) -> None:
    """Add ``amounts`` ((line id, period, currency) → minor units) to the lines' counters."""
    rows = [
        {"line_id": line, "period": period, "currency": currency, "amount": amount}
        for (line, period, currency), amount in sorted(amounts.items())
        if amount and line
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(SPEND) if dialect == "postgresql" else sqlite.insert(SPEND)
    # Sorted rows: two transactions adding to the same lines lock them in one order and never deadlock.
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[SPEND.c.line_id, SPEND.c.period, SPEND.c.currency],
            set_={"amount": SPEND.c.amount + insert.excluded.amount},
        ),
        rows,
    )


def usage_spend(rows: list[dict[str, object]]) -> dict[tuple[str, str, str], int]:
    """The spend of a batch's rated rows (``usage_records`` rows as rating builds them)."""
    spend: dict[tuple[str, str, str], int] = {}
    for row in rows:
        charged = row.get("charged")
        if row.get("reason") or not isinstance(charged, int) or not charged:
            continue
        key = (str(row["line_id"]), str(row["period"]), str(row["currency"]))
        spend[key] = spend.get(key, 0) + charged
    return spend
