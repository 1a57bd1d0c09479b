"""Idempotent durable consumers: once per event id, retries with backoff, dead letters, traces."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from google.protobuf.wrappers_pb2 import StringValue
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet_runtime.bus import BusTables, DurableConsumer, Event, Outbox, OutboxRelay, PermanentError, each_in_turn
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import eventually

from .conftest import Bus

tracer = trace.get_tracer("rt.tests")
Background = Callable[[Callable[[asyncio.Event], Awaitable[None]]], asyncio.Event]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Recorder:
    """A handler that writes a note per event and fails on the deliveries it is told to."""

    def __init__(self, notes: sa.Table, *, fail: Callable[[Event], BaseException | None] = lambda _e: None) -> None:
        self.notes = notes
        self.fail = fail
        self.calls: list[tuple[str, int, float]] = []

    async def __call__(self, session: AsyncSession, event: Event) -> None:
        self.calls.append((event.id, event.deliveries, time.monotonic()))
        await session.execute(
            sa.insert(self.notes).values(
                id=new_id(), text=StringValue.FromString(event.data).value, created_at=Clock().now()
            )
        )
        error = self.fail(event)
        if error is not None:
            raise error


def consumer_for(bus: Bus, db: Database, tables: BusTables, handler: Any, **kwargs: Any) -> DurableConsumer:
    return DurableConsumer(
        name=f"rt-{new_id().lower()}",
        stream=bus.stream,
        subject=bus.subject(">"),
        handler=handler,
        db=db,
        tables=tables,
        js=bus.js,
        clock=Clock(),
        **kwargs,
    )


async def count(db: Database, table: sa.Table) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def publish(bus: Bus, text: str, *, event_id: str | None = None, name: str = "note.created") -> str:
    event_id = event_id or new_id()
    ack = await bus.js.publish(
        bus.subject(name), StringValue(value=text).SerializeToString(), headers={"Nats-Msg-Id": event_id}
    )
    assert not ack.duplicate
    return event_id


async def test_the_handler_runs_once_per_event_id_even_when_the_message_comes_twice(
    db: Database, make_bus: Callable[..., Awaitable[Bus]], tables: BusTables, notes: sa.Table, background: Background
) -> None:
    bus = await make_bus(duplicate_window_seconds=0.2)
    handler = Recorder(notes)
    consumer = consumer_for(bus, db, tables, handler)
    duplicates_before = metric("simfleet_nats_consumed_total", consumer=consumer.name, result="duplicate")
    event_id = await publish(bus, "first")
    # Once the stream's window has passed, the same id is stored a second time:
    # only the consumer's own record can tell.
    for _ in range(50):
        await asyncio.sleep(0.1)
        ack = await bus.js.publish(
            bus.subject("note.created"),
            StringValue(value="first").SerializeToString(),
            headers={"Nats-Msg-Id": event_id},
        )
        if not ack.duplicate:
            break
    assert len(await bus.messages()) == 2
    other = await publish(bus, "second")
    background(consumer.run)

    async def done() -> bool:
        applied = metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied")
        duplicate = metric("simfleet_nats_consumed_total", consumer=consumer.name, result="duplicate")
        return applied == 2 and duplicate - duplicates_before == 1

    await eventually(done, what="two applied and one duplicate")
    assert [c[0] for c in handler.calls] == [event_id, other]
    assert await count(db, notes) == 2
    async with db.sessions() as session:
        processed = (await session.execute(sa.select(tables.processed_events))).mappings().all()
    assert sorted((r["consumer"], r["event_id"]) for r in processed) == sorted(
        [(consumer.name, event_id), (consumer.name, other)]
    )


class LosesFirstAck(DurableConsumer):
    """The handler's transaction commits but the ack never reaches the server (a crash)."""

    lost = False

    async def handle(self, msg: Msg) -> None:
        if not self.lost:
            self.lost = True

            async def lose() -> None:
                raise ConnectionError("process died before its ack")

            msg.ack = lose  # type: ignore[method-assign]
        await super().handle(msg)


