"""The async database of a service: engine, sessions, health, URL helpers.

SQLite (aiosqlite) is the embedded default, one file per service; PostgreSQL
(asyncpg) in a cluster. Both run the same code and the same tests.

The pool is observable (:mod:`simfleet_runtime.metrics`): its connections by
state are read when Prometheus scrapes, and each checkout is timed
(``simfleet_db_pool_checkout_seconds``); nothing is done per statement.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import DateTime, String, Table, TypeDecorator, event, exc, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection, QueuePool
from sqlalchemy.sql.dml import Insert

from simfleet_runtime import metrics, sqlite_inline
from simfleet_runtime.clock import as_utc
from simfleet_runtime.direct_reads import DirectReads

NAMING: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""How every service's metadata names its constraints and indexes (``MetaData(naming_convention=NAMING)``).

Migrations name them the same way, so a test can hold each service's models to
its migrations, and a later migration can drop a constraint by its name.
"""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class _JsonTextList(TypeDecorator[list[str]]):
    """A list of strings bound as one JSON text (SQLite's ``json_each`` reads it back as rows)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str:
        return orjson.dumps(list(value)).decode()


def one_of(column: sa.ColumnElement[Any], name: str, dialect: str) -> sa.ColumnElement[bool]:
    """``column IN (...)`` with every value bound as ONE parameter ``name``: execute with ``{name: [str, ...]}``.

    An expanding ``in_()`` renders a placeholder per value and binds each of
    them again on every execution: with a thousand values that costs more than
    the query (a sixth of a rating batch on PostgreSQL). Here the statement is
    compiled once and the list is one value: ``= ANY($1::VARCHAR[])`` on
    PostgreSQL, ``IN (SELECT value FROM json_each(?))`` on SQLite; both probe
    the column's index. For string columns; an empty list matches nothing.
    """
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=ARRAY(String())))
    values = sa.func.json_each(sa.bindparam(name, type_=_JsonTextList())).table_valued("value")
    return column.in_(sa.select(values.c.value))


def insert_ignoring_conflicts(session: AsyncSession, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's backend; execute it with the row's values.

    One statement both claims a key and tells (``rowcount == 0``) that it was
    taken already: cheaper than a look-up followed by an insert, and safe under
    concurrency on both backends. The statement is built once per table and
    backend, and the values go as parameters: building a statement per row costs
    a third of the insert.
    """
    bind = session.bind
    assert bind is not None, "the session is not bound to an engine"
    return _insert_ignoring_conflicts(table, bind.dialect.name)


@functools.cache
def _insert_ignoring_conflicts(table: Table, dialect: str) -> Insert:
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


_AFTER_COMMIT = "simfleet.after_commit"


def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        callback()


def _forget_after_commit(session: Session, *_args: Any) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction commits (never if it rolls back).

    One process-wide listener serves every session: registering an SQLAlchemy
    listener per transaction costs more than the transaction's own statements.
    """
    if not event.contains(Session, "after_commit", _run_after_commit):
        event.listen(Session, "after_commit", _run_after_commit)
        event.listen(Session, "after_rollback", _forget_after_commit)
    callbacks: list[Callable[[], None]] = session.sync_session.info.setdefault(_AFTER_COMMIT, [])
    if callback not in callbacks:
        callbacks.append(callback)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, begin transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Waiting for another writer is done without blocking the loop (sqlite_inline's retries).
    cursor.execute("PRAGMA busy_timeout=0")
    # Deleted and overwritten rows (published outbox payloads...) are zeroed, not left in free space.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A transaction that reads and then writes must hold the write lock from the
    # start: otherwise SQLite refuses the upgrade at once ("database is locked")
    # when another writer committed in between. Writers queue (sqlite_inline's retries).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


IDLE_PING_SECONDS = 10.0
"""A server connection idle this long is pinged when checked out (it may have died meanwhile)."""
_CHECKED_IN_AT = "simfleet_checked_in_at"


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_if_idle(idle_seconds: float, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat idle; a dead one is replaced (the pool retries the checkout)."""
    checked_in_at = record.info.get(_CHECKED_IN_AT)
    if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception as error:
        raise exc.DisconnectionError(f"an idle connection did not answer: {type(error).__name__}") from error


