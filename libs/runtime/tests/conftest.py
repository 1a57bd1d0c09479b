"""Fixtures for the runtime's tests: a private NATS, fresh databases, tracing, a bus.

Every database test runs on SQLite, and on PostgreSQL too when
``SIMFLEET_TEST_POSTGRES_URL`` is set (databases named ``rt_...``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from nats.aio.client import Client
from nats.js.client import JetStreamContext
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simfleet_runtime.bus import BusTables, StreamSpec, bus_tables, connect_nats, ensure_streams
from simfleet_runtime.db import Database, UtcDateTime
from simfleet_runtime.ids import new_id
from simfleet_runtime.nodepaths import node_paths_table
from simfleet_runtime.testing import NatsServer, database_backends, database_url, drop_postgres_database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# The metadata of a tiny service: one table of its own plus the bus tables.
METADATA = sa.MetaData()
NOTES = sa.Table(
    "rt_notes",
    METADATA,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("text", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
BUS = bus_tables(METADATA)
NODE_PATHS = node_paths_table(METADATA)


# ----------------------------------------------------------------- helpers
@dataclass
class Bus:
    """A NATS connection and a stream of this test's own."""

    nc: Client
    js: JetStreamContext
    stream: str
    subject_prefix: str

    def subject(self, name: str) -> str:
        return f"{self.subject_prefix}.{name}"

    async def messages(self) -> list[Any]:
        """Every message in the stream, in order (subject, data, headers)."""
        info = await self.js.stream_info(self.stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            out.append(await self.js.get_msg(self.stream, seq))
        return out


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="session", autouse=True)
def span_exporter() -> InMemorySpanExporter:
    """Spans of this process, in memory. Joins the SDK provider if another suite installed one."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    span_exporter.clear()
    return span_exporter


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    with NatsServer() as server:
        yield server


@pytest.fixture
async def nats_client(nats_server: NatsServer) -> AsyncIterator[Client]:
    nc = await connect_nats(nats_server.url, name="rt-tests")
    yield nc
    await nc.close()


def _unique(prefix: str) -> str:
    return f"{prefix}{new_id().lower()}"


@pytest.fixture
async def make_bus(nats_client: Client) -> Callable[..., Awaitable[Bus]]:
    """Declare a stream of the test's own (unique name and subjects) through ensure_streams."""

    async def make(**spec: Any) -> Bus:
        token = _unique("rt")
        js = nats_client.jetstream(timeout=5)
        stream = token.upper()
        await ensure_streams(js, [StreamSpec(name=stream, subjects=[f"{token}.>"], **spec)])
        return Bus(nc=nats_client, js=js, stream=stream, subject_prefix=token)

    return make


@pytest.fixture
async def bus(make_bus: Callable[..., Awaitable[Bus]]) -> Bus:
    return await make_bus()


@pytest.fixture(params=database_backends())
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend, dropped afterwards."""
    backend: str = request.param
    name = "rt_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]  # noqa: S324 - a name, not a secret
    url = await database_url(backend, name, tmp_path)
    yield url
    if backend == "postgresql":
        await drop_postgres_database(name)


@pytest.fixture
async def db(empty_database_url: str) -> AsyncIterator[Database]:
    """A database with the test metadata created by ``metadata.create_all``."""
    database = Database(empty_database_url, pool_size=5)
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def tables() -> BusTables:
    return BUS


@pytest.fixture
def notes() -> sa.Table:
    return NOTES


@pytest.fixture
async def background() -> AsyncIterator[Callable[[Callable[[asyncio.Event], Awaitable[None]]], asyncio.Event]]:
    """Run loops such as ``relay.run(stop)`` for the length of a test; they must stop when told to."""
    started: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def start(loop_fn: Callable[[asyncio.Event], Awaitable[None]]) -> asyncio.Event:
        stop = asyncio.Event()
        started.append((stop, asyncio.get_running_loop().create_task(loop_fn(stop))))  # type: ignore[arg-type]
        return stop

    yield start
    for stop, _ in started:
        stop.set()
    if not started:
        return
    _, pending = await asyncio.wait([t for _, t in started], timeout=5)
    for task in pending:
        task.cancel()
    assert not pending, "a background loop did not stop within 5s of its stop event"
    for _, task in started:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