async def test_a_redelivery_after_a_lost_ack_changes_nothing(
    db: Database, bus: Bus, tables: BusTables, notes: sa.Table, background: Background
) -> None:
    handler = Recorder(notes)
    consumer = LosesFirstAck(
        name=f"rt-{new_id().lower()}",
        stream=bus.stream,
        subject=bus.subject(">"),
        handler=handler,
        db=db,
        tables=tables,
        js=bus.js,
        clock=Clock(),
        ack_wait_seconds=1.0,
    )
    event_id = await publish(bus, "once")
    background(consumer.run)

    async def duplicate_acked() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="duplicate") == 1

    await eventually(duplicate_acked, timeout=8, what="the redelivered message acked as a duplicate")
    assert [c[0] for c in handler.calls] == [event_id]
    assert await count(db, notes) == 1
    assert metric("simfleet_nats_redelivered_total", consumer=consumer.name) >= 1


async def test_a_failing_handler_leaves_no_change_and_is_retried_with_backoff(
    db: Database, bus: Bus, tables: BusTables, notes: sa.Table, background: Background
) -> None:
    handler = Recorder(notes, fail=lambda e: RuntimeError("not yet") if e.deliveries < 3 else None)
    consumer = consumer_for(bus, db, tables, handler, backoff=[0.3, 0.6])
    event_id = await publish(bus, "eventually")
    background(consumer.run)

    async def applied() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied") == 1

    await eventually(applied, timeout=8, what="applied on the third delivery")
    assert [(c[0], c[1]) for c in handler.calls] == [(event_id, 1), (event_id, 2), (event_id, 3)]
    times = [c[2] for c in handler.calls]
    assert times[1] - times[0] >= 0.25
    assert times[2] - times[1] >= 0.55
    assert await count(db, notes) == 1  # the two failed attempts rolled back their notes
    assert await count(db, tables.processed_events) == 1
    assert await count(db, tables.dead_letters) == 0
    assert metric("simfleet_nats_consumed_total", consumer=consumer.name, result="retried") == 2
    assert metric("simfleet_nats_redelivered_total", consumer=consumer.name) == 2


async def test_the_last_allowed_failure_is_dead_lettered_and_the_stream_moves_on(
    db: Database, bus: Bus, tables: BusTables, notes: sa.Table, background: Background
) -> None:
    handler = Recorder(notes, fail=lambda e: ValueError("bad note") if e.data.endswith(b"poison") else None)
    consumer = consumer_for(bus, db, tables, handler, max_deliver=3, backoff=[0.05])
    poison = await publish(bus, "poison")
    background(consumer.run)

    async def dead() -> bool:
        return await count(db, tables.dead_letters) == 1

    await eventually(dead, what="a dead letter")
    async with db.sessions() as session:
        (letter,) = (await session.execute(sa.select(tables.dead_letters))).mappings().all()
    assert letter["event_id"] == poison
    assert letter["consumer"] == consumer.name
    assert letter["subject"] == bus.subject("note.created")
    assert letter["deliveries"] == 3
    assert letter["error"] == "ValueError: bad note"
    assert StringValue.FromString(letter["payload"]).value == "poison"
    assert letter["headers"]["Nats-Msg-Id"] == poison
    assert metric("simfleet_nats_dead_lettered_total", consumer=consumer.name) == 1
    assert metric("simfleet_nats_consumed_total", consumer=consumer.name, result="dead_lettered") == 1

    healthy = await publish(bus, "healthy")

    async def healthy_applied() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied") == 1

    await eventually(healthy_applied, what="the next message applied")
    await asyncio.sleep(0.3)  # a terminated message would come back within this time if it were not terminated
    assert [c[1] for c in handler.calls if c[0] == poison] == [1, 2, 3]
    assert [c[0] for c in handler.calls if c[0] != poison] == [healthy]
    assert await count(db, notes) == 1
    info = await bus.js.consumer_info(bus.stream, consumer.name)
    assert info.num_ack_pending == 0
    assert info.num_pending == 0


