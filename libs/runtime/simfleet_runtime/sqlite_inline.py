"""SQLite for SQLAlchemy's asyncio engine, run on the event loop's own thread.

aiosqlite runs every statement in a worker thread: each statement is a round
trip between two threads, and while a transaction waits for the loop to take
each answer, it holds the service's only connection (SQLite has one writer, so
the pool has one connection). Under load most of a transaction's time was
those hops, and every other call queued behind them.

Here the statements run inline: an indexed statement on a local file takes
tens of microseconds, less than one hop. The objects below give SQLAlchemy's
aiosqlite dialect the few coroutine methods it calls, finishing at once;
passed as the engine's ``async_creator``, they replace the driver without
changing the dialect. A long statement (a bulk insert) blocks the loop while
it runs.

Waiting for the write lock must not block the loop: another connection in
this process (a test's second engine on the file) may hold it and need the
loop to finish. So SQLite's own busy handler is off (``busy_timeout`` 0, set
by :mod:`simfleet_runtime.db`) and a statement refused as busy is tried again
after an asynchronous pause, for up to ``BUSY_TIMEOUT`` seconds; a statement
refused as busy had no effect, so trying it again is safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.engine import make_url

BUSY_TIMEOUT = 5.0
"""Seconds a statement keeps trying while another connection holds the lock."""
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(error) or "busy" in str(error)


async def patiently(call: Callable[[], Any]) -> Any:
    """``call()``, tried again after short asynchronous pauses while the database is busy."""
    try:
        return call()
    except sqlite3.OperationalError as error:
        if not _busy(error):
            raise
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.001
    while True:
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _busy(error) or time.monotonic() >= deadline:
                raise


class _Cursor:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        await patiently(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> _Cursor:
        rows = list(parameters)
        await patiently(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *_sizes: Any) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()


class _RunAtOnce:
    """Stands in for aiosqlite's queue of work for its thread (the dialect's isolation-level setter uses it)."""

    __slots__ = ()

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # noqa: BLE001 - handed to the awaiting caller
            future.set_exception(error)


class InlineConnection:
    """The part of ``aiosqlite.Connection`` that SQLAlchemy's aiosqlite dialect uses."""

    __slots__ = ("_conn",)
    _tx = _RunAtOnce()

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    @property
    def _connection(self) -> sqlite3.Connection:
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Cursor:
        return await self.cursor().execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        await patiently(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()


def creator(url: str) -> Callable[[], Any]:
    """The engine's ``async_creator`` for the SQLite database ``url`` names."""
    database = make_url(url).database or ":memory:"

    async def connect() -> InlineConnection:
        # The pool may close a connection from another thread (garbage collection).
        return InlineConnection(sqlite3.connect(database, check_same_thread=False))

    return connect
