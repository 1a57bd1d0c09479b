"""Daily shares of the tariffs' monthly fees.

- A line pays for a day when it was in service (active or blocked) at some
  moment of that day, at the tariff in force at the day's last such moment:
  a line activated on the 10th pays from the 10th, one terminated on the
  20th pays through the 20th, a tariff change pays the new tariff from the
  day it happened.
- Day ``d`` of a month of ``n`` days costs ``fee*d//n - fee*(d-1)//n``: the
  shares of a whole month add up to the fee exactly, to the kopeck.
- The fee run charges every day from each line's last charged day through
  today (so days missed while billing was stopped are charged when it runs
  again), a thousand lines per transaction: one journal entry per customer
  (up to 63 accounts) debits the personal accounts and credits revenue, and
  each line's progress moves in the same transaction under the condition
  that it still stands where the run read it, so a day is charged once even
  when two runs race.
- Fees are taken below the floor, like usage: the line was in service.
- Options (SIM-7, SIM-14; billing.catalogue.options) are charged the same
  way, in the same entry and under the same progress: a day's share of each
  option's monthly fee for every option the line had at some moment of the
  day while in service (so from the day it is connected through the day it
  is disconnected), nothing for options the day's tariff includes. They come
  from the price list of the account's currency, as the tariff's fee does
  (billing.catalogue.price_lists: an IRR line pays the option's rouble fee in
  rials at the list's rate).
"""

from __future__ import annotations

import asyncio
import bisect
import calendar
import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics
from billing.catalogue.options import OPTIONS
from billing.catalogue.price_lists import option_fee_in
from billing.catalogue.service import Catalogue
from billing.fees.models import FEE_PROGRESS
from billing.ledger.models import ACCOUNTS
from billing.ledger.service import LedgerService
from billing.limits.spend import add_spend
from billing.lines.models import LINE_TERMS, LINES
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database

log = logging.getLogger(__name__)

IN_SERVICE = ("active", "blocked")
BATCH = 1000


def daily_share(fee: int, day: date) -> int:
    """Day ``day``'s share of a monthly ``fee``: the month's shares sum to the fee exactly."""
    days = calendar.monthrange(day.year, day.month)[1]
    return fee * day.day // days - fee * (day.day - 1) // days


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def chargeable(terms: list[Any], day: date, now: datetime) -> Any | None:
    """The term a line pays ``day`` by: the last one in service during the day (up to ``now``); None if none was."""
    begin, end = _start(day), min(_start(day + timedelta(days=1)), now)
    if end <= begin:
        return None
    first = bisect.bisect_right([t.effective_from for t in terms], begin) - 1
    candidates = ([terms[first]] if first >= 0 else []) + [t for t in terms[first + 1 :] if t.effective_from < end]
    for term in reversed(candidates):
        if term.state in IN_SERVICE:
            return term
    return None


def options_of_day(terms: list[Any], day: date, now: datetime) -> set[str]:
    """The options a line had at some moment of ``day`` (up to ``now``) while in service."""
    begin, end = _start(day), min(_start(day + timedelta(days=1)), now)
    if end <= begin:
        return set()
    first = bisect.bisect_right([t.effective_from for t in terms], begin) - 1
    during = ([terms[first]] if first >= 0 else []) + [t for t in terms[first + 1 :] if t.effective_from < end]
    return {name for term in during if term.state in IN_SERVICE for name in term.services if name in OPTIONS}


def options_share(tariff_code: str, options: set[str], currency: str, day: date) -> int:
    """Day ``day``'s share of the options' monthly fees on ``tariff_code``, from ``currency``'s price list."""
    return sum(daily_share(option_fee_in(tariff_code, name, currency) or 0, day) for name in sorted(options))