async def test_a_permanent_error_is_dead_lettered_at_once(
    db: Database, bus: Bus, tables: BusTables, notes: sa.Table, background: Background
) -> None:
    handler = Recorder(notes, fail=lambda _e: PermanentError("unknown line"))
    consumer = consumer_for(bus, db, tables, handler, max_deliver=5, backoff=[0.05])
    event_id = await publish(bus, "never")
    background(consumer.run)

    async def dead() -> bool:
        return await count(db, tables.dead_letters) == 1

    await eventually(dead, what="a dead letter")
    await asyncio.sleep(0.3)
    assert [(c[0], c[1]) for c in handler.calls] == [(event_id, 1)]
    async with db.sessions() as session:
        letter = (await session.execute(sa.select(tables.dead_letters))).mappings().one()
    assert letter["deliveries"] == 1
    assert letter["error"] == "PermanentError: unknown line"
    assert await count(db, notes) == 0
    assert metric("simfleet_nats_consumed_total", consumer=consumer.name, result="retried") == 0


async def test_the_consumer_span_is_a_child_of_the_span_that_wrote_the_event(
    db: Database,
    bus: Bus,
    tables: BusTables,
    notes: sa.Table,
    background: Background,
    spans: InMemorySpanExporter,
) -> None:
    """writer span → "create" span (the creation context) → "publish" span and "process" span."""
    clock = Clock()
    outbox = Outbox(tables, clock)
    seen_span: list[int] = []
    subject = bus.subject("note.created")

    async def handler(session: AsyncSession, event: Event) -> None:
        seen_span.append(trace.get_current_span().get_span_context().span_id)

    consumer = consumer_for(bus, db, tables, handler)
    relay = OutboxRelay(db=db, tables=tables, outbox=outbox, js=bus.js, clock=clock, poll_seconds=0.05)
    with tracer.start_as_current_span("sign in") as use_case:
        async with db.transaction() as session:
            event_id = await outbox.add(session, subject, StringValue(value="traced"))
    background(relay.run)
    background(consumer.run)

    async def processed() -> list[Any]:
        return [s for s in spans.get_finished_spans() if s.name == f"process {subject}"]

    (process,) = await eventually(processed, what="the consumer span")
    finished = {s.name: s for s in spans.get_finished_spans()}
    create, publish = finished[f"create {subject}"], finished[f"publish {subject}"]
    ctx = use_case.get_span_context()
    assert {create.context.trace_id, publish.context.trace_id, process.context.trace_id} == {ctx.trace_id}
    assert create.kind == trace.SpanKind.PRODUCER
    assert create.parent is not None and create.parent.span_id == ctx.span_id
    assert publish.kind == trace.SpanKind.CLIENT
    assert publish.parent is not None and publish.parent.span_id == create.context.span_id
    assert process.kind == trace.SpanKind.CONSUMER
    assert process.parent is not None and process.parent.span_id == create.context.span_id
    assert publish.start_time is not None and process.start_time is not None
    assert publish.start_time <= process.start_time  # published before it was processed
    for span, operation in ((create, "create"), (publish, "send"), (process, "process")):
        assert span.attributes is not None
        assert span.attributes["messaging.system"] == "nats"
        assert span.attributes["messaging.operation.type"] == operation
        assert span.attributes["messaging.destination.name"] == subject
        assert span.attributes["messaging.message.id"] == event_id
    assert process.attributes is not None and process.attributes["messaging.consumer.group.name"] == consumer.name
    assert seen_span == [process.context.span_id]  # the handler runs inside the consumer span


