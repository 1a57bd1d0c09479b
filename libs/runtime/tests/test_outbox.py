"""The transactional outbox and its relay, against real NATS and real databases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from google.protobuf.wrappers_pb2 import StringValue
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simfleet_runtime.bus import BusTables, Outbox, OutboxRelay, StreamSpec, connect_nats, ensure_streams
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import NatsServer, eventually

from .conftest import Bus

tracer = trace.get_tracer("rt.tests")
Background = Callable[[Callable[[asyncio.Event], Awaitable[None]]], asyncio.Event]


def trace_id_of(traceparent: str) -> str:
    return traceparent.split("-")[1]


async def outbox_rows(db: Database, tables: BusTables) -> list[Any]:
    async with db.sessions() as session:
        result = await session.execute(sa.select(tables.outbox).order_by(tables.outbox.c.created_at))
        return list(result.mappings().all())


async def test_committed_events_are_published_in_order_and_rolled_back_ones_never(
    db: Database, bus: Bus, tables: BusTables, background: Background
) -> None:
    clock = Clock()
    outbox = Outbox(tables, clock)
    created = bus.subject("note.created")

    async def failing_use_case() -> None:
        async with db.transaction() as session:
            await outbox.add(session, created, StringValue(value="rolled back"), tenant="cust-1")
            raise RuntimeError("use case failed")

    with pytest.raises(RuntimeError, match="use case failed"):
        await failing_use_case()

    ids: list[str] = []
    with tracer.start_as_current_span("use case") as span:
        async with db.transaction() as session:
            for i in range(3):
                ids.append(await outbox.add(session, created, StringValue(value=f"note {i}"), tenant="cust-1"))
    use_case_trace = format(span.get_span_context().trace_id, "032x")
    async with db.transaction() as session:
        ids.append(await outbox.add(session, bus.subject("note.deleted"), StringValue(value="note 3"), event_id="ev-4"))
    assert ids[3] == "ev-4"

    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock, poll_seconds=0.05)
    background(relay.run)

    async def four() -> list[Any]:
        msgs = await bus.messages()
        return msgs if len(msgs) >= 4 else []

    await eventually(four, what="four published messages")
    await asyncio.sleep(0.3)  # give a wrong relay the time to publish more
    msgs = await bus.messages()
    assert [m.headers["Nats-Msg-Id"] for m in msgs] == ids
    assert [StringValue.FromString(m.data).value for m in msgs] == ["note 0", "note 1", "note 2", "note 3"]
    assert [m.subject for m in msgs] == [created, created, created, bus.subject("note.deleted")]
    for m in msgs:
        assert m.headers["Simfleet-Event-Type"] == "google.protobuf.StringValue"
    for m in msgs[:3]:
        assert m.headers["Simfleet-Tenant"] == "cust-1"
        assert trace_id_of(m.headers["traceparent"]) == use_case_trace
    assert msgs[3].headers.get("Simfleet-Tenant", "") == ""

    async def all_marked() -> bool:
        rows = await outbox_rows(db, tables)
        return all(r["published_at"] is not None for r in rows)

    await eventually(all_marked, what="rows marked published")
    rows = await outbox_rows(db, tables)
    assert sorted(r["id"] for r in rows) == sorted(ids)  # the rolled back event never reached the table
    assert all(r["attempts"] == 1 for r in rows)
    assert all(r["published_at"] >= r["created_at"] for r in rows)


async def test_a_commit_wakes_the_relay_without_waiting_for_its_poll(
    db: Database, bus: Bus, tables: BusTables, background: Background
) -> None:
    clock = Clock()
    outbox = Outbox(tables, clock)
    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock, poll_seconds=30)
    background(relay.run)
    await asyncio.sleep(0.3)  # the relay has made its first (empty) pass and now sleeps for 30s

    for round_ in range(2):
        started = time.monotonic()
        async with db.transaction() as session:
            await outbox.add(session, bus.subject("note.created"), StringValue(value=f"wake {round_}"))

        async def published(expected: int = round_ + 1) -> bool:
            return len(await bus.messages()) == expected

        await eventually(published, timeout=2.0, what=f"event {round_} published after its commit")
        assert time.monotonic() - started < 2.0


async def test_a_relay_started_while_nats_is_down_publishes_everything_once_it_is_back(
    db: Database, tables: BusTables, background: Background
) -> None:
    server = NatsServer()
    await asyncio.to_thread(server.start)
    nc = await connect_nats(server.url, name="rt-tests-outage")
    try:
        js = nc.jetstream(timeout=5)
        await ensure_streams(js, [StreamSpec(name="RT_OUTAGE", subjects=["rtoutage.>"])])
        await asyncio.to_thread(server.stop)

        clock = Clock()
        outbox = Outbox(tables, clock)
        relay = OutboxRelay(
            db=db, tables=tables, outbox=outbox, js=js, clock=clock, poll_seconds=0.05, publish_timeout=0.3
        )
        background(relay.run)
        ids: list[str] = []
        for batch in range(2):
            async with db.transaction() as session:
                for i in range(3):
                    msg = StringValue(value=f"{batch}-{i}")
                    ids.append(await outbox.add(session, "rtoutage.note.created", msg))
        await asyncio.sleep(1.0)  # the relay tries and fails while the server is away
        rows = await outbox_rows(db, tables)
        assert all(r["published_at"] is None for r in rows)
        assert rows[0]["attempts"] >= 1

        await asyncio.to_thread(server.start)  # same port, same store_dir

        async def all_marked() -> bool:
            return all(r["published_at"] is not None for r in await outbox_rows(db, tables))

        await eventually(all_marked, timeout=15, what="outbox drained after NATS came back")
        info = await js.stream_info("RT_OUTAGE")
        assert info.state.messages == len(ids)
        got = [await js.get_msg("RT_OUTAGE", seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]
        assert [m.headers["Nats-Msg-Id"] for m in got] == ids
    finally:
        await nc.close()
        await asyncio.to_thread(server.close)


async def test_a_republished_event_is_dropped_by_the_duplicate_window(
    db: Database, bus: Bus, tables: BusTables
) -> None:
    first = await bus.js.publish(bus.subject("x"), b"one", headers={"Nats-Msg-Id": "same-id"})
    second = await bus.js.publish(bus.subject("x"), b"one", headers={"Nats-Msg-Id": "same-id"})
    assert not first.duplicate
    assert second.duplicate
    assert second.seq == first.seq

    # The relay's own case: it published, then died before marking the row.
    clock = Clock()
    outbox = Outbox(tables, clock)
    async with db.transaction() as session:
        event_id = await outbox.add(session, bus.subject("note.created"), StringValue(value="once"))
    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock)
    assert await relay.publish_pending() == (1, True)
    async with db.transaction() as session:
        await session.execute(sa.update(tables.outbox).values(published_at=None))
    assert await relay.publish_pending() == (1, True)
    assert await relay.publish_pending() == (0, True)

    msgs = await bus.messages()
    assert [m.headers["Nats-Msg-Id"] for m in msgs] == ["same-id", event_id]
    (row,) = await outbox_rows(db, tables)
    assert row["published_at"] is not None
    assert row["attempts"] == 2


async def test_a_row_nats_refuses_stays_unpublished_and_keeps_its_place(
    db: Database, bus: Bus, tables: BusTables
) -> None:
    clock = Clock()
    outbox = Outbox(tables, clock)
    async with db.transaction() as session:
        stuck = await outbox.add(session, f"rtnostream{new_id().lower()}.x", StringValue(value="no stream"))
        later = await outbox.add(session, bus.subject("note.created"), StringValue(value="later"))
    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock, publish_timeout=0.5)

    assert await relay.publish_pending() == (0, False)
    rows = {r["id"]: r for r in await outbox_rows(db, tables)}
    assert rows[stuck]["published_at"] is None
    assert rows[stuck]["attempts"] == 1
    assert rows[stuck]["last_error"]
    assert rows[later]["published_at"] is None  # order is kept: nothing overtakes the stuck row
    assert await bus.messages() == []


async def test_the_consumer_side_sees_the_trace_of_the_use_case(
    db: Database, bus: Bus, tables: BusTables, spans: InMemorySpanExporter
) -> None:
    clock = Clock()
    outbox = Outbox(tables, clock)
    subject = bus.subject("note.created")
    with tracer.start_as_current_span("use case") as span:
        async with db.transaction() as session:
            event_id = await outbox.add(session, subject, StringValue(value="traced"))
    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock)
    assert await relay.publish_pending() == (1, True)
    (msg,) = await bus.messages()
    ctx = span.get_span_context()
    finished = {s.name: s for s in spans.get_finished_spans()}
    # The use case's span → "create" (the message's creation context) → "publish".
    create, publish = finished[f"create {subject}"], finished[f"publish {subject}"]
    assert create.kind == trace.SpanKind.PRODUCER
    assert create.parent is not None and create.parent.span_id == ctx.span_id
    assert publish.kind == trace.SpanKind.CLIENT
    assert publish.parent is not None and publish.parent.span_id == create.context.span_id
    assert create.context.trace_id == publish.context.trace_id == ctx.trace_id
    # The message carries the creation context: its consumers are children of "create".
    assert msg.headers["traceparent"].startswith(f"00-{ctx.trace_id:032x}-{create.context.span_id:016x}-")
    assert publish.attributes is not None
    assert dict(publish.attributes) | {"messaging.nats.stream": ""} == {
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.destination.name": subject,
        "messaging.message.id": event_id,
        "messaging.message.body.size": len(StringValue(value="traced").SerializeToString()),
        "messaging.nats.stream": "",
        "messaging.nats.duplicate": False,
    }
    assert publish.attributes["messaging.nats.stream"] == bus.stream


async def test_an_event_written_outside_a_trace_starts_one_when_it_is_published(
    db: Database, bus: Bus, tables: BusTables, spans: InMemorySpanExporter
) -> None:
    clock = Clock()
    outbox = Outbox(tables, clock)
    subject = bus.subject("note.created")
    async with db.transaction() as session:
        await outbox.add(session, subject, StringValue(value="untraced"))
    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock)
    assert await relay.publish_pending() == (1, True)
    (msg,) = await bus.messages()
    names = [s.name for s in spans.get_finished_spans()]
    assert f"create {subject}" not in names
    (publish,) = [s for s in spans.get_finished_spans() if s.name == f"publish {subject}"]
    # No creation context was stored: the publish span is the creation context.
    assert publish.kind == trace.SpanKind.PRODUCER
    assert publish.parent is None
    ctx = publish.context
    assert msg.headers["traceparent"].startswith(f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-")
