"""A real Alembic folder (env.py calling run_env, revisions calling create_bus_tables) applied from code."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy.ext.asyncio import AsyncConnection

from simfleet_runtime.bus import Outbox, OutboxRelay
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.migrations import at_head, upgrade_async, wait_for_head

from .conftest import BUS, MIGRATIONS_DIR, Bus


async def schema(db: Database) -> dict[str, object]:
    def read(sync_conn: sa.Connection) -> dict[str, object]:
        inspector = sa.inspect(sync_conn)
        return {
            "tables": sorted(inspector.get_table_names()),
            "columns": {t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()},
            "indexes": {
                t: sorted(i["name"] or "" for i in inspector.get_indexes(t)) for t in inspector.get_table_names()
            },
            "pk": {t: inspector.get_pk_constraint(t)["constrained_columns"] for t in inspector.get_table_names()},
        }

    async with db.engine.connect() as conn:
        return await AsyncConnection.run_sync(conn, read)


async def version(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()


async def test_the_migrations_create_what_the_metadata_declares(empty_database_url: str, bus: Bus) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade_async(MIGRATIONS_DIR, empty_database_url, "0001")
        assert await version(db) == "0001"
        await upgrade_async(MIGRATIONS_DIR, empty_database_url)
        await upgrade_async(MIGRATIONS_DIR, empty_database_url)  # nothing left to do: no error
        assert await version(db) == "0002"

        found = await schema(db)
        assert found["tables"] == ["alembic_version", "dead_letters", "outbox", "processed_events", "rt_notes"]
        columns = found["columns"]
        assert isinstance(columns, dict)
        for table in (BUS.outbox, BUS.processed_events, BUS.dead_letters):
            assert columns[table.name] == [c.name for c in table.columns]
        assert columns["rt_notes"] == ["id", "text", "created_at", "author"]
        assert found["pk"] == {  # type: ignore[comparison-overlap]
            "alembic_version": ["version_num"],
            "dead_letters": ["id"],
            "outbox": ["id"],
            "processed_events": ["consumer", "event_id"],
            "rt_notes": ["id"],
        }
        indexes = found["indexes"]
        assert isinstance(indexes, dict)
        assert "ix_outbox_unpublished" in indexes["outbox"]
        assert "ix_rt_notes_author" in indexes["rt_notes"]

        # The migrated schema is the one the bus works with.
        clock = Clock()
        outbox = Outbox(BUS, clock)
        async with db.transaction() as session:
            event_id = await outbox.add(session, bus.subject("note.created"), StringValue(value="migrated"))
        relay = OutboxRelay(db=db, tables=BUS, outbox=outbox, js=bus.js, clock=clock)
        assert await relay.publish_pending() == (1, True)
        (msg,) = await bus.messages()
        assert msg.headers["Nats-Msg-Id"] == event_id
        assert "traceparent" in msg.headers  # the relay's own span, for an event written outside a trace
        async with db.sessions() as session:
            row = (await session.execute(sa.select(BUS.outbox))).mappings().one()
        assert row["published_at"] is not None
        assert row["published_at"].tzinfo is not None
        assert row["headers"] == {}  # written outside any span: no trace context to carry
    finally:
        await db.dispose()


async def test_a_process_that_does_not_migrate_waits_until_another_brings_the_schema_to_its_head(
    empty_database_url: str,
) -> None:
    waiting = asyncio.create_task(wait_for_head(MIGRATIONS_DIR, empty_database_url, poll_seconds=0.05))
    await upgrade_async(MIGRATIONS_DIR, empty_database_url, "0001")
    assert not await asyncio.to_thread(at_head, MIGRATIONS_DIR, empty_database_url)
    await asyncio.sleep(0.2)
    assert not waiting.done()  # one revision short of the head
    await upgrade_async(MIGRATIONS_DIR, empty_database_url)
    await asyncio.wait_for(waiting, timeout=30)
    assert await asyncio.to_thread(at_head, MIGRATIONS_DIR, empty_database_url)
