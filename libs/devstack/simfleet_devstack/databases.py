"""Each service's database: a SQLite file in the data folder, or a database on a PostgreSQL server."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def sqlite_url(data_dir: Path, service: str) -> str:
    return f"sqlite+aiosqlite:///{data_dir / (service + '.db')}"


def postgres_url(server_url: str, database: str) -> str:
    """The asyncpg URL of ``database`` on the server that ``server_url`` points to."""
    url: URL = make_url(server_url).set(drivername="postgresql+asyncpg", database=database)
    return url.render_as_string(hide_password=False)


async def _connect(server_url: str, database: str | None = None) -> Any:
    """An asyncpg connection to ``database`` (else the one ``server_url`` names) on that server."""
    import asyncpg

    url = make_url(server_url)
    return await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=database or url.database or "postgres",
    )


async def _ensure_databases(server_url: str, names: list[str], reset: bool) -> None:
    conn = await _connect(server_url)
    try:
        for name in names:
            if not _SAFE_NAME.match(name):
                raise ValueError(f"not a plain database name: {name!r}")
            if reset:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def ensure_postgres_databases(server_url: str, names: list[str], *, reset: bool = False) -> None:
    """Create the databases that are missing (``reset``: drop and re-create them all).

    Runs its own event loop in a worker thread, so it may be called from
    synchronous code and from inside a running event loop alike.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _ensure_databases(server_url, names, reset)).result()


async def _analyze(server_url: str, names: list[str]) -> None:
    for name in names:
        if not _SAFE_NAME.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        conn = await _connect(server_url, name)
        try:
            await conn.execute("ANALYZE")
        finally:
            await conn.close()


def analyze_postgres_databases(server_url: str, names: list[str]) -> None:
    """Gather the planner's statistics in each of ``names`` now (``ANALYZE``).

    A freshly seeded database has none until autovacuum's next pass (up to a minute later), and without them
    PostgreSQL plans for empty tables: a page of the demo customer's lines took 11 ms instead of 0.2 ms. A
    bench that starts right after seeding analyses first, as any database in service has been.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _analyze(server_url, names)).result()
