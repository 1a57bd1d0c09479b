"""Taking SIM cards and numbers from stock, giving them back, and the stock the back-office brings in.

The functions that take a ``session`` run inside the caller's transaction: a
SIM or number reserved for an item is released by the same item's failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory import figures
from inventory.lines.models import TERMINATED, Line, LineLabel
from inventory.stock.identifiers import normalize_puk
from inventory.stock.models import (
    ASSIGNED,
    FREE,
    IN_STOCK,
    INSTALLED,
    NUMBER_RESERVED,
    QUARANTINED,
    RESERVED,
    RETIRED,
    Number,
    Sim,
)
from inventory.stock.puk import PukVault
from simfleet_runtime.db import is_sqlite
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.validation import normalize_iccid, normalize_imsi, normalize_msisdn

MAX_IMPORT = 10_000
Q = TypeVar("Q", bound=sa.Select[Any])


@dataclass(frozen=True)
class StockSim:
    iccid: str
    imsi: str
    puk1: str
    puk2: str


def validate_sim(sim: StockSim, *, field: str = "sims") -> StockSim:
    return StockSim(
        iccid=normalize_iccid(sim.iccid, field=f"{field}.iccid"),
        imsi=normalize_imsi(sim.imsi, field=f"{field}.imsi"),
        puk1=normalize_puk(sim.puk1, field=f"{field}.puk1"),
        puk2=normalize_puk(sim.puk2, field=f"{field}.puk2"),
    )


def _locked(session: AsyncSession, query: Q) -> Q:
    """Rows taken by one transaction are skipped by the others (PostgreSQL; SQLite has one writer)."""
    if is_sqlite(str(session.get_bind().engine.url)):
        return query
    return query.with_for_update(skip_locked=True)


async def reserve_customer_sim(session: AsyncSession, *, customer_id: str, iccid: str, now: datetime) -> Sim | None:
    """A SIM of the customer's reserve, now reserved for a replacement; None when it is not available."""
    sim = await session.get(Sim, iccid, with_for_update=not is_sqlite(str(session.get_bind().engine.url)))
    if sim is None or sim.customer_id != customer_id or sim.state != IN_STOCK:
        return None
    sim.state, sim.updated_at = RESERVED, now
    return sim


async def take_operator_sims(session: AsyncSession, *, customer_id: str, count: int, now: datetime) -> list[Sim]:
    """Up to ``count`` SIMs of the operator's stock, reserved for ``customer_id``."""
    query = sa.select(Sim).where(Sim.state == IN_STOCK, Sim.customer_id.is_(None)).order_by(Sim.iccid).limit(count)
    sims = list((await session.scalars(_locked(session, query))).all())
    for sim in sims:
        sim.state, sim.customer_id, sim.updated_at = RESERVED, customer_id, now
    return sims


async def release_sim(session: AsyncSession, *, iccid: str, now: datetime, to_operator: bool) -> None:
    """A reserved SIM goes back: to the operator's stock, or to the customer's reserve."""
    values: dict[str, object] = {"state": IN_STOCK, "updated_at": now}
    if to_operator:
        values["customer_id"] = None
    await session.execute(sa.update(Sim).where(Sim.iccid == iccid, Sim.state == RESERVED).values(**values))


async def install_sim(session: AsyncSession, *, iccid: str, now: datetime) -> None:
    await session.execute(sa.update(Sim).where(Sim.iccid == iccid).values(state=INSTALLED, updated_at=now))


async def retire_sim(session: AsyncSession, *, iccid: str, now: datetime) -> None:
    await session.execute(sa.update(Sim).where(Sim.iccid == iccid).values(state=RETIRED, updated_at=now))


async def reserve_number(
    session: AsyncSession, *, customer_id: str, msisdn: str | None, now: datetime
) -> Number | None:
    """The free number asked for (or any free one), now reserved; None when there is none.

    A quarantined number whose rest is over counts as free.
    """
    available = sa.or_(Number.state == FREE, sa.and_(Number.state == QUARANTINED, Number.quarantined_until <= now))
    query = sa.select(Number).where(available)
    query = query.where(Number.msisdn == msisdn) if msisdn else query.order_by(Number.msisdn).limit(1)
    number = (await session.scalars(_locked(session, query))).first()
    if number is None:
        return None
    if number.state == QUARANTINED:
        await _forget_terminated_lines(session, number.msisdn)
    number.state, number.customer_id, number.quarantined_until, number.updated_at = (
        NUMBER_RESERVED,
        customer_id,
        None,
        now,
    )
    return number