class TimedQueuePool(AsyncAdaptedQueuePool):
    """The async queue pool, timing each checkout (one histogram observation)."""

    def connect(self) -> PoolProxiedConnection:
        started = time.perf_counter()
        try:
            return super().connect()
        finally:
            metrics.DB_POOL_CHECKOUT_SECONDS.observe(time.perf_counter() - started)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _pool_class(url: str) -> type[AsyncAdaptedQueuePool] | None:
    """The timed pool when the driver's default is the async queue pool (it is for file and server databases)."""
    parsed = make_url(url)
    dialect = parsed.get_dialect()
    if not issubclass(dialect, DefaultDialect):
        return None
    return TimedQueuePool if issubclass(dialect.get_pool_class(parsed), AsyncAdaptedQueuePool) else None


class Database:
    """Owns the engine and hands out sessions; built in the composition root."""

    def __init__(
        self, url: str, *, pool_size: int = 10, echo: bool = False, idle_ping_seconds: float = IDLE_PING_SECONDS
    ) -> None:
        self.url = url
        # JSON columns (a line's blocks, APNs, forwarding...) are read and written per row on the hot
        # paths of bulk operations: orjson does it several times faster than the standard library.
        # hide_parameters: an error's message (and so any log line or trace carrying it) shows the SQL but
        # never the values bound to it, which may be a caller's data or a secret.
        kwargs: dict[str, Any] = {
            "echo": echo,
            "hide_parameters": True,
            "json_serializer": _json_dumps,
            "json_deserializer": orjson.loads,
        }
        if is_sqlite(url):
            # One writer at a time is all SQLite allows: a single connection
            # makes callers queue in the event loop (the pool's checkout)
            # instead of sleeping in SQLite's busy handler.
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
            # Statements run on the loop's thread, not aiosqlite's (see sqlite_inline).
            kwargs["async_creator"] = sqlite_inline.creator(url)
        else:
            # A server connection can die under us (failover, idle timeout): one
            # that sat idle is pinged before use (_ping_if_idle), one in steady
            # use is not (a ping is three round trips on every checkout).
            # No overflow: every connection opened stays in the pool. An overflow
            # connection is closed when it comes back to a full pool, so a load
            # that needs a few more than the pool keeps opening new ones, each a
            # new server process whose statements are all prepared again: at 50
            # sign-ins/s identity opened 141 connections in 40 s with a pool of
            # 10 (+10 overflow), and its p99 was three times what a pool of 24
            # gives (docs/BENCHMARKS.md). Past the pool, callers wait their turn.
            kwargs.update(pool_size=pool_size, max_overflow=0)
        pool_class = _pool_class(url)
        if pool_class is not None:
            kwargs["poolclass"] = pool_class
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if is_sqlite(url):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        else:
            event.listen(self.engine.sync_engine.pool, "checkout", functools.partial(_ping_if_idle, idle_ping_seconds))
            event.listen(self.engine.sync_engine.pool, "checkin", _note_checkin)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The hottest reads, on the driver itself (see direct_reads).
        self.direct = DirectReads(self, pool_size=min(pool_size, 4))
        # The metrics thread reads the pool when scraped. Reading it once here
        # first makes the async queue pool create its queue in this thread: it
        # creates it on first use, and two threads creating it at once would
        # lose one (and a connection returned to it).
        self.pool_state()
        metrics.DB_POOLS.watch(self)

    def pool_state(self) -> metrics.PoolState | None:
        """The pool's connections now (None for a pool that does not queue connections)."""
        pool = self.engine.sync_engine.pool
        if not isinstance(pool, QueuePool):
            return None
        return metrics.PoolState(
            size=pool.size(),
            checked_out=max(pool.checkedout(), 0),
            idle=pool.checkedin(),
            overflow=max(pool.overflow(), 0),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False
        return True

    async def dispose(self) -> None:
        """Close the pool's connections; the database leaves the pool metrics (the process is stopping)."""
        metrics.DB_POOLS.forget(self)
        await self.direct.close()
        await self.engine.dispose()
