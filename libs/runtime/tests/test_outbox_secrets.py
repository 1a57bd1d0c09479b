"""Secrets at rest in the bus tables: published payloads are emptied, sensitive ones sealed.

On SQLite the raw bytes of the database file and its write-ahead log are read
too: a secret must not be there in any form a reader of the file could see.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy.engine import make_url

from simfleet_runtime.bus import BusTables, DurableConsumer, Outbox, OutboxRelay, PermanentError
from simfleet_runtime.bus import headers as h
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, is_sqlite
from simfleet_runtime.ids import new_id
from simfleet_runtime.sealing import Sealer, SealError
from simfleet_runtime.testing import eventually

from .conftest import Bus

Background = Callable[[Callable[[asyncio.Event], Awaitable[None]]], asyncio.Event]


def secret() -> str:
    """A code no other bytes of the database happen to contain."""
    return f"SECRET-{new_id()}"


async def outbox_rows(db: Database, tables: BusTables) -> dict[str, Any]:
    async with db.sessions() as session:
        result = await session.execute(sa.select(tables.outbox))
        return {r["id"]: r for r in result.mappings().all()}


async def stored_bytes(db: Database, *, checkpoint: bool = False) -> bytes:
    """SQLite: the database file and its WAL as a reader of the disk sees them (empty on PostgreSQL).

    ``checkpoint`` first moves the WAL into the file and empties it: what is left
    is what the file keeps for good.
    """
    if not is_sqlite(db.url):
        return b""
    path = Path(str(make_url(db.url).database))
    if checkpoint:
        with closing(sqlite3.connect(path)) as conn:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0, "the checkpoint could not complete"
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def test_a_published_row_keeps_its_metadata_but_not_its_payload(
    db: Database, bus: Bus, tables: BusTables
) -> None:
    clock = Clock()
    outbox = Outbox(tables, clock)
    text = secret() + ", in a message longer than what replaces it" * 8
    async with db.transaction() as session:
        event_id = await outbox.add(session, bus.subject("note.created"), StringValue(value=text))
    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock)

    assert await relay.publish_pending() == (1, True)

    (msg,) = await bus.messages()
    assert StringValue.FromString(msg.data).value == text
    row = (await outbox_rows(db, tables))[event_id]
    assert row["published_at"] is not None
    assert row["payload"] == b""
    assert row["subject"] == bus.subject("note.created")
    # The WAL may still hold the page as it was; once checkpointed, the emptied bytes are zeros (secure_delete).
    assert text.encode() not in await stored_bytes(db, checkpoint=True)


async def test_sqlite_zeroes_what_is_deleted(db: Database) -> None:
    """Set on every connection, whatever the SQLite build's default (some builds leave deleted bytes in place)."""
    if not is_sqlite(db.url):
        pytest.skip("SQLite's setting")
    async with db.sessions() as session:
        assert await session.scalar(sa.text("PRAGMA secure_delete")) == 1


async def test_a_sensitive_message_is_sealed_at_rest_and_published_readable(
    db: Database, bus: Bus, tables: BusTables
) -> None:
    clock = Clock()
    outbox = Outbox(tables, clock, sealer=Sealer(os.urandom(32)))
    code = secret()
    async with db.transaction() as session:
        event_id = await outbox.add(session, bus.subject("sms.submit"), StringValue(value=code), sensitive=True)
        plain_id = await outbox.add(session, bus.subject("note.created"), StringValue(value="not a secret"))

    rows = await outbox_rows(db, tables)
    sealed = rows[event_id]
    assert code.encode() not in sealed["payload"]
    assert sealed["headers"][h.SENSITIVE] == "1"
    assert StringValue.FromString(outbox.payload(sealed)).value == code
    assert StringValue.FromString(outbox.payload(rows[plain_id])).value == "not a secret"
    with pytest.raises(SealError):  # bound to its event: a copy under another id does not open
        outbox.payload({**sealed, "id": plain_id})
    assert code.encode() not in await stored_bytes(db)

    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock)
    assert await relay.publish_pending() == (2, True)

    sms, note = await bus.messages()
    assert StringValue.FromString(sms.data).value == code
    assert sms.headers[h.SENSITIVE] == "1"
    assert sms.headers[h.MSG_ID] == event_id
    assert h.SENSITIVE not in (note.headers or {})
    assert all(r["payload"] == b"" for r in (await outbox_rows(db, tables)).values())
    assert code.encode() not in await stored_bytes(db)


