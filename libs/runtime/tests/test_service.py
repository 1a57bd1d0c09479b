"""ServiceRuntime: health follows NATS, the bus is wired, shutdown is prompt and complete."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.wrappers_pb2 import StringValue
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet_runtime.bus import Event, StreamSpec
from simfleet_runtime.ids import new_id
from simfleet_runtime.service import LIVENESS_SERVICE, ServiceRuntime
from simfleet_runtime.settings import ServiceSettings
from simfleet_runtime.testing import NatsServer, eventually, free_port

from .conftest import BUS, MIGRATIONS_DIR, NOTES

SERVICE = "rt.test.v1.Notes"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def make_runtime(database_url: str, nats: NatsServer, stream: str, **overrides: object) -> ServiceRuntime:
    settings = ServiceSettings(
        service_name="rt-test",
        database_url=database_url,
        nats_url=nats.url,
        grpc_port=free_port(),
        health_check_interval_seconds=0.1,
        shutdown_grace_seconds=5.0,
        outbox_poll_seconds=30.0,
        consumer_backoff_seconds=[0.1],
        **overrides,  # type: ignore[arg-type]
    )
    runtime = ServiceRuntime(
        settings,
        tables=BUS,
        migrations_dir=MIGRATIONS_DIR,
        streams=[StreamSpec(name=stream, subjects=[f"{stream.lower()}.>"])],
    )

    async def ping(request: bytes, context: object) -> bytes:
        return b"pong"

    handler = grpc.method_handlers_generic_handler(SERVICE, {"Ping": grpc.unary_unary_rpc_method_handler(ping)})
    runtime.add_servicer(lambda servicer, server: server.add_generic_rpc_handlers((servicer,)), handler, SERVICE)
    return runtime


async def health(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=1
        )
        return int(response.status)


async def test_health_follows_nats_and_shutdown_is_prompt(
    empty_database_url: str, tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    nats = NatsServer(store_dir=tmp_path / "nats")
    stream = f"RT{new_id()}"
    runtime = make_runtime(empty_database_url, nats, stream)
    applied: list[str] = []

    async def on_note(session: AsyncSession, event: Event) -> None:
        applied.append(event.id)
        await session.execute(
            sa.insert(NOTES).values(
                id=event.id, text=StringValue.FromString(event.data).value, created_at=runtime.clock.now()
            )
        )

    runtime.add_consumer(name="rt-notes", stream=stream, subject=f"{stream.lower()}.>", handler=on_note)
    task_stopped = asyncio.Event()

    async def ticker(stop: asyncio.Event) -> None:
        await stop.wait()
        task_stopped.set()

    runtime.add_task("ticker", ticker)
    try:
        await runtime.start()  # NATS is not running yet; migrations are applied
        port = runtime.bound_port
        for _ in range(5):
            assert await health(port) == NOT_SERVING
            assert await health(port, SERVICE) == NOT_SERVING
            # alive all the same: a dependency outage must not get the pod restarted
            assert await health(port, LIVENESS_SERVICE) == SERVING
            await asyncio.sleep(0.1)

        await asyncio.to_thread(nats.start)

        async def serving() -> bool:
            return await health(port) == SERVING and await health(port, SERVICE) == SERVING

        await eventually(serving, timeout=8, what="SERVING once NATS is up")

        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            assert await channel.unary_unary(f"/{SERVICE}/Ping")(b"", timeout=1) == b"pong"

        # The runtime's outbox, relay and consumer are wired together.
        async with runtime.db.transaction() as session:
            event_id = await runtime.outbox.add(session, f"{stream.lower()}.note.created", StringValue(value="hello"))

        async def consumed() -> bool:
            return applied == [event_id]

        await eventually(consumed, timeout=5, what="the event round trip through the runtime")

        await asyncio.to_thread(nats.stop)

        async def not_serving() -> bool:
            return await health(port) == NOT_SERVING

        await eventually(not_serving, timeout=8, what="NOT_SERVING once NATS is gone")
        assert await health(port, LIVENESS_SERVICE) == SERVING

        started = time.monotonic()
        await runtime.shutdown()
        took = time.monotonic() - started
        assert took < 3.0, f"shutdown took {took:.1f}s"
        assert task_stopped.is_set()
        assert all(t.done() for t in runtime._running)

        # Shutting one runtime down leaves the process's tracing alone (tests run many).
        with trace.get_tracer("rt.tests").start_as_current_span("after shutdown"):
            pass
        assert [s.name for s in spans.get_finished_spans() if s.name == "after shutdown"] == ["after shutdown"]
    finally:
        await runtime.shutdown()
        await asyncio.to_thread(nats.close)


async def test_shutdown_is_prompt_when_nats_never_came(empty_database_url: str, tmp_path: Path) -> None:
    nats = NatsServer(store_dir=tmp_path / "nats")  # never started
    runtime = make_runtime(empty_database_url, nats, f"RT{new_id()}")
    await runtime.start()
    await asyncio.sleep(0.5)  # the runtime is now waiting for NATS
    assert await health(runtime.bound_port) == NOT_SERVING
    started = time.monotonic()
    await runtime.shutdown()
    took = time.monotonic() - started
    assert took < 3.0, f"shutdown took {took:.1f}s"
    assert all(t.done() for t in runtime._running)


async def test_the_largest_request_taken_is_a_setting(empty_database_url: str, tmp_path: Path) -> None:
    """4 MiB by default (gRPC's own limit); a service that takes bulk requests raises it."""
    nats = NatsServer(store_dir=tmp_path / "nats")  # never started: the gRPC server answers without it
    body = b"x" * (5 * 1024 * 1024)
    small = make_runtime(empty_database_url, nats, f"RT{new_id()}")
    large = make_runtime(empty_database_url, nats, f"RT{new_id()}", grpc_max_message_bytes=8 * 1024 * 1024)
    for runtime in (small, large):
        await runtime.start()
    try:
        options = [("grpc.max_send_message_length", 16 * 1024 * 1024)]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{large.bound_port}", options=options) as channel:
            assert await channel.unary_unary(f"/{SERVICE}/Ping")(body, timeout=5) == b"pong"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{small.bound_port}", options=options) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await channel.unary_unary(f"/{SERVICE}/Ping")(body, timeout=5)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        for runtime in (small, large):
            await runtime.shutdown()
