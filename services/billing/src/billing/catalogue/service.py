"""The catalogue in the database, and the in-memory book rating reads it from."""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from billing.catalogue.models import TARIFF_VERSIONS
from billing.catalogue.plans import BUILTIN, Tariff
from billing.catalogue.price_lists import price_lists
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import Unavailable

log = logging.getLogger(__name__)


class TariffBook:
    """Every version of every tariff, by code, in the order they apply; and in each currency's price list."""

    def __init__(self, versions: Iterable[Tariff]) -> None:
        by_code: dict[str, list[Tariff]] = {}
        for tariff in sorted(versions, key=lambda t: (t.code, t.effective_from, t.version)):
            by_code.setdefault(tariff.code, []).append(tariff)
        self._by_code = by_code
        self._starts = {code: [t.effective_from for t in found] for code, found in by_code.items()}
        # (code, currency) → each stored version in that currency's price list (billing/catalogue/price_lists.py),
        # in the stored versions' order; None where a version has none.
        self._priced: dict[tuple[str, str], list[Tariff | None]] = {}
        for code, found in by_code.items():
            for index, tariff in enumerate(found):
                for other in price_lists(tariff):
                    self._priced.setdefault((code, other.currency), [None] * len(found))[index] = other

    def at(self, code: str, when: datetime, currency: str = "") -> Tariff | None:
        """The version of ``code`` in force at ``when``; None when there is none (unknown, or not yet).

        With ``currency``, the version from that currency's price list when the catalogue has one; the
        stored version otherwise (its currency then tells the caller it does not fit).
        """
        starts = self._starts.get(code)
        if not starts:
            return None
        index = bisect.bisect_right(starts, when) - 1
        if index < 0:
            return None
        stored = self._by_code[code][index]
        if currency and currency != stored.currency and (code, currency) in self._priced:
            return self._priced[(code, currency)][index] or stored
        return stored

    def current(self, now: datetime, currency: str = "") -> list[Tariff]:
        """The version of every tariff in force now; with ``currency``, from its price list as :meth:`at` picks it."""
        found = (self.at(code, now, currency) for code in sorted(self._by_code))
        return [tariff for tariff in found if tariff is not None]


class Catalogue:
    """The tariffs in billing's database; rating and the API read them from a book kept in memory.

    :meth:`run` stores the shipped tariffs, loads the book, and reloads it
    every ``refresh_seconds`` so a version added meanwhile is seen.
    """

    def __init__(
        self, *, db: Database, clock: Clock, builtin: Sequence[Tariff] = BUILTIN, refresh_seconds: float = 60.0
    ) -> None:
        self._db = db
        self._clock = clock
        self._builtin = tuple(builtin)
        self._refresh = refresh_seconds
        self._book: TariffBook | None = None
        self._loaded = asyncio.Event()

    def book(self) -> TariffBook:
        """The book as last loaded; UNAVAILABLE before the first load."""
        if self._book is None:
            raise Unavailable("the tariff catalogue is not loaded yet", reason="CATALOGUE_LOADING")
        return self._book

    async def wait_loaded(self) -> None:
        await self._loaded.wait()

    async def reload(self) -> TariffBook:
        self._book = await self.load()
        self._loaded.set()
        return self._book

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if self._book is None:
                    await self.seed()
                await self.reload()
            except Exception:  # the database may be starting; the next round tries again
                log.exception("loading the tariff catalogue failed; trying again")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._refresh if self._book is not None else 1.0)
            except TimeoutError:
                continue

    async def seed(self) -> int:
        """Store the shipped tariffs' versions that are not stored yet; answers how many were added."""
        now = self._clock.now()
        added = 0
        async with self._db.transaction() as session:
            for tariff in self._builtin:
                claimed = await session.execute(
                    insert_ignoring_conflicts(session, TARIFF_VERSIONS),
                    {
                        "code": tariff.code,
                        "version": tariff.version,
                        "name": tariff.name,
                        "currency": tariff.currency,
                        "monthly_fee": tariff.monthly_fee,
                        "effective_from": tariff.effective_from,
                        "definition": tariff.definition(),
                        "created_at": now,
                    },
                )
                added += claimed.rowcount  # type: ignore[attr-defined]
        return added

    async def load(self) -> TariffBook:
        async with self._db.sessions() as session:
            rows = (await session.execute(sa.select(TARIFF_VERSIONS))).all()
        return TariffBook(
            Tariff.from_row(
                code=row.code,
                name=row.name,
                currency=row.currency,
                monthly_fee=row.monthly_fee,
                version=row.version,
                effective_from=row.effective_from,
                definition=row.definition,
            )
            for row in rows
        )
