"""Money per period (AC-2, BI-1): a personal account's statement, and the totals of a node's accounts.

A period is a calendar month in UTC, ``[start, end)``. Its figures are read from
the posted postings (those with a ``sequence``) by the time they were posted:

- the **opening balance** is the sum of the account's postings before the
  period, which is the previous period's closing balance;
- each posting of the period falls in exactly one movement, by its sign, its
  entry's kind and whether the entry credits the operator's revenue: a debit of
  an entry with a revenue leg is a **charge** (usage, fees, packages), a debit of
  a ``transfer`` a **transfer out**, any other debit an **other debit**; a
  credit of a ``payment`` is a **payment**, of a ``transfer`` a **transfer in**,
  any other (promised payments, corrections) an **other credit**;
- the **closing balance** is the opening balance plus the period's postings:
  for the current month, the account's balance now.

So the movements always add up to the change of the balance. Reading uses the
index ``ix_postings_account_id_posted_at``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from billing.db import NODE_PATHS
from billing.ledger.models import ACCOUNTS, ENTRIES, PERSONAL, POSTINGS, REVENUE
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import InvalidArgument

CHARGES = "charges"
PAYMENTS = "payments"
TRANSFERS_IN = "transfers_in"
OTHER_CREDITS = "other_credits"
TRANSFERS_OUT = "transfers_out"
OTHER_DEBITS = "other_debits"
CREDITS = (PAYMENTS, TRANSFERS_IN, OTHER_CREDITS)
DEBITS = (CHARGES, TRANSFERS_OUT, OTHER_DEBITS)
MOVEMENTS = (*DEBITS[:1], *CREDITS, *DEBITS[1:])

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_YEAR = 2000


@dataclass(frozen=True)
class Period:
    """A calendar month in UTC: ``[start, end)``."""

    start: datetime
    end: datetime
    open: bool
    """The current month: its closing balance still moves."""

    @property
    def name(self) -> str:
        return f"{self.start.year:04d}-{self.start.month:02d}"


def _next_month(year: int, month: int) -> datetime:
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def period_of(text: str, now: datetime) -> Period:
    """``YYYY-MM`` (empty: the month of ``now``), not before 2000 nor after the current month."""
    current = (now.year, now.month)
    if not text:
        year, month = current
    else:
        matched = _PERIOD.match(text)
        if matched is None or not (FIRST_YEAR, 1) <= (int(matched[1]), int(matched[2])) <= current:
            raise InvalidArgument(
                "a period is a month as YYYY-MM, from 2000-01 to the current month",
                reason="INVALID_PERIOD",
                field_violations={"period": f"YYYY-MM from {FIRST_YEAR}-01 to {current[0]:04d}-{current[1]:02d}"},
            )
        year, month = int(matched[1]), int(matched[2])
    return Period(datetime(year, month, 1, tzinfo=UTC), _next_month(year, month), (year, month) == current)


@dataclass
class Figures:
    """One account's (or a sum of accounts') money over a period, in one currency."""

    currency: str
    opening_balance: int = 0
    movements: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MOVEMENTS, 0))
    postings_count: int = 0
    personal_accounts: int = 0

    @property
    def closing_balance(self) -> int:
        credits = sum(self.movements[name] for name in CREDITS)
        debits = sum(self.movements[name] for name in DEBITS)
        return self.opening_balance + credits - debits

    def add(self, other: Figures) -> None:
        self.opening_balance += other.opening_balance
        for name in MOVEMENTS:
            self.movements[name] += other.movements[name]
        self.postings_count += other.postings_count
        self.personal_accounts += other.personal_accounts


P, E, A = POSTINGS.c, ENTRIES.c, ACCOUNTS.c
_LEG, _OPERATOR = POSTINGS.alias("leg"), ACCOUNTS.alias("operator")
_REVENUE_LEG = (
    sa.select(sa.literal(1))
    .select_from(_LEG.join(_OPERATOR, _OPERATOR.c.id == _LEG.c.account_id))
    .where(_LEG.c.entry_id == P.entry_id, _OPERATOR.c.kind == REVENUE)
    .exists()
)
"""The posting's entry credits the operator's revenue: a charge."""
_MOVEMENT = sa.case(
    (sa.and_(P.amount < 0, E.kind == "transfer"), TRANSFERS_OUT),
    (sa.and_(P.amount < 0, _REVENUE_LEG), CHARGES),
    (P.amount < 0, OTHER_DEBITS),
    (E.kind == "transfer", TRANSFERS_IN),
    (E.kind == "payment", PAYMENTS),
    else_=OTHER_CREDITS,
).label("movement")


class Statements:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def period(self, text: str) -> Period:
        return period_of(text, self._clock.now())

    async def of_accounts(self, accounts: Iterable[tuple[str, str]], period: Period) -> dict[str, Figures]:
        """The figures of ledger accounts given as (id, currency), by account id."""
        currency_of = dict(accounts)
        figures = {account_id: Figures(currency, personal_accounts=1) for account_id, currency in currency_of.items()}
        if not figures:
            return figures
        ids = list(figures)
        posted = sa.and_(P.account_id.in_(ids), P.sequence.is_not(None))
        before = sa.select(P.account_id, sa.func.sum(P.amount)).where(posted, P.posted_at < period.start)
        during = (
            sa.select(P.account_id, _MOVEMENT, sa.func.sum(P.amount), sa.func.count())
            .select_from(POSTINGS.join(ENTRIES, E.id == P.entry_id))
            .where(posted, P.posted_at >= period.start, P.posted_at < period.end)
            .group_by(P.account_id, sa.literal_column("movement"))
        )
        async with self._db.sessions() as session:
            opening: list[Any] = list(await session.execute(before.group_by(P.account_id)))
            moved: list[Any] = list(await session.execute(during))
        for account_id, total in opening:
            figures[account_id].opening_balance = int(total or 0)
        for account_id, movement, total, count in moved:
            figures[account_id].movements[movement] += abs(int(total))
            figures[account_id].postings_count += int(count)
        return figures

    async def of_node(self, customer_id: str, node_id: str, period: Period) -> list[Figures]:
        """The sum of the figures of every personal account at or under ``node_id``, one per currency."""
        t = NODE_PATHS.c
        async with self._db.sessions() as session:
            path = await session.scalar(sa.select(t.path).where(t.customer_id == customer_id, t.node_id == node_id))
            if path is None:
                return []
            accounts = list(
                await session.execute(
                    sa.select(A.id, A.currency)
                    .select_from(ACCOUNTS.join(NODE_PATHS, t.node_id == A.personal_account_id))
                    .where(
                        A.kind == PERSONAL,
                        A.customer_id == customer_id,
                        t.customer_id == customer_id,
                        t.path.startswith(path),
                    )
                )
            )
        totals: dict[str, Figures] = defaultdict(lambda: Figures(""))
        for one in (await self.of_accounts(((r.id, r.currency) for r in accounts), period)).values():
            total = totals[one.currency]
            total.currency = one.currency
            total.add(one)
        return [totals[currency] for currency in sorted(totals)]