async def test_a_handler_outside_the_transaction_holds_no_connection_and_still_runs_once(
    db: Database, make_bus: Callable[..., Awaitable[Bus]], tables: BusTables, background: Background
) -> None:
    bus = await make_bus()
    seen: list[tuple[str, int]] = []

    async def hand_to_a_slow_peer(_session: AsyncSession, event: Event) -> None:
        # e.g. an SMTP relay: while it answers, the database must stay free for others
        seen.append((event.id, db.engine.pool.checkedout()))  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)

    consumer = consumer_for(bus, db, tables, hand_to_a_slow_peer, in_transaction=False)
    event_id = await publish(bus, "mail")
    background(consumer.run)

    async def applied() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied") == 1

    await eventually(applied, what="the event applied")
    assert seen == [(event_id, 0)]
    async with db.sessions() as session:
        recorded = await session.scalar(
            sa.select(sa.func.count())
            .select_from(tables.processed_events)
            .where(tables.processed_events.c.consumer == consumer.name)
        )
    assert recorded == 1
    assert len(seen) == 1


async def test_a_before_hook_runs_ahead_of_the_transaction_holding_no_connection(
    db: Database, bus: Bus, tables: BusTables, notes: sa.Table, background: Background
) -> None:
    steps: list[tuple[str, str, int]] = []
    handler = Recorder(notes)

    async def before(event: Event) -> None:
        # e.g. a simulated network's latency: other writers must not wait for it
        steps.append(("before", event.id, db.engine.pool.checkedout()))  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)

    async def recording(session: AsyncSession, event: Event) -> None:
        steps.append(("handler", event.id, db.engine.pool.checkedout()))  # type: ignore[attr-defined]
        await handler(session, event)

    consumer = consumer_for(bus, db, tables, recording, before=before)
    event_id = await publish(bus, "with a hook")
    background(consumer.run)

    async def applied() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied") == 1

    await eventually(applied, what="the event applied")
    assert steps == [("before", event_id, 0), ("handler", event_id, 1)]
    assert await count(db, notes) == 1


async def test_a_long_before_hook_keeps_its_message_from_being_redelivered(
    db: Database, bus: Bus, tables: BusTables, notes: sa.Table, background: Background
) -> None:
    handler = Recorder(notes)
    hooked: list[int] = []

    async def slow(event: Event) -> None:
        hooked.append(event.deliveries)
        await asyncio.sleep(2.5)

    consumer = consumer_for(bus, db, tables, handler, before=slow, ack_wait_seconds=1.0)
    await publish(bus, "slow")
    background(consumer.run)
    await eventually(lambda: _true_when(bool(hooked)), what="the hook started")
    # Another puller on the same durable would get the message once its ack wait
    # ran out: the hook's in-progress signals keep it with the first one.
    rival = await bus.js.pull_subscribe(bus.subject(">"), durable=consumer.name, stream=bus.stream)
    with pytest.raises((TimeoutError, NatsTimeoutError)):
        await rival.fetch(1, timeout=2.0)

    async def applied() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied") == 1

    await eventually(applied, what="the event applied after the hook")
    assert hooked == [1]
    assert [c[1] for c in handler.calls] == [1]
    assert metric("simfleet_nats_redelivered_total", consumer=consumer.name) == 0
    await rival.unsubscribe()


async def test_a_failing_before_hook_is_a_failed_attempt_and_the_handler_does_not_run(
    db: Database, bus: Bus, tables: BusTables, notes: sa.Table, background: Background
) -> None:
    handler = Recorder(notes)

    async def flaky(event: Event) -> None:
        if event.deliveries == 1:
            raise RuntimeError("not ready")

    consumer = consumer_for(bus, db, tables, handler, before=flaky, backoff=[0.1])
    event_id = await publish(bus, "second time lucky")
    background(consumer.run)

    async def applied() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied") == 1

    await eventually(applied, what="applied on the second delivery")
    assert [(c[0], c[1]) for c in handler.calls] == [(event_id, 2)]
    assert metric("simfleet_nats_consumed_total", consumer=consumer.name, result="retried") == 1
    assert await count(db, notes) == 1


