"""Rating: a batch of usage records priced and charged in one transaction, each record once.

For a batch (one ``UsageRecords`` message, up to 1,000 records):

1. Records whose id is stored already are dropped: a record sent again in
   another batch is never charged twice (its id is the key of ``usage_records``).
2. Each remaining record is matched, by number, to the line's terms in force
   when it started (billing's copy of the lines), then to the tariff version in
   force then, and priced (:mod:`billing.rating.pricing`) in the order the
   records started, so allowances are consumed in time order.
3. One journal entry per customer and currency (up to 63 personal accounts
   each) debits the personal accounts and credits the operator's revenue; each
   charged record names its entry.
4. A record that cannot be rated is stored as rejected with its reason, never
   charged, and shown on the rejected list.

The caller (the consumer) holds the transaction, with the batch's event id
claimed in it: everything above commits together or not at all.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics
from billing.catalogue.plans import DATA, KINDS, SMS, UNITS, VOICE, ZONES
from billing.catalogue.service import Catalogue
from billing.ledger.models import ACCOUNTS
from billing.ledger.service import LedgerService
from billing.limits.spend import add_spend, usage_spend
from billing.lines.models import LINE_TERMS, LINES
from billing.packages.service import RatingPackages
from billing.rating.models import ALLOWANCE_USE, RATED, RECORD_ID_MAX, REJECTED, USAGE
from billing.rating.pricing import Usage, price
from simfleet.netsim.v1 import usage_pb2 as net
from simfleet_runtime import paging
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, one_of

_RECORD_ID = re.compile(rf"^[A-Za-z0-9._:-]{{1,{RECORD_ID_MAX}}}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_KIND_NAMES = {net.USAGE_KIND_VOICE: VOICE, net.USAGE_KIND_SMS: SMS, net.USAGE_KIND_DATA: DATA}
_ZONE_NAMES = {
    net.USAGE_ZONE_NONE: "",
    net.USAGE_ZONE_ON_NET: "on_net",
    net.USAGE_ZONE_NATIONAL: "national",
    net.USAGE_ZONE_INTERNATIONAL: "international",
}
MAX_QUANTITY = 10**13
"""Larger than any real record (a day-long call is 86,400 s, a session of 10 TB is 10^13 bytes)."""
LAST_RECORDS = 15
REJECTED_LIST = "billing.usage.rejected"
TERMINATED = "terminated"


def period_of(when: datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def period_bounds(when: datetime) -> tuple[datetime, datetime]:
    start = datetime(when.year, when.month, 1, tzinfo=UTC)
    end = datetime(when.year + (when.month == 12), when.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(frozen=True, slots=True)
class Term:
    line_id: str
    customer_id: str
    personal_account_id: str
    tariff_code: str
    state: str
    effective_from: datetime


@dataclass(slots=True)
class BatchSummary:
    rated: int = 0
    rejected: int = 0
    duplicate: int = 0
    charged: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KindTotal:
    kind: str
    records: int
    quantity: int
    units: int
    included_units: int
    charged: int


@dataclass(frozen=True, slots=True)
class Allowance:
    kind: str
    unit: str
    included: int
    used: int

    @property
    def remaining(self) -> int:
        return max(self.included - self.used, 0)


@dataclass(frozen=True, slots=True)
class LineUsage:
    line: Any
    period: str
    period_start: datetime
    period_end: datetime
    currency: str
    totals: list[KindTotal]
    allowances: list[Allowance]
    last_records: list[Any]


def _problem(record: net.UsageRecord) -> str:
    """Why a record cannot be rated whatever the lines and tariffs say; "" when it is well formed."""
    if not _RECORD_ID.match(record.record_id):
        return "INVALID_RECORD_ID"
    if record.kind not in _KIND_NAMES:
        return "UNKNOWN_KIND"
    if record.zone not in _ZONE_NAMES:
        return "UNKNOWN_ZONE"
    if (record.kind == net.USAGE_KIND_DATA) != (record.zone == net.USAGE_ZONE_NONE):
        return "ZONE_DOES_NOT_FIT_KIND"
    if not 0 < record.quantity <= MAX_QUANTITY:
        return "INVALID_QUANTITY"
    if record.kind == net.USAGE_KIND_SMS and record.quantity != 1:
        return "INVALID_QUANTITY"
    if not record.HasField("started_at"):
        return "NO_START_TIME"
    if record.roaming_country and not _COUNTRY.match(record.roaming_country):
        return "INVALID_COUNTRY"
    if not record.msisdn or len(record.msisdn) > 16:
        return "INVALID_MSISDN"
    return ""


def _fit(text: str, size: int) -> str:
    return text[:size]


class Rater:
    def __init__(self, *, db: Database, clock: Clock, ledger: LedgerService, catalogue: Catalogue) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._catalogue = catalogue

    # ------------------------------------------------------------- rating
    async def rate(self, session: AsyncSession, records: Sequence[net.UsageRecord], batch_id: str) -> BatchSummary:
        """Rate one batch in the caller's transaction (see the module's docstring)."""
        return await self.rate_batches(session, [(batch_id, records)])

    async def rate_batches(
        self, session: AsyncSession, batches: Sequence[tuple[str, Sequence[net.UsageRecord]]]
    ) -> BatchSummary:
        """Rate several batches (id, records) together in the caller's transaction, as one batch of them all.

        Reading the lines, allowances and packages of a thousand records and
        committing cost about as much for four thousand: the consumer hands
        rating the batches of one fetch together (``rating_batches_per_transaction``).
        """
        book = self._catalogue.book()
        now = self._clock.now()
        summary = BatchSummary()
        counted: dict[tuple[str, str], int] = defaultdict(int)
        keyed: list[tuple[net.UsageRecord, str]] = []
        for batch_id, records in batches:
            for index, record in enumerate(records):
                record_id = record.record_id
                if not _RECORD_ID.match(record_id):
                    # Kept under an id of its own, the same whenever this batch comes again.
                    digest = hashlib.sha256(f"{batch_id}\x1f{index}".encode()).hexdigest()
                    record_id = f"invalid:{digest[:40]}"
                keyed.append((record, record_id))
        # The entries' ids name what they charge: one batch's id, or all of them.
        seed = batches[0][0] if len(batches) == 1 else "\x1e".join(batch_id for batch_id, _ in batches)
        queries = _queries(session.get_bind().dialect.name)
        ids = list({record_id for _, record_id in keyed})
        stored = set((await session.execute(queries.stored, {"ids": ids})).scalars())
        fresh: list[tuple[net.UsageRecord, str, datetime]] = []
        seen: set[str] = set()
        for record, record_id in keyed:
            if record_id in stored or record_id in seen:
                summary.duplicate += 1
                counted[("duplicate", _KIND_NAMES.get(record.kind, "unknown"))] += 1
                continue
            seen.add(record_id)
            started = record.started_at.ToDatetime(tzinfo=UTC) if record.HasField("started_at") else now
            fresh.append((record, record_id, started))
        if not fresh:
            _count(counted)
            return summary
        fresh.sort(key=lambda item: (item[2], item[1]))

        terms = await self._terms(session, queries, {record.msisdn for record, _, _ in fresh})
        await _let_others_run()
        rows: list[dict[str, Any]] = []
        resolved: list[tuple[dict[str, Any], Term | None]] = []
        for record, record_id, started in fresh:
            row: dict[str, Any] = {
                "record_id": record_id,
                "outcome": RATED,
                "reason": _problem(record),
                "line_id": "",
                "customer_id": "",
                "personal_account_id": "",
                "msisdn": _fit(record.msisdn, 16),
                "imsi": _fit(record.imsi, 15),
                "kind": _KIND_NAMES.get(record.kind, "unknown"),
                "zone": _ZONE_NAMES.get(record.zone, ""),
                "roaming_country": _fit(record.roaming_country, 2),
                "destination": _fit(record.destination, 16),
                "started_at": started,
                "period": period_of(started),
                "quantity": record.quantity if 0 <= record.quantity <= MAX_QUANTITY else 0,
                "units": 0,
                "included_units": 0,
                "package_units": 0,
                "charged": 0,
                "currency": "",
                "tariff_code": "",
                "tariff_version": 0,
                "entry_id": None,
                "rated_at": now,
            }
            term = None
            if not row["reason"]:
                term = _term_at(terms.get(record.msisdn, []), started)
                if term is None:
                    row["reason"] = "UNKNOWN_LINE"
                elif term.state == TERMINATED:
                    row["reason"] = "LINE_TERMINATED"
            if term is not None:
                row.update(
                    line_id=term.line_id,
                    customer_id=term.customer_id,
                    personal_account_id=term.personal_account_id,
                    tariff_code=term.tariff_code,
                )
            rows.append(row)
            resolved.append((row, term))

        accounts = await self._accounts(
            session,
            queries,
            {term.personal_account_id for row, term in resolved if term is not None and not row["reason"]},
        )
        allowance_keys = {(row["line_id"], row["period"]) for row, term in resolved if term is not None}
        used, existing_use = await self._allowance_use(session, queries, allowance_keys)
        packages = await RatingPackages.load(
            session,
            {row["line_id"] for row, term in resolved if term is not None and row["kind"] == DATA},
            since=min(row["started_at"] for row in rows),
        )
        touched: set[tuple[str, str, str]] = set()
        # (customer, currency) → ledger account id → amount
        charges: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        charged_rows: list[tuple[dict[str, Any], str]] = []
        for row, term in resolved:
            if row["reason"] or term is None:
                continue
            account = accounts.get(term.personal_account_id)
            tariff = book.at(term.tariff_code, row["started_at"], account[1] if account else "")
            if account is None:
                row["reason"] = "NO_LEDGER_ACCOUNT"
                continue
            if tariff is None:
                row["reason"] = "UNKNOWN_TARIFF"
                continue
            account_id, currency = account
            if tariff.currency != currency:
                row["reason"] = "CURRENCY_MISMATCH"
                continue
            usage = Usage(row["kind"], row["zone"], row["roaming_country"], row["quantity"])
            key = (term.line_id, row["period"], row["kind"])
            left = tariff.allowances.get(row["kind"], 0) - used.get(key, 0)
            try:
                priced = price(
                    usage, tariff, left, packages.by_line.get(term.line_id, ()), packages.left, row["started_at"]
                )
            except KeyError:
                row["reason"] = "NO_PRICE"
                continue
            packages.take(priced.drawn)
            if priced.included:
                used[key] = used.get(key, 0) + priced.included
                touched.add(key)
            row.update(
                units=priced.units,
                included_units=priced.included,
                package_units=priced.packaged,
                charged=priced.charged,
                currency=currency,
                tariff_version=tariff.version,
            )
            if priced.charged:
                charges[(term.customer_id, currency)][account_id] += priced.charged
                charged_rows.append((row, account_id))

        entry_of = await self._ledger.charge_to_revenue(
            session, charges, kind="usage", seed=seed, description="usage rated in one batch"
        )
        await _let_others_run()
        for row, account_id in charged_rows:
            row["entry_id"] = entry_of[account_id]
        for row in rows:
            if row["reason"]:
                row["outcome"] = REJECTED
                summary.rejected += 1
            else:
                summary.rated += 1
                if row["charged"]:
                    summary.charged[row["currency"]] = summary.charged.get(row["currency"], 0) + row["charged"]
            counted[(row["outcome"], row["kind"])] += 1
        # The lag of the batch: how long its oldest rated record waited.
        oldest = min((row["started_at"] for row in rows if row["outcome"] == RATED), default=None)
        if oldest is not None:
            metrics.RATING_LAG.observe(max((now - oldest).total_seconds(), 0.0))
        _count(counted)
        await _store(session, rows)
        await add_spend(session, usage_spend(rows))  # the lines' spend (limits), with the charge
        await _let_others_run()
        await self._keep_allowance_use(session, touched, used, existing_use)
        await packages.keep(session)
        for currency, amount in summary.charged.items():
            metrics.USAGE_CHARGED.labels(currency).inc(amount)
        return summary

    async def _terms(self, session: AsyncSession, queries: _Queries, msisdns: set[str]) -> dict[str, list[Term]]:
        found: dict[str, list[Term]] = defaultdict(list)
        wanted = [m for m in msisdns if m]
        if not wanted:
            return found
        for row in await session.execute(queries.terms, {"msisdns": wanted}):
            found[row[0]].append(Term(*row[1:]))
        return found

    async def _accounts(
        self, session: AsyncSession, queries: _Queries, personal_account_ids: set[str]
    ) -> dict[str, tuple[str, str]]:
        """personal account id → (ledger account id, currency)."""
        if not personal_account_ids:
            return {}
        rows = await session.execute(
            queries.accounts, {"owners": [f"personal:{node_id}" for node_id in personal_account_ids]}
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    async def _allowance_use(
        self, session: AsyncSession, queries: _Queries, keys: set[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str, str], int], set[tuple[str, str, str]]]:
        if not keys:
            return {}, set()
        rows = await session.execute(
            queries.allowance_use,
            {"lines": list({line for line, _ in keys}), "periods": list({period for _, period in keys})},
        )
        used = {(line, period, kind): amount for line, period, kind, amount in rows}
        return used, set(used)

    async def _keep_allowance_use(
        self,
        session: AsyncSession,
        touched: set[tuple[str, str, str]],
        used: dict[tuple[str, str, str], int],
        existing: set[tuple[str, str, str]],
    ) -> None:
        new = [
            {"line_id": line, "period": period, "kind": kind, "used": used[(line, period, kind)]}
            for line, period, kind in sorted(touched - existing)
        ]
        changed = [
            {"b_line_id": line, "b_period": period, "b_kind": kind, "b_used": used[(line, period, kind)]}
            for line, period, kind in sorted(touched & existing)
        ]
        if new:
            await session.execute(sa.insert(ALLOWANCE_USE), new)
        if changed:
            u = ALLOWANCE_USE.c
            await session.execute(
                sa.update(ALLOWANCE_USE)
                .where(
                    u.line_id == sa.bindparam("b_line_id"),
                    u.period == sa.bindparam("b_period"),
                    u.kind == sa.bindparam("b_kind"),
                )
                .values(used=sa.bindparam("b_used")),
                changed,
            )

    # ------------------------------------------------------------- reading
    # A line's figures are read on the driver (simfleet_runtime.direct_reads): on SQLite they never queue behind
    # rating's write transaction, which holds the service's only write connection for a whole batch.
    async def line(self, line_id: str) -> Any | None:
        return await self._db.direct.first(_LINE, {"line_id": line_id})

    async def line_by_number(self, customer_id: str, msisdn: str) -> Any | None:
        """The customer's line with this number: the one holding it now, else the last that did."""
        return await self._db.direct.first(_LINE_BY_NUMBER, {"msisdn": msisdn, "customer_id": customer_id})

    async def line_usage(self, line: Any, currency: str) -> LineUsage:
        now = self._clock.now()
        start, end = period_bounds(now)
        period = period_of(now)
        sums = await self._db.direct.all(_TOTALS, {"line_id": line.line_id, "start": start, "end": end})
        by_kind = {row.kind: row for row in sums}
        used = {
            row.kind: row.used for row in await self._db.direct.all(_USED, {"line_id": line.line_id, "period": period})
        }
        last = await self._db.direct.all(_LAST, {"line_id": line.line_id})
        totals = []
        for kind in KINDS:
            row = by_kind.get(kind)
            totals.append(
                KindTotal(
                    kind,
                    int(row.records),
                    int(row.quantity or 0),
                    int(row.units or 0),
                    int(row.included or 0),
                    int(row.charged or 0),
                )
                if row is not None
                else KindTotal(kind, 0, 0, 0, 0, 0)
            )
        tariff = self._catalogue.book().at(line.tariff_code, now)
        allowances = [
            Allowance(kind, UNITS[kind], tariff.allowances.get(kind, 0) if tariff else 0, int(used.get(kind, 0)))
            for kind in KINDS
        ]
        return LineUsage(line, period, start, end, currency, totals, allowances, list(last))

    async def rejected(self, *, page_size: int, page_token: str) -> tuple[list[Any], str]:
        size = paging.page_size(page_size)
        order = paging.parse_order("", allowed=("rated_at",), default="-rated_at")
        after = paging.decode_token(page_token, order, list_name=REJECTED_LIST, size=2)
        u = USAGE.c
        query = paging.keyset(
            cast("sa.Select[Any]", sa.select(USAGE).where(u.outcome == REJECTED)),
            [u.rated_at, u.record_id],
            order=order,
            after=after,
            limit=size,
        )
        async with self._db.sessions() as session:
            rows = (await session.execute(query)).all()
        return paging.next_token(
            rows, order=order, limit=size, key=lambda row: [row.rated_at, row.record_id], list_name=REJECTED_LIST
        )


