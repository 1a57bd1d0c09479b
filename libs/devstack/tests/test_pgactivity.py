"""The PostgreSQL activity sampler of the sign-in bench: what a busy connection waited for, and the report."""

from __future__ import annotations

import asyncio
import math
import time

import asyncpg
import pytest

from simfleet_devstack.pgactivity import (
    LOCKS,
    OTHER,
    SERVICE,
    WAL,
    WORKING,
    Activity,
    ActivitySampler,
    DatabaseActivity,
    classify,
)
from simfleet_devstack.report import pg_activity_section
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import create_postgres_database, drop_postgres_database, postgres_base_url


@pytest.mark.parametrize(
    ("state", "wait_type", "wait_event", "expected"),
    [
        ("idle in transaction", "Client", "ClientRead", SERVICE),
        ("idle in transaction (aborted)", "Client", "ClientRead", SERVICE),
        ("active", "Client", "ClientRead", SERVICE),
        ("active", None, None, WORKING),
        ("active", "Lock", "transactionid", LOCKS),
        ("active", "IO", "WALSync", WAL),
        ("active", "LWLock", "WALWrite", WAL),
        ("active", "LWLock", "BufferContent", OTHER),
        ("fastpath function call", None, None, OTHER),
    ],
)
def test_a_busy_connection_is_counted_under_what_it_waited_for(
    state: str, wait_type: str | None, wait_event: str | None, expected: str
) -> None:
    assert classify(state, wait_type, wait_event) == expected


def test_the_section_gives_each_database_its_rate_mean_transaction_and_shares() -> None:
    activity = Activity(samples=100, seconds=2.0)
    identity = activity.database("identity")
    identity.busy.update({SERVICE: 150, WORKING: 30, WAL: 20})
    identity.commits = 200
    activity.database("billing")  # seen, never busy, nothing committed: left out
    lines = "\n".join(pg_activity_section(activity))
    # 2 busy connections on average, 100 commits/s: a transaction was open 20 ms on average.
    assert "| identity | 100 | 2.00 | 20.0 | 75% | 15% | 0% | 10% | 0% |" in lines
    assert "| billing |" not in lines
    assert "spent 75% of their busy time waiting for identity" in lines
    identity.busy[WORKING] = 400
    assert "the database's own work is a large part" in "\n".join(pg_activity_section(activity))
    assert pg_activity_section(None) == [] and pg_activity_section(Activity()) == []
    assert math.isnan(DatabaseActivity().transaction_seconds(10, 1.0))  # nothing committed: no mean


@pytest.mark.skipif(postgres_base_url() is None, reason="needs SIMFLEET_TEST_POSTGRES_URL")
async def test_the_sampler_sees_a_transaction_waiting_for_its_client_and_the_commits() -> None:
    prefix = f"simfleet_pga_{new_id().lower()[:10]}"
    url = await create_postgres_database(f"{prefix}_identity")
    other = await create_postgres_database(f"{prefix}x_identity")  # another prefix's database is not counted
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain)
    stranger = await asyncpg.connect(other.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        sampler = await asyncio.to_thread(ActivitySampler(url, prefix, interval=0.01).start)
        for _ in range(3):
            await conn.execute("SELECT 1")  # three commits (each statement its own transaction)
        async with conn.transaction(), stranger.transaction():
            await conn.execute("SELECT 1")
            await stranger.execute("SELECT 1")
            deadline = time.monotonic() + 10
            while sampler.activity.database("identity").busy[SERVICE] < 5 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        # A backend reports its commits to pg_stat_database within a second or so of going idle.
        deadline = time.monotonic() + 15
        while (
            time.monotonic() < deadline
            and (
                await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", f"{prefix}_identity")
            )
            < 4
        ):
            await asyncio.sleep(0.1)
        activity = await asyncio.to_thread(sampler.stop)
    finally:
        await conn.close()
        await stranger.close()
        await drop_postgres_database(f"{prefix}_identity")
        await drop_postgres_database(f"{prefix}x_identity")
    assert set(activity.databases) == {"identity"}
    found = activity.databases["identity"]
    assert found.busy[SERVICE] >= 5
    assert found.commits >= 4
    assert activity.samples >= 5 and activity.seconds > 0


@pytest.mark.skipif(postgres_base_url() is None, reason="needs SIMFLEET_TEST_POSTGRES_URL")
async def test_a_seeded_database_is_analysed_so_its_statistics_are_there_at_once() -> None:
    from simfleet_devstack.databases import analyze_postgres_databases

    name = f"simfleet_an_{new_id().lower()[:10]}"
    url = await create_postgres_database(name)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("CREATE TABLE seeded (id int)")
        await conn.execute("INSERT INTO seeded SELECT generate_series(1, 1000)")
        base = postgres_base_url()
        assert base is not None
        await asyncio.to_thread(analyze_postgres_databases, base, [name])
        rows = await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'seeded'")
    finally:
        await conn.close()
        await drop_postgres_database(name)
    assert rows == 1000  # -1 (never analysed) until ANALYZE counts it: pg_class is written in ANALYZE's transaction