async def test_a_consumer_stopped_during_its_before_hook_hands_the_message_back(
    db: Database, bus: Bus, tables: BusTables, notes: sa.Table, background: Background
) -> None:
    handler = Recorder(notes)
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def waits_forever(_event: Event) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    first = consumer_for(bus, db, tables, handler, before=waits_forever)
    event_id = await publish(bus, "handed back")
    stop = asyncio.Event()
    running = asyncio.create_task(first.run(stop))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(running, 3)  # the hook does not hold the stop up
    assert cancelled == [True]
    assert handler.calls == []
    assert await count(db, tables.processed_events) == 0

    async def passes(_event: Event) -> None:
        return None

    second = DurableConsumer(
        name=first.name,
        stream=bus.stream,
        subject=bus.subject(">"),
        handler=handler,
        db=db,
        tables=tables,
        js=bus.js,
        clock=Clock(),
        before=passes,
    )
    background(second.run)

    async def applied() -> bool:
        return bool(handler.calls)

    await eventually(applied, timeout=5, what="the next consumer applied the handed-back message")
    assert [(c[0], c[1]) for c in handler.calls] == [(event_id, 2)]  # handed back at once, not after the ack wait
    assert await count(db, notes) == 1


async def _true_when(value: bool) -> bool:
    return value