@dataclass(frozen=True, slots=True)
class _Queries:
    """Rating's statements for one database dialect, each list bound as one parameter (``one_of``)."""

    stored: sa.Select[Any]
    terms: sa.Select[Any]
    accounts: sa.Select[Any]
    allowance_use: sa.Select[Any]


@functools.cache
def _queries(dialect: str) -> _Queries:
    t, a, u = LINE_TERMS.c, ACCOUNTS.c, ALLOWANCE_USE.c
    allowance_use = sa.select(u.line_id, u.period, u.kind, u.used).where(
        one_of(u.line_id, "lines", dialect), one_of(u.period, "periods", dialect)
    )
    if dialect == "postgresql":
        # Two replicas rating records of one line at once: the second waits here and reads what the first
        # consumed (SQLite's transaction holds the write lock from its start). A row neither had yet is
        # inserted by both: the second's insert fails and its batch comes again.
        allowance_use = allowance_use.order_by(u.line_id, u.period, u.kind).with_for_update()
    return _Queries(
        stored=sa.select(USAGE.c.record_id).where(one_of(USAGE.c.record_id, "ids", dialect)),
        terms=sa.select(
            t.msisdn, t.line_id, t.customer_id, t.personal_account_id, t.tariff_code, t.state, t.effective_from
        )
        .where(one_of(t.msisdn, "msisdns", dialect))
        .order_by(t.msisdn, t.effective_from, t.id),
        accounts=sa.select(a.personal_account_id, a.id, a.currency).where(one_of(a.owner_key, "owners", dialect)),
        allowance_use=allowance_use,
    )


