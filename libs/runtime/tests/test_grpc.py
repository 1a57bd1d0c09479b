"""The gRPC interceptors: errors with details, call context, metrics, deadlines, trace propagation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from simfleet_runtime.context import current_call
from simfleet_runtime.errors import InvalidArgument, NotFound, ResourceExhausted, read_error
from simfleet_runtime.grpc_server import Channels, ServerInterceptor, make_channel
from simfleet_runtime.testing import eventually

SERVICE = "rt.test.v1.Probe"
tracer = trace.get_tracer("rt.tests")


class Probe:
    """A servicer speaking raw bytes, one method per behaviour under test."""

    def __init__(self) -> None:
        self.slow_cancelled = asyncio.Event()

    async def invalid(self, request: bytes, context: Any) -> bytes:
        raise InvalidArgument(
            "the phone number is not valid",
            reason="INVALID_PHONE",
            metadata={"phone": "+7999"},
            field_violations={"phone": "not an E.164 number", "email": "missing @"},
        )

    async def throttled(self, request: bytes, context: Any) -> bytes:
        raise ResourceExhausted("too many codes", metadata={"scope": "number"}, retry_after_seconds=42)

    async def crash(self, request: bytes, context: Any) -> bytes:
        raise RuntimeError("database password is hunter2")

    async def abort(self, request: bytes, context: Any) -> bytes:
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such probe")
        return b""

    async def context(self, request: bytes, context: Any) -> bytes:
        call = current_call()
        return json.dumps(
            {
                "request_id": call.request_id,
                "client_address": call.client_address,
                "user_agent": call.user_agent,
                "bearer_token": call.bearer_token,
                "operator_key": call.operator_key,
            }
        ).encode()

    async def slow(self, request: bytes, context: Any) -> bytes:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            self.slow_cancelled.set()
            raise
        return b"late"

    async def trace_id(self, request: bytes, context: Any) -> bytes:
        return format(trace.get_current_span().get_span_context().trace_id, "032x").encode()

    async def echo(self, request: bytes, context: Any) -> bytes:
        return request

    async def upload(self, requests: Any, context: Any) -> bytes:
        """Counts the bytes sent; a piece "bad" is refused as a DomainError, a piece "crash" crashes."""
        total = 0
        async for piece in requests:
            if piece == b"bad":
                raise InvalidArgument("a bad piece", reason="BAD_PIECE", field_violations={"chunk": "bad"})
            if piece == b"crash":
                raise RuntimeError("database password is hunter2")
            total += len(piece)
        return f"{total} {current_call().request_id}".encode()

    async def download(self, request: bytes, context: Any) -> AsyncIterator[bytes]:
        """Streams the request back a byte at a time, then refuses when it asked for "fail"."""
        for byte in request:
            yield bytes([byte])
        if request == b"fail":
            raise NotFound("nothing more", reason="PROBE_NOT_FOUND")
        yield current_call().request_id.encode()

    def handler(self) -> grpc.GenericRpcHandler:
        methods = {
            "Invalid": self.invalid,
            "Throttled": self.throttled,
            "Crash": self.crash,
            "Abort": self.abort,
            "Context": self.context,
            "Slow": self.slow,
            "TraceId": self.trace_id,
            "Echo": self.echo,
        }
        handlers = {name: grpc.unary_unary_rpc_method_handler(fn) for name, fn in methods.items()}
        handlers["Upload"] = grpc.stream_unary_rpc_method_handler(self.upload)
        handlers["Download"] = grpc.unary_stream_rpc_method_handler(self.download)
        return grpc.method_handlers_generic_handler(SERVICE, handlers)


@pytest.fixture
async def probe() -> AsyncIterator[tuple[Probe, str]]:
    servicer = Probe()
    server = grpc.aio.server(interceptors=[ServerInterceptor()])
    server.add_generic_rpc_handlers((servicer.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer, f"127.0.0.1:{port}"
    await server.stop(0)


@pytest.fixture
async def channel(probe: tuple[Probe, str]) -> AsyncIterator[grpc.aio.Channel]:
    ch = make_channel(probe[1], default_timeout=1.0)
    yield ch
    await ch.close()


async def call(channel: grpc.aio.Channel, method: str, payload: bytes = b"", **kwargs: Any) -> bytes:
    result: bytes = await channel.unary_unary(f"/{SERVICE}/{method}")(payload, **kwargs)
    return result


def handled(side: str, method: str, code: str) -> float:
    name = f"simfleet_grpc_{side}_handled_total"
    return REGISTRY.get_sample_value(name, {"grpc_service": SERVICE, "grpc_method": method, "grpc_code": code}) or 0.0


async def server_counted(method: str, code: str, expected: float) -> None:
    """The server counts a call as it finishes, which can be just after the client has its answer."""

    async def reached() -> bool:
        return handled("server", method, code) == expected

    await eventually(reached, what=f"{method} counted as {code}")


async def test_a_domain_error_arrives_with_its_code_and_details(channel: grpc.aio.Channel) -> None:
    before = handled("server", "Invalid", "INVALID_ARGUMENT")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Invalid")
    error = read_error(caught.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.message == "the phone number is not valid"
    assert error.reason == "INVALID_PHONE"
    assert error.metadata == {"phone": "+7999"}
    assert error.field_violations == {"phone": "not an E.164 number", "email": "missing @"}
    assert error.retry_after_seconds is None
    await server_counted("Invalid", "INVALID_ARGUMENT", before + 1)
    assert handled("client", "Invalid", "INVALID_ARGUMENT") >= 1

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Throttled")
    error = read_error(caught.value)
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.reason == "RATE_LIMITED"
    assert error.metadata == {"scope": "number"}
    assert error.field_violations == {}
    assert error.retry_after_seconds == 42


async def test_an_unexpected_exception_is_internal_and_says_nothing_more(channel: grpc.aio.Channel) -> None:
    before = handled("server", "Crash", "INTERNAL")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Crash")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert caught.value.details() == "internal error"
    everything = repr(caught.value.trailing_metadata()) + repr(caught.value.initial_metadata()) + str(caught.value)
    assert "hunter2" not in everything
    error = read_error(caught.value)
    assert error.reason == "INTERNAL"
    await server_counted("Crash", "INTERNAL", before + 1)


async def test_a_servicer_abort_is_counted_with_its_own_code(channel: grpc.aio.Channel) -> None:
    before = handled("server", "Abort", "NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Abort")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    await server_counted("Abort", "NOT_FOUND", before + 1)


async def test_the_call_context_comes_from_the_metadata(channel: grpc.aio.Channel) -> None:
    before = handled("server", "Context", "OK")
    raw = await call(
        channel,
        "Context",
        metadata=(
            ("authorization", "Bearer eyJ.token.sig"),
            ("simfleet-client-address", "203.0.113.7"),
            ("simfleet-client-agent", "Firefox/140"),
            ("x-request-id", "req-123"),
            ("simfleet-operator-key", "back-office-key"),
        ),
    )
    assert json.loads(raw) == {
        "request_id": "req-123",
        "client_address": "203.0.113.7",
        "user_agent": "Firefox/140",
        "bearer_token": "eyJ.token.sig",
        "operator_key": "back-office-key",
    }
    assert json.loads(await call(channel, "Context")) == {
        "request_id": "",
        "client_address": "",
        "user_agent": "",
        "bearer_token": "",
        "operator_key": "",
    }
    await server_counted("Context", "OK", before + 2)
    assert current_call().bearer_token == ""  # nothing leaks into the caller's context


async def test_the_channel_sets_a_default_deadline(probe: tuple[Probe, str], channel: grpc.aio.Channel) -> None:
    servicer, _ = probe
    server_before = handled("server", "Slow", "DEADLINE_EXCEEDED") + handled("server", "Slow", "CANCELLED")
    ok_before = handled("server", "Slow", "OK")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Slow")  # no timeout given: the channel's 1s applies
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert handled("client", "Slow", "DEADLINE_EXCEEDED") >= 1
    await asyncio.wait_for(servicer.slow_cancelled.wait(), 2)

    async def counted() -> bool:
        after = handled("server", "Slow", "DEADLINE_EXCEEDED") + handled("server", "Slow", "CANCELLED")
        return after == server_before + 1

    await eventually(counted, what="the server counting the abandoned call")
    assert handled("server", "Slow", "OK") == ok_before

    # An explicit timeout wins over the default.
    assert await call(channel, "Echo", b"quick", timeout=0.5) == b"quick"


async def test_the_trace_continues_on_the_server(channel: grpc.aio.Channel, spans: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("gateway request") as outer:
        server_trace = (await call(channel, "TraceId")).decode()
    assert server_trace == format(outer.get_span_context().trace_id, "032x")

    finished = {s.name: s for s in spans.get_finished_spans()}
    client = finished[f"{SERVICE}/TraceId"]
    servers = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    (server,) = [s for s in servers if s.name == f"{SERVICE}/TraceId"]
    assert client.kind == trace.SpanKind.CLIENT
    assert client.parent is not None and client.parent.span_id == outer.get_span_context().span_id
    assert server.parent is not None and server.parent.span_id == client.context.span_id


async def test_read_error_of_a_plain_status_keeps_the_code(probe: tuple[Probe, str]) -> None:
    # A channel without interceptors: read_error works on any AioRpcError.
    async with grpc.aio.insecure_channel(probe[1]) as plain:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await plain.unary_unary(f"/{SERVICE}/Missing")(b"", timeout=1)
    error = read_error(caught.value)
    assert error.code == grpc.StatusCode.UNIMPLEMENTED
    assert error.reason == "UNIMPLEMENTED"
    assert error.field_violations == {}


def test_not_found_defaults() -> None:
    status = NotFound("no such user").to_status()
    assert status.code == grpc.StatusCode.NOT_FOUND
    assert status.details == "no such user"


async def test_channels_open_one_channel_per_target_on_first_use_and_close_them_all() -> None:
    channels = Channels()
    first = channels.get("127.0.0.1:1", default_timeout=1.0)
    assert channels.get("127.0.0.1:1") is first
    other = channels.get("127.0.0.1:2")
    assert other is not first
    await channels.close()
    assert channels.get("127.0.0.1:1") is not first  # closed ones are forgotten: a later call opens anew
    await channels.close()


async def pieces(*values: bytes) -> AsyncIterator[bytes]:
    for value in values:
        yield value


async def test_a_streaming_call_gets_its_context_and_its_errors_details(channel: grpc.aio.Channel) -> None:
    upload = channel.stream_unary(f"/{SERVICE}/Upload")
    metadata = (("x-request-id", "req-stream-1"),)
    before = handled("server", "Upload", "OK")
    assert await upload(pieces(b"abc", b"de"), metadata=metadata) == b"5 req-stream-1"
    await server_counted("Upload", "OK", before + 1)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(pieces(b"abc", b"bad"))
    error = read_error(caught.value)
    assert (error.code, error.reason, error.field_violations) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "BAD_PIECE",
        {"chunk": "bad"},
    )
    with pytest.raises(grpc.aio.AioRpcError) as crashed:
        await upload(pieces(b"crash"))
    assert crashed.value.code() == grpc.StatusCode.INTERNAL and "hunter2" not in str(crashed.value)

    download = channel.unary_stream(f"/{SERVICE}/Download")
    received = [m async for m in download(b"ok", metadata=(("x-request-id", "req-stream-2"),))]
    assert received == [b"o", b"k", b"req-stream-2"]
    before = handled("server", "Download", "NOT_FOUND")
    got: list[bytes] = []

    async def read_all() -> None:
        async for message in download(b"fail"):
            got.append(message)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await read_all()
    assert got == [b"f", b"a", b"i", b"l"]  # what came before the refusal arrived
    assert read_error(refused.value).reason == "PROBE_NOT_FOUND"
    await server_counted("Download", "NOT_FOUND", before + 1)