async def test_an_outbox_without_a_sealer_takes_no_sensitive_message(db: Database, tables: BusTables) -> None:
    outbox = Outbox(tables, Clock())
    with pytest.raises(RuntimeError, match="no sealer"):
        async with db.transaction() as session:
            await outbox.add(session, "rt.sms.submit", StringValue(value=secret()), sensitive=True)
    assert await outbox_rows(db, tables) == {}


async def test_a_sealed_row_that_does_not_open_stays_and_says_why(db: Database, bus: Bus, tables: BusTables) -> None:
    clock = Clock()
    writer = Outbox(tables, clock, sealer=Sealer(os.urandom(32)))
    async with db.transaction() as session:
        stuck = await writer.add(session, bus.subject("sms.submit"), StringValue(value=secret()), sensitive=True)
    # A relay started with another key (the setting was changed under a backlog).
    relay = OutboxRelay(
        db=db, tables=tables, outbox=Outbox(tables, clock, sealer=Sealer(os.urandom(32))), js=bus.js, clock=clock
    )

    assert await relay.publish_pending() == (0, False)

    row = (await outbox_rows(db, tables))[stuck]
    assert row["published_at"] is None
    assert "sealing key" in row["last_error"]
    assert await bus.messages() == []


async def test_a_sensitive_message_is_dead_lettered_sealed(
    db: Database, bus: Bus, tables: BusTables, background: Background
) -> None:
    sealer = Sealer(os.urandom(32))
    code = secret()

    async def refuse(_session: Any, _event: Any) -> None:
        raise PermanentError("the relay refused the message")

    consumer = DurableConsumer(
        name=f"rt-{new_id().lower()}",
        stream=bus.stream,
        subject=bus.subject(">"),
        handler=refuse,
        db=db,
        tables=tables,
        js=bus.js,
        clock=Clock(),
        backoff=[0.05],
        sealer=sealer,
    )
    event_id = new_id()
    await bus.js.publish(
        bus.subject("email.requested"),
        StringValue(value=code).SerializeToString(),
        headers={h.MSG_ID: event_id, h.SENSITIVE: "1"},
    )
    background(consumer.run)

    async def letter() -> Any:
        async with db.sessions() as session:
            return (await session.execute(sa.select(tables.dead_letters))).mappings().one_or_none()

    dead = await eventually(letter, what="a dead letter")
    assert code.encode() not in dead["payload"]
    assert StringValue.FromString(sealer.open(dead["payload"], event_id.encode())).value == code
    assert dead["headers"][h.SENSITIVE] == "1"
    assert code.encode() not in await stored_bytes(db)


async def test_a_message_sealed_on_the_bus_is_opened_only_by_a_consumer_with_the_key(
    db: Database, bus: Bus, tables: BusTables, background: Background
) -> None:
    clock = Clock()
    sealer = Sealer(os.urandom(32))
    outbox = Outbox(tables, clock, sealer=sealer)
    code = secret()
    async with db.transaction() as session:
        event_id = await outbox.add(
            session, bus.subject("email.requested"), StringValue(value=code), sealed_on_bus=True
        )
    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock)
    assert await relay.publish_pending() == (1, True)

    (msg,) = await bus.messages()
    assert code.encode() not in msg.data  # the stream never holds it readable
    assert (msg.headers[h.SENSITIVE], msg.headers[h.SEALED]) == ("1", "1")

    seen: list[str] = []

    async def read(_session: Any, event: Any) -> None:
        seen.append(StringValue.FromString(event.data).value)

    def consumer(with_sealer: Sealer) -> DurableConsumer:
        return DurableConsumer(
            name=f"rt-{new_id().lower()}",
            stream=bus.stream,
            subject=bus.subject(">"),
            handler=read,
            db=db,
            tables=tables,
            js=bus.js,
            clock=Clock(),
            sealer=with_sealer,
        )

    async def opened() -> list[str]:
        return seen

    background(consumer(sealer).run)
    await eventually(opened, what="the opened message")
    assert seen == [code]

    background(consumer(Sealer(os.urandom(32))).run)  # another service's key: dead-lettered at once, as it came

    async def letter() -> Any:
        async with db.sessions() as session:
            return (await session.execute(sa.select(tables.dead_letters))).mappings().one_or_none()

    dead = await eventually(letter, what="a dead letter")
    assert dead["deliveries"] == 1
    assert "does not open" in dead["error"]
    assert StringValue.FromString(sealer.open(dead["payload"], event_id.encode())).value == code
    assert seen == [code]