async def _forget_terminated_lines(session: AsyncSession, msisdn: str) -> None:
    """The number's rest is over and it goes to a new line: the terminated line that held it leaves the list.

    A number belongs to one listed line (``lines.msisdn`` is unique); a terminated line stays listed while its
    number rests in quarantine, and its operations' items keep the number after it has gone.
    """
    rows = (
        await session.execute(
            sa.select(Line.id, Line.customer_id, Line.node_id).where(Line.msisdn == msisdn, Line.state == TERMINATED)
        )
    ).all()
    if not rows:
        return
    ids = [row.id for row in rows]
    await session.execute(sa.delete(LineLabel).where(LineLabel.line_id.in_(ids)))
    await session.execute(sa.delete(Line).where(Line.id.in_(ids)))
    for row in rows:
        await figures.mark(session, row.customer_id, [row.node_id])  # its node counts one terminated line less


async def release_number(session: AsyncSession, *, msisdn: str, now: datetime) -> None:
    await session.execute(
        sa.update(Number)
        .where(Number.msisdn == msisdn, Number.state == NUMBER_RESERVED)
        .values(state=FREE, customer_id=None, updated_at=now)
    )


async def assign_number(session: AsyncSession, *, msisdn: str, now: datetime) -> None:
    await session.execute(sa.update(Number).where(Number.msisdn == msisdn).values(state=ASSIGNED, updated_at=now))


async def quarantine_number(session: AsyncSession, *, msisdn: str, now: datetime, days: int) -> None:
    """A released number rests before anyone else gets it (calls for its old holder die out)."""
    await session.execute(
        sa.update(Number)
        .where(Number.msisdn == msisdn)
        .values(state=QUARANTINED, customer_id=None, quarantined_until=now + timedelta(days=days), updated_at=now)
    )


async def free_numbers(session: AsyncSession, *, contains: str, limit: int, now: datetime) -> list[str]:
    digits = "".join(ch for ch in contains if ch.isdigit())
    if contains and not digits:
        raise InvalidArgument(
            "contains takes digits", reason="INVALID_FILTER", field_violations={"contains": "digits only"}
        )
    available = sa.or_(Number.state == FREE, sa.and_(Number.state == QUARANTINED, Number.quarantined_until <= now))
    query = sa.select(Number.msisdn).where(available)
    if digits:
        query = query.where(Number.msisdn.contains(digits, autoescape=True))
    return list((await session.scalars(query.order_by(Number.msisdn).limit(limit))).all())


async def add_stock(
    session: AsyncSession,
    *,
    vault: PukVault,
    customer_id: str | None,
    sims: Sequence[StockSim],
    msisdns: Sequence[str],
    now: datetime,
) -> tuple[int, int]:
    """Insert what is not there yet; returns (SIMs added, numbers added)."""
    if len(sims) > MAX_IMPORT or len(msisdns) > MAX_IMPORT:
        raise InvalidArgument(
            f"at most {MAX_IMPORT} SIMs and {MAX_IMPORT} numbers per call",
            reason="TOO_MANY",
            field_violations={"sims": f"at most {MAX_IMPORT}"},
        )
    checked = [validate_sim(s, field=f"sims[{i}]") for i, s in enumerate(sims)]
    numbers = [normalize_msisdn(m, field=f"msisdns[{i}]") for i, m in enumerate(msisdns)]
    sims_added = numbers_added = 0
    if checked:
        known = set(
            (await session.scalars(sa.select(Sim.iccid).where(Sim.iccid.in_([s.iccid for s in checked])))).all()
        )
        known_imsi = set(
            (await session.scalars(sa.select(Sim.imsi).where(Sim.imsi.in_([s.imsi for s in checked])))).all()
        )
        rows = []
        for sim in checked:
            if sim.iccid in known or sim.imsi in known_imsi:
                continue
            known.add(sim.iccid)
            known_imsi.add(sim.imsi)
            rows.append(
                {
                    "iccid": sim.iccid,
                    "imsi": sim.imsi,
                    "puk": vault.seal(sim.iccid, sim.puk1, sim.puk2),
                    "state": IN_STOCK,
                    "customer_id": customer_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if rows:
            await session.execute(sa.insert(Sim), rows)
        sims_added = len(rows)
    if numbers:
        known = set((await session.scalars(sa.select(Number.msisdn).where(Number.msisdn.in_(numbers)))).all())
        fresh = list(dict.fromkeys(n for n in numbers if n not in known))
        if fresh:
            await session.execute(
                sa.insert(Number),
                [
                    {"msisdn": n, "state": FREE, "customer_id": None, "quarantined_until": None, "updated_at": now}
                    for n in fresh
                ],
            )
        numbers_added = len(fresh)
    return sims_added, numbers_added