_U = USAGE.c
_LINE = sa.select(LINES).where(LINES.c.line_id == sa.bindparam("line_id"))
_LINE_BY_NUMBER = (
    sa.select(LINES)
    .where(LINES.c.msisdn == sa.bindparam("msisdn"), LINES.c.customer_id == sa.bindparam("customer_id"))
    .order_by((LINES.c.state == TERMINATED).asc(), LINES.c.changed_at.desc())
    .limit(1)
)
_TOTALS = (
    sa.select(
        _U.kind,
        sa.func.count().label("records"),
        sa.func.sum(_U.quantity).label("quantity"),
        sa.func.sum(_U.units).label("units"),
        sa.func.sum(_U.included_units).label("included"),
        sa.func.sum(_U.charged).label("charged"),
    )
    .where(
        _U.line_id == sa.bindparam("line_id"),
        _U.started_at >= sa.bindparam("start", type_=USAGE.c.started_at.type),
        _U.started_at < sa.bindparam("end", type_=USAGE.c.started_at.type),
        _U.outcome == RATED,
    )
    .group_by(_U.kind)
)
_USED = sa.select(ALLOWANCE_USE.c.kind, ALLOWANCE_USE.c.used).where(
    ALLOWANCE_USE.c.line_id == sa.bindparam("line_id"), ALLOWANCE_USE.c.period == sa.bindparam("period")
)
_LAST = (
    sa.select(USAGE)
    .where(_U.line_id == sa.bindparam("line_id"))
    .order_by(_U.started_at.desc(), _U.record_id.desc())
    .limit(LAST_RECORDS)
)


