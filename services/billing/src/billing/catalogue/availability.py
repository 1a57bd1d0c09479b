"""Which lines may take a tariff or a change of options, from billing's copy of the lines (SIM-6, SIM-7, SIM-14).

The rules are :mod:`billing.catalogue.rules`; this reads what they need of
the lines: billing's copy of each line (tariff, services, state) and whether
it is held financially: its personal account is on a financial hold, or the line itself is (a spending limit
reached, its account run out: ``line_holds`` with reasons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from billing.holds.models import HOLDS, LINE_HOLDS
from billing.lines.models import LINES
from simfleet_runtime.db import Database

MAX_LINES = 1000


@dataclass(frozen=True, slots=True)
class KnownLine:
    line_id: str
    msisdn: str
    node_id: str
    tariff_code: str
    services: frozenset[str]
    state: str
    financially_blocked: bool


class LineFinder:
    def __init__(self, *, db: Database) -> None:
        self._db = db

    async def find(
        self, customer_id: str, line_ids: Sequence[str], msisdns: Sequence[str]
    ) -> tuple[dict[str, KnownLine], dict[str, KnownLine]]:
        """The customer's lines by id and by number (a number's line is the one holding it now, else the last)."""
        conditions = []
        if line_ids:
            conditions.append(LINES.c.line_id.in_(list(line_ids)))
        if msisdns:
            conditions.append(LINES.c.msisdn.in_(list(msisdns)))
        if not conditions:
            return {}, {}
        async with self._db.sessions() as session:
            rows = list(
                await session.execute(sa.select(LINES).where(LINES.c.customer_id == customer_id, sa.or_(*conditions)))
            )
            accounts = {row.personal_account_id for row in rows}
            held = (
                set(
                    await session.scalars(
                        sa.select(HOLDS.c.personal_account_id).where(
                            HOLDS.c.customer_id == customer_id, HOLDS.c.personal_account_id.in_(accounts)
                        )
                    )
                )
                if accounts
                else set()
            )
            ids = [row.line_id for row in rows]
            held_lines = (
                set(
                    await session.scalars(
                        sa.select(LINE_HOLDS.c.line_id).where(LINE_HOLDS.c.line_id.in_(ids), LINE_HOLDS.c.reasons > 0)
                    )
                )
                if ids
                else set()
            )
        by_id: dict[str, KnownLine] = {}
        by_number: dict[str, tuple[Any, KnownLine]] = {}
        wanted_ids, wanted_numbers = set(line_ids), set(msisdns)
        for row in rows:
            line = KnownLine(
                line_id=row.line_id,
                msisdn=row.msisdn,
                node_id=row.node_id,
                tariff_code=row.tariff_code,
                services=frozenset(row.services),
                state=row.state,
                financially_blocked=row.personal_account_id in held or row.line_id in held_lines,
            )
            if row.line_id in wanted_ids:
                by_id[row.line_id] = line
            if row.msisdn in wanted_numbers:
                rank = (row.state != "terminated", row.changed_at)
                found = by_number.get(row.msisdn)
                if found is None or rank > found[0]:
                    by_number[row.msisdn] = (rank, line)
        return by_id, {number: line for number, (_, line) in by_number.items()}