class Fees:
    def __init__(
        self, *, db: Database, clock: Clock, ledger: LedgerService, catalogue: Catalogue, interval: float
    ) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._catalogue = catalogue
        self._interval = interval

    async def run_once(self) -> int:
        """Charge every line's days due through today; answers how many line-days were charged."""
        now = self._clock.now()
        today = now.date()
        charged = 0
        after = ""
        while True:
            async with self._db.sessions() as session:
                rows = (
                    await session.execute(
                        sa.select(LINES.c.line_id, LINES.c.customer_id, FEE_PROGRESS.c.charged_through)
                        .select_from(LINES.outerjoin(FEE_PROGRESS, FEE_PROGRESS.c.line_id == LINES.c.line_id))
                        .where(
                            LINES.c.line_id > after,
                            sa.or_(FEE_PROGRESS.c.charged_through.is_(None), FEE_PROGRESS.c.charged_through < today),
                        )
                        .order_by(LINES.c.line_id)
                        .limit(BATCH)
                    )
                ).all()
            if not rows:
                return charged
            after = rows[-1].line_id
            async with self._db.transaction() as session:
                charged += await self._charge(session, [row.line_id for row in rows], now)
            await asyncio.sleep(0)

    async def _charge(self, session: AsyncSession, ids: Sequence[str], now: datetime) -> int:
        book = self._catalogue.book()
        today = now.date()
        # Where each line stands, read again in this transaction and locked (PostgreSQL; SQLite's transaction
        # holds the write lock): a racing run waits here and then sees the days this one charged.
        progress_of = sa.select(FEE_PROGRESS).where(FEE_PROGRESS.c.line_id.in_(ids))
        if session.get_bind().dialect.name == "postgresql":
            progress_of = progress_of.order_by(FEE_PROGRESS.c.line_id).with_for_update()
        stood = {row.line_id: row.charged_through for row in await session.execute(progress_of)}
        terms: dict[str, list[Any]] = defaultdict(list)
        for stored in await session.execute(
            sa.select(LINE_TERMS).where(LINE_TERMS.c.line_id.in_(ids)).order_by(LINE_TERMS.c.effective_from)
        ):
            terms[stored.line_id].append(stored)
        accounts = {
            row.personal_account_id: (row.id, row.currency)
            for row in await session.execute(
                sa.select(ACCOUNTS.c.personal_account_id, ACCOUNTS.c.id, ACCOUNTS.c.currency).where(
                    ACCOUNTS.c.owner_key.in_(
                        {f"personal:{t.personal_account_id}" for found in terms.values() for t in found}
                    )
                )
            )
        }
        # (customer, currency) → ledger account → amount
        amounts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        progress: list[dict[str, Any]] = []
        charged: list[str] = []
        spent: dict[tuple[str, str, str], int] = defaultdict(int)  # (line, period, currency) → fees
        for line_id in ids:
            history = terms.get(line_id, [])
            if not history:
                continue
            was = stood.get(line_id)
            day = was + timedelta(days=1) if was else history[0].effective_from.date()
            through = was
            while day <= today:
                term = chargeable(history, day, now)
                if term is not None:
                    account = accounts.get(term.personal_account_id)
                    tariff = book.at(term.tariff_code, _start(day), account[1] if account else "")
                    if tariff is not None and account is not None and account[1] == tariff.currency:
                        share = daily_share(tariff.monthly_fee, day) + options_share(
                            tariff.code, options_of_day(history, day, now), account[1], day
                        )
                        if share:
                            amounts[(term.customer_id, account[1])][account[0]] += share
                            charged.append(f"{line_id}:{day}")
                            spent[(line_id, f"{day.year:04d}-{day.month:02d}", account[1])] += share
                    through = day
                elif day < today:
                    through = day  # a past day out of service stays so; today may yet come into service
                day += timedelta(days=1)
            if through != was:
                progress.append({"b_line": line_id, "b_was": was, "b_now": through})
        # The entries' ids come from the line-days they charge: those days are never charged again (the
        # progress rows say so), so an id is never reused.
        await self._ledger.charge_to_revenue(
            session,
            amounts,
            kind="fee",
            seed=hashlib.sha256("\x1f".join(charged).encode()).hexdigest(),
            description=f"monthly fees through {today}",
        )
        await self._advance(session, progress)
        await add_spend(session, spent)
        metrics.FEE_LINE_DAYS.inc(len(charged))
        return len(charged)

    async def _advance(self, session: AsyncSession, progress: list[dict[str, Any]]) -> None:
        p = FEE_PROGRESS.c
        new = [{"line_id": r["b_line"], "charged_through": r["b_now"]} for r in progress if r["b_was"] is None]
        moved = [r for r in progress if r["b_was"] is not None]
        if new:
            await session.execute(sa.insert(FEE_PROGRESS), new)  # a racing run's first row fails here: it rolls back
        if moved:
            await session.execute(
                sa.update(FEE_PROGRESS)
                .where(p.line_id == sa.bindparam("b_line"))
                .values(charged_through=sa.bindparam("b_now")),
                [{"b_line": r["b_line"], "b_now": r["b_now"]} for r in moved],
            )

    async def run(self, stop: asyncio.Event) -> None:
        await self._catalogue.wait_loaded()
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the next run charges what this one did not
                log.exception("the fee run failed; it runs again")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue
