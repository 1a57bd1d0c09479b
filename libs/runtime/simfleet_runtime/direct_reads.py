"""The hottest reads, run on the database driver itself: every authenticated call, a page of lines.

Through SQLAlchemy a one-row read costs a pool checkout, a transaction begun
and rolled back, the ORM's compile cache lookup and its result machinery:
about 0.6 ms of CPU on a small VM, where the driver's own statement takes
8 µs on SQLite. A service that reads the same few rows on every call (the
caller's session, a page of lines) spent most of its CPU there.

A :class:`DirectRead` is a SQLAlchemy ``Select`` compiled once for the
database's dialect; :meth:`DirectReads.all` runs it with its parameters and
returns plain named tuples, each value passed through the column type's own
result processor (timestamps as aware datetimes, JSON decoded), exactly what
the engine would have given. Writes, and reads inside a transaction, stay on
the engine.

* SQLite: one extra connection of the process, read-only (``query_only``),
  in autocommit, statements run inline on the loop's thread like
  :mod:`simfleet_runtime.sqlite_inline`. With WAL a reader never waits for the
  writer and sees what was last committed, so reads no longer queue behind the
  service's single write connection.
* PostgreSQL: a small asyncpg pool of its own (``pool_size`` connections,
  released without asyncpg's reset query: a read leaves nothing to reset), with
  the same JSON codec as the engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Select
from sqlalchemy.engine import Dialect, make_url

from simfleet_runtime import sqlite_inline

if TYPE_CHECKING:
    from simfleet_runtime.db import Database

_Processor = Callable[[Any], Any] | None
AnySelect = Select[*tuple[Any, ...]]
MAX_STATEMENTS = 256
"""Compiled statements kept per database (a service has a handful)."""
"""A ``Select`` of any columns."""


class DirectRead:
    """A ``Select`` compiled for one dialect: its SQL, its parameters' order and conversions, its columns'."""

    __slots__ = ("_binds", "_fixed", "_names", "_query", "_results", "_row", "sql")

    def __init__(self, query: AnySelect, dialect: Dialect) -> None:
        compiled = query.compile(dialect=dialect)
        if compiled.post_compile_params:
            raise ValueError("a direct read takes no expanding parameters (IN with a list): use the engine")
        self._query = query
        self.sql = compiled.string
        params = compiled.binds
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # Values written in the query itself (``status == "active"``) are bound like the others.
        self._fixed = {name: params[name].effective_value for name in self._names if not params[name].required}
        self._binds: tuple[_Processor, ...] = tuple(
            params[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self._names
        )
        columns = list(query.selected_columns)
        self._results: tuple[_Processor, ...] = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )
        self._row = namedtuple("Row", [c.key for c in columns], rename=True)  # type: ignore[misc]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process in zip(self._names, self._binds, strict=True):
            value = values[name] if name in values else self._fixed[name]
            out.append(process(value) if process is not None else value)
        return out

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        results = self._results
        if not any(results):
            return [self._row(*r) for r in raw]
        return [self._row(*(p(v) if p is not None else v for p, v in zip(results, r, strict=True))) for r in raw]


class DirectReads:
    """Runs :class:`DirectRead` statements for one :class:`~simfleet_runtime.db.Database`; built with it."""

    def __init__(self, db: Database, *, pool_size: int = 4) -> None:
        self._db = db
        self._pool_size = pool_size
        self._compiled: dict[int, DirectRead] = {}
        url = make_url(db.url)
        self._backend = url.get_backend_name()
        database = url.database or ""
        self._sqlite_file = database
        self._sqlite: sqlite3.Connection | None = None
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()

    def _statement(self, query: AnySelect) -> DirectRead:
        found = self._compiled.get(id(query))
        if found is None or found._query is not query:
            if len(self._compiled) >= MAX_STATEMENTS:
                # Statements are meant to be built once, at import; one built per call would grow this forever.
                self._compiled.clear()
            found = self._compiled[id(query)] = DirectRead(query, self._db.engine.dialect)
        return found

    async def all(self, query: AnySelect, values: Mapping[str, Any] | None = None) -> list[Any]:
        """The rows of ``query`` (built once, at import, with ``bindparam`` for what varies) for ``values``."""
        if self._backend == "postgresql":
            return await self._postgres(query, values or {})
        return await self._sqlite_rows(query, values or {})

    async def first(self, query: AnySelect, values: Mapping[str, Any] | None = None) -> Any | None:
        rows = await self.all(query, values)
        return rows[0] if rows else None

    async def _sqlite_rows(self, query: AnySelect, values: Mapping[str, Any]) -> list[Any]:
        statement = self._statement(query)
        connection = self._sqlite
        if connection is None:
            # timeout 0: a busy database is waited for without blocking the loop (patiently).
            connection = sqlite3.connect(self._sqlite_file, check_same_thread=False, isolation_level=None, timeout=0)
            connection.execute("PRAGMA query_only=ON")
            self._sqlite = connection
        parameters = statement.parameters(values)
        raw = await sqlite_inline.patiently(lambda: connection.execute(statement.sql, parameters).fetchall())
        return statement.rows(raw)

    async def _postgres(self, query: AnySelect, values: Mapping[str, Any]) -> list[Any]:
        statement = self._statement(query)
        pool = self._pool or await self._open_pool()
        raw = await pool.fetch(statement.sql, *statement.parameters(values))
        return statement.rows(raw)

    async def _open_pool(self) -> Any:
        async with self._pool_lock:
            if self._pool is None:
                import asyncpg

                url = make_url(self._db.url).set(drivername="postgresql")
                self._pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=self._pool_size,
                    init=_json_codecs,
                    reset=_nothing_to_reset,
                )
        return self._pool

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


async def _json_codecs(connection: Any) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads, schema="pg_catalog"
        )


async def _nothing_to_reset(_connection: Any) -> None:
    """A read leaves no state on its connection (no transaction, no LISTEN, no session settings)."""