class GroupRecorder:
    """A group handler that writes a note per event, records each group, and fails on the events it is told to."""

    def __init__(self, notes: sa.Table, *, poison: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.notes = notes
        self.poison = poison
        self.groups: list[list[str]] = []

    async def __call__(self, session: AsyncSession, events: Any) -> None:
        self.groups.append([event.id for event in events])
        for event in events:
            await session.execute(
                sa.insert(self.notes).values(
                    id=new_id(), text=StringValue.FromString(event.data).value, created_at=Clock().now()
                )
            )
            if event.id in self.poison:
                raise PermanentError(f"{event.id} cannot be handled")


async def test_a_group_of_messages_is_handled_in_one_transaction_and_each_is_acked_once(
    db: Database, make_bus: Callable[..., Awaitable[Bus]], tables: BusTables, notes: sa.Table, background: Background
) -> None:
    bus = await make_bus()
    ids = [await publish(bus, f"note {i}") for i in range(7)]
    single = Recorder(notes)
    group = GroupRecorder(notes)
    consumer = consumer_for(bus, db, tables, single, group_handler=group, group_size=3)
    background(consumer.run)

    async def done() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied") == 7

    await eventually(done, what="seven applied")
    # A fetch may bring fewer messages than there are (a group of one goes through the single handler).
    grouped = [event_id for found in group.groups for event_id in found]
    assert sorted(grouped + [call[0] for call in single.calls]) == sorted(ids)
    assert max(len(found) for found in group.groups) in (2, 3)
    assert all(len(found) <= 3 for found in group.groups)
    assert await count(db, notes) == 7
    async with db.sessions() as session:
        claimed = (
            await session.execute(
                sa.select(tables.processed_events.c.event_id).where(tables.processed_events.c.consumer == consumer.name)
            )
        ).scalars()
        assert sorted(claimed) == sorted(ids)

    async def all_acked() -> bool:
        info = await bus.js.consumer_info(bus.stream, consumer.name)
        return info.num_ack_pending == 0 and info.num_pending == 0

    await eventually(all_acked, what="every message acked")


async def test_a_group_that_fails_changes_nothing_and_its_messages_go_one_by_one(
    db: Database, make_bus: Callable[..., Awaitable[Bus]], tables: BusTables, notes: sa.Table, background: Background
) -> None:
    bus = await make_bus()
    ids = [await publish(bus, f"note {i}") for i in range(4)]
    poison = ids[1]
    # Together the group fails on the poisoned event; alone, the others succeed and it is dead-lettered.
    single = Recorder(notes, fail=lambda e: PermanentError("poisoned") if e.id == poison else None)
    group = GroupRecorder(notes, poison={poison})
    consumer = consumer_for(bus, db, tables, single, group_handler=group, group_size=4)
    background(consumer.run)

    async def done() -> bool:
        applied = metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied")
        dead = metric("simfleet_nats_consumed_total", consumer=consumer.name, result="dead_lettered")
        return applied == 3 and dead == 1

    await eventually(done, what="three applied one by one and the poisoned one dead-lettered")
    assert group.groups and group.groups[0] == ids  # tried together first
    assert sorted(c[0] for c in single.calls) == sorted(ids)
    assert await count(db, notes) == 3  # the failed group's notes were rolled back; the poisoned one's too
    async with db.sessions() as session:
        dead = (await session.execute(sa.select(tables.dead_letters.c.event_id))).scalars().all()
    assert list(dead) == [poison]


async def test_each_in_turn_runs_the_single_handler_on_every_event_of_one_transaction(
    db: Database, make_bus: Callable[..., Awaitable[Bus]], tables: BusTables, notes: sa.Table, background: Background
) -> None:
    bus = await make_bus()
    ids = [await publish(bus, f"note {i}") for i in range(6)]
    poison = ids[4]
    handler = Recorder(notes, fail=lambda e: PermanentError("poisoned") if e.id == poison else None)
    groups: list[list[str]] = []
    grouped = each_in_turn(handler)

    async def counting(session: AsyncSession, events: Any) -> None:
        groups.append([event.id for event in events])
        await grouped(session, events)

    consumer = consumer_for(bus, db, tables, handler, group_handler=counting, group_size=6)
    background(consumer.run)

    async def done() -> bool:
        applied = metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied")
        dead = metric("simfleet_nats_consumed_total", consumer=consumer.name, result="dead_lettered")
        return applied == 5 and dead == 1

    await eventually(done, what="five applied and the poisoned one dead-lettered")
    # Each group ran the one handler on its events in order; a group holding the poisoned event failed as a
    # whole (its notes rolled back) and its events went one by one: five notes, and the poisoned one dead.
    assert groups
    calls = [c[0] for c in handler.calls]
    for group in groups:
        ran = group[: group.index(poison) + 1] if poison in group else group
        start = calls.index(group[0])
        assert calls[start : start + len(ran)] == ran
    assert await count(db, notes) == 5
    async with db.sessions() as session:
        dead = (await session.execute(sa.select(tables.dead_letters.c.event_id))).scalars().all()
    assert list(dead) == [poison]


async def test_an_event_already_processed_is_left_out_of_its_group(
    db: Database, make_bus: Callable[..., Awaitable[Bus]], tables: BusTables, notes: sa.Table, background: Background
) -> None:
    bus = await make_bus()
    ids = [await publish(bus, f"note {i}") for i in range(3)]
    single = Recorder(notes)
    group = GroupRecorder(notes)
    consumer = consumer_for(bus, db, tables, single, group_handler=group, group_size=3)
    async with db.transaction() as session:
        await session.execute(
            sa.insert(tables.processed_events).values(
                consumer=consumer.name, event_id=ids[0], processed_at=Clock().now()
            )
        )
    background(consumer.run)

    async def done() -> bool:
        return metric("simfleet_nats_consumed_total", consumer=consumer.name, result="duplicate") == 1 and (
            metric("simfleet_nats_consumed_total", consumer=consumer.name, result="applied") == 2
        )

    await eventually(done, what="two applied, one duplicate")
    handled = [event_id for found in group.groups for event_id in found] + [call[0] for call in single.calls]
    assert sorted(handled) == sorted(ids[1:])
    assert await count(db, notes) == 2


def test_a_group_handler_needs_the_consumers_transaction(db: Database, tables: BusTables, notes: sa.Table) -> None:
    with pytest.raises(ValueError, match="transaction"):
        DurableConsumer(
            name="rt-group",
            stream="S",
            subject="s.>",
            handler=Recorder(notes),
            db=db,
            tables=tables,
            js=None,  # type: ignore[arg-type]
            clock=Clock(),
            in_transaction=False,
            group_handler=GroupRecorder(notes),
            group_size=2,
        )
