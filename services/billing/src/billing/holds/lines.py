"""Why each line is held: a line may be held for several reasons at once, and is blocked once.

A reason is ``account:<ledger account id>`` (its personal account ran out) or
``limit:<limit id>`` (a spending limit that blocks was reached). :func:`hold`
gives lines a reason and answers those for which it is the first (to be
blocked now); :func:`release` takes a reason away and answers those for which
it was the last (to be unblocked now). Lines held for another reason are in
neither answer: a line whose account ran out stays blocked while a limit holds
it, and the other way round.

Each change locks the lines' ``line_holds`` rows first (in the order of their
ids, so two changes never deadlock; SQLite's transaction holds the write lock
from its start), then reads their reasons: two changes of one line's reasons
are serialised, so they never both believe they added its first reason or
removed its last. The caller publishes the block or unblock in the same
transaction (the outbox), so a change and its event commit together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing.holds.models import LINE_HOLD_REASONS, LINE_HOLDS
from simfleet_runtime.db import insert_ignoring_conflicts

CHUNK = 1000
L = LINE_HOLDS.c
R = LINE_HOLD_REASONS.c


def account_reason(account_id: str) -> str:
    return f"account:{account_id}"


def limit_reason(limit_id: str) -> str:
    return f"limit:{limit_id}"


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def _lock(session: AsyncSession, line_ids: Sequence[str]) -> dict[str, Any]:
    query = sa.select(L.line_id, L.msisdn, L.reasons).where(L.line_id.in_(line_ids)).order_by(L.line_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {row.line_id: row for row in await session.execute(query)}


async def hold(
    session: AsyncSession, *, customer_id: str, lines: Iterable[tuple[str, str]], reason: str, now: datetime
) -> list[str]:
    """Give ``lines`` ((line id, msisdn)) ``reason``; answers the numbers of those it is the first reason of."""
    wanted = sorted(dict(lines).items())
    first: list[str] = []
    for chunk in _chunks(wanted):
        ids = [line_id for line_id, _ in chunk]
        await session.execute(
            insert_ignoring_conflicts(session, LINE_HOLDS),
            [
                {"line_id": line_id, "customer_id": customer_id, "msisdn": msisdn, "reasons": 0, "changed_at": now}
                for line_id, msisdn in chunk
            ],
        )
        locked = await _lock(session, ids)
        having = set(
            (await session.execute(sa.select(R.line_id).where(R.reason == reason, R.line_id.in_(ids)))).scalars()
        )
        new = [(line_id, msisdn) for line_id, msisdn in chunk if line_id not in having]
        if not new:
            continue
        await session.execute(
            sa.insert(LINE_HOLD_REASONS), [{"line_id": line_id, "reason": reason, "since": now} for line_id, _ in new]
        )
        await session.execute(
            sa.update(LINE_HOLDS)
            .where(L.line_id == sa.bindparam("b_line"))
            .values(reasons=L.reasons + 1, msisdn=sa.bindparam("b_msisdn"), changed_at=now),
            [{"b_line": line_id, "b_msisdn": msisdn} for line_id, msisdn in new],
        )
        first += [msisdn for line_id, msisdn in new if locked[line_id].reasons == 0]
    return sorted(first)


async def release(session: AsyncSession, *, reason: str, now: datetime, only: Iterable[str] | None = None) -> list[str]:
    """Take ``reason`` from its lines (``only`` those when given); answers the numbers of those it was the last of."""
    query = sa.select(R.line_id).where(R.reason == reason)
    if only is not None:
        query = query.where(R.line_id.in_(sorted(set(only))))
    ids = sorted(set((await session.execute(query)).scalars()))
    last: list[str] = []
    for chunk in _chunks(ids):
        locked = await _lock(session, chunk)
        # Read again under the lock: a racing release may have taken some already.
        gone = (
            await session.execute(
                sa.delete(LINE_HOLD_REASONS).where(R.reason == reason, R.line_id.in_(chunk)).returning(R.line_id)
            )
        ).scalars()
        taken = sorted(set(gone))
        if not taken:
            continue
        await session.execute(
            sa.update(LINE_HOLDS)
            .where(L.line_id == sa.bindparam("b_line"))
            .values(reasons=L.reasons - 1, changed_at=now),
            [{"b_line": line_id} for line_id in taken],
        )
        last += [locked[line_id].msisdn for line_id in taken if locked[line_id].reasons == 1]
    return sorted(last)


async def reasons_of(session: AsyncSession, prefix: str) -> list[str]:
    """The reasons in force that start with ``prefix`` (``limit:``), each once."""
    return list((await session.execute(sa.select(R.reason).where(R.reason.startswith(prefix)).distinct())).scalars())


async def held_by(session: AsyncSession, reason: str) -> set[str]:
    """The ids of the lines ``reason`` holds."""
    return set((await session.execute(sa.select(R.line_id).where(R.reason == reason))).scalars())