async def _let_others_run() -> None:
    """Give the loop to other calls between the steps of a batch.

    On SQLite the statements run inline, so a batch would otherwise hold the
    loop for its whole transaction and a balance read would wait behind it.
    """
    await asyncio.sleep(0)


async def _store(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert the batch's records straight through the driver: COPY on PostgreSQL, one executemany on SQLite.

    SQLAlchemy's insert would run each of the rows' 24 values through its
    parameter processing; only the two times need it, so the rows go to the
    driver as tuples with those converted here (a tenth of a batch's time).
    """
    if not rows:
        return
    connection = await session.connection()
    columns = tuple(rows[0])  # the same columns for every row
    if connection.dialect.name != "postgresql":
        sql, order, convert = _sqlite_insert(connection.dialect, columns)
        values = itemgetter(*order)
        converting = [(i, f) for i, f in enumerate(convert) if f is not None]
        last: dict[int, tuple[Any, Any]] = {}  # a value the rows share (the time they were rated) is converted once
        params = []
        for row in rows:
            one = list(values(row))
            for i, f in converting:
                value = one[i]
                seen = last.get(i)
                if seen is None or seen[0] is not value:
                    seen = last[i] = (value, f(value))
                one[i] = seen[1]
            params.append(tuple(one))
        await connection.exec_driver_sql(sql, params)
        return
    # COPY runs on the driver's connection, inside the transaction SQLAlchemy began on it (the batch's event id is
    # claimed there already), so it commits or rolls back with the rest; a record id stored meanwhile by another
    # replica fails it like the insert would (a unique violation), and the batch comes again.
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        USAGE.name,
        records=list(map(itemgetter(*columns), rows)),
        columns=columns,
        schema_name=USAGE.schema,
    )


@functools.cache
def _sqlite_insert(dialect: Any, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...], tuple[Any, ...]]:
    """The insert's SQL, its parameters' order and each one's conversion to what SQLite stores (None: as it is)."""
    compiled = sa.insert(USAGE).values({name: sa.bindparam(name) for name in columns}).compile(dialect=dialect)
    order = tuple(compiled.positiontup or ())
    types = (USAGE.c[name].type.dialect_impl(dialect) for name in order)
    return str(compiled), order, tuple(kind.bind_processor(dialect) for kind in types)


def _count(counted: dict[tuple[str, str], int]) -> None:
    for (outcome, kind), n in counted.items():
        metrics.USAGE_RECORDS.labels(outcome, kind).inc(n)


def _effective_from(term: Term) -> datetime:
    return term.effective_from


def _term_at(terms: list[Term], when: datetime) -> Term | None:
    index = bisect.bisect_right(terms, when, key=_effective_from) - 1
    return terms[index] if index >= 0 else None


__all__ = ["ZONES", "BatchSummary", "LineUsage", "Rater", "period_bounds", "period_of"]
