"""A PostgreSQL connection that died while idle in the pool is replaced, not handed to a caller.

The pool pings only connections idle for ``idle_ping_seconds`` (a ping on every
checkout cost three round trips per request); a busy connection is not pinged.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from simfleet_runtime.db import Database
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import create_postgres_database, drop_postgres_database, postgres_base_url

pytestmark = pytest.mark.skipif(postgres_base_url() is None, reason="needs SIMFLEET_TEST_POSTGRES_URL (CI sets it)")


@pytest.fixture
async def url() -> AsyncIterator[str]:
    name = f"runtime_pool_{new_id().lower()}"
    yield await create_postgres_database(name)
    await drop_postgres_database(name)


async def backend_pid(db: Database) -> int:
    async with db.sessions() as session:
        pid: int = await session.scalar(sa.text("SELECT pg_backend_pid()"))
    return pid


async def kill(url: str, pid: int) -> None:
    parsed = make_url(url).set(drivername="postgresql")
    connection = await asyncpg.connect(parsed.render_as_string(hide_password=False))
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


async def test_a_connection_killed_while_idle_is_replaced(url: str) -> None:
    db = Database(url, pool_size=1, idle_ping_seconds=0)
    try:
        first = await backend_pid(db)
        await kill(url, first)
        assert await backend_pid(db) != first  # pinged, found dead, replaced: the caller saw nothing
    finally:
        await db.dispose()


async def test_without_the_idle_ping_the_caller_would_get_the_dead_connection(url: str) -> None:
    db = Database(url, pool_size=1, idle_ping_seconds=math.inf)
    try:
        await kill(url, await backend_pid(db))
        with pytest.raises(DBAPIError):
            await backend_pid(db)
    finally:
        await db.dispose()
