"""The runtime's own metrics: the database pool read at scrape time, checkouts timed, consumers declared."""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from prometheus_client import REGISTRY, generate_latest

from simfleet_runtime import metrics
from simfleet_runtime.db import Database, is_sqlite
from simfleet_runtime.settings import ServiceSettings
from simfleet_runtime.telemetry import start_metrics_server
from simfleet_runtime.testing import free_port


def pool_figures() -> dict[str, float]:
    """What a scrape reads from the pool collector, summed over the process's databases."""
    figures: dict[str, float] = {}
    for family in metrics.DB_POOLS.collect():
        for sample in family.samples:
            key = sample.labels.get("state", sample.name)
            figures[key] = figures.get(key, 0.0) + sample.value
    return figures


def checkouts() -> tuple[float, float]:
    count = REGISTRY.get_sample_value("simfleet_db_pool_checkout_seconds_count") or 0.0
    total = REGISTRY.get_sample_value("simfleet_db_pool_checkout_seconds_sum") or 0.0
    return count, total


async def test_the_pool_is_read_when_scraped(db: Database) -> None:
    size = 1 if is_sqlite(db.url) else 5
    state = db.pool_state()
    assert state is not None
    assert (state.size, state.checked_out, state.overflow) == (size, 0, 0)
    before = pool_figures()
    count_before, _ = checkouts()
    async with db.engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
        during = pool_figures()
        assert during["checked_out"] - before["checked_out"] == 1
        assert db.pool_state() == metrics.PoolState(size=size, checked_out=1, idle=0, overflow=0)
    # the fixture's connection, reused and given back
    assert db.pool_state() == metrics.PoolState(size=size, checked_out=0, idle=1, overflow=0)
    assert pool_figures()["checked_out"] == before["checked_out"]
    assert checkouts()[0] == count_before + 1
    page = generate_latest(REGISTRY).decode()
    assert 'simfleet_db_pool_connections{state="checked_out"}' in page
    assert "simfleet_db_pool_size " in page


async def test_a_disposed_database_leaves_the_metrics(empty_database_url: str) -> None:
    database = Database(empty_database_url, pool_size=3)
    with_it = pool_figures()
    await database.dispose()
    without = pool_figures()
    size = 1 if is_sqlite(empty_database_url) else 3
    assert with_it.get("simfleet_db_pool_size", 0.0) - without.get("simfleet_db_pool_size", 0.0) == size


async def test_waiting_for_a_connection_is_timed(db: Database) -> None:
    """Past the pool's connections a caller waits, and the wait is timed. SQLite has one connection; PostgreSQL
    keeps every connection it opens, up to the pool size, and opens none past it (no overflow connection opened
    for a moment and closed after it: each would be a new server process, its statements prepared again)."""
    held = [await db.engine.connect() for _ in range(1 if is_sqlite(db.url) else 5)]
    for conn in held:
        await conn.execute(sa.text("SELECT 1"))
    if not is_sqlite(db.url):
        assert db.pool_state() == metrics.PoolState(size=5, checked_out=5, idle=0, overflow=0)
    count_before, sum_before = checkouts()

    async def another() -> float:
        started = time.perf_counter()
        async with db.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return time.perf_counter() - started

    waiter = asyncio.create_task(another())
    await asyncio.sleep(0.2)
    assert not waiter.done()
    await held.pop().close()
    waited = await asyncio.wait_for(waiter, 5)
    assert waited >= 0.2
    count_after, sum_after = checkouts()
    assert count_after - count_before == 1
    assert sum_after - sum_before >= 0.2
    for conn in held:
        await conn.close()
    if not is_sqlite(db.url):
        assert db.pool_state() == metrics.PoolState(size=5, checked_out=0, idle=5, overflow=0)  # every one kept


def test_a_declared_consumer_exports_zeros() -> None:
    name = "rt-metrics-declared"
    assert REGISTRY.get_sample_value("simfleet_nats_dead_lettered_total", {"consumer": name}) is None
    metrics.declare_consumer(name)
    assert REGISTRY.get_sample_value("simfleet_nats_dead_lettered_total", {"consumer": name}) == 0.0
    assert REGISTRY.get_sample_value("simfleet_nats_redelivered_total", {"consumer": name}) == 0.0
    for result in metrics.CONSUMER_RESULTS:
        assert REGISTRY.get_sample_value("simfleet_nats_consumed_total", {"consumer": name, "result": result}) == 0.0


def test_counters_export_no_created_series() -> None:
    metrics.NATS_PUBLISHED.labels("rt.metrics.created").inc()
    page = generate_latest(REGISTRY).decode()
    assert 'simfleet_nats_published_total{subject="rt.metrics.created"} 1.0' in page
    # A counter's created series is ``<name>_created``; a family may have "created" inside its name
    # (simfleet_ticketing_tickets_created_total), so the samples' names are what is checked.
    samples = [line.split("{", 1)[0].split(" ", 1)[0] for line in page.splitlines() if not line.startswith("#")]
    assert "simfleet_nats_published_total" in samples
    assert [name for name in samples if name.endswith("_created")] == []


def test_the_metrics_server_listens_on_the_loopback_unless_told_otherwise() -> None:
    settings = ServiceSettings(metrics_port=free_port())
    server = start_metrics_server(settings.metrics_port, settings.metrics_host)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()
