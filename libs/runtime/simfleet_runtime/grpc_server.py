"""The gRPC side of a service: server interceptor, client channels.

Server: every unary call gets a :class:`CallContext` from its metadata, a
server span continuing the caller's trace, metrics, and the translation of
:class:`DomainError` into a status with details. Anything else becomes
INTERNAL with a generic message (the cause is logged, never sent). A
client-streaming or server-streaming call (an upload, a download) gets the
same, without the action history's recording: such a command writes its own
audit event in its transaction.

Client: :func:`make_channel` gives a channel whose calls carry the trace
context, get a default deadline when the caller sets none, are measured, and
retry UNAVAILABLE for the methods named idempotent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from simfleet_runtime import metrics, telemetry
from simfleet_runtime.context import CallContext, reset_current_call, set_current_call
from simfleet_runtime.errors import DomainError

if TYPE_CHECKING:
    from simfleet_runtime.audit import AuditTrail

log = logging.getLogger(__name__)
tracer = trace.get_tracer("simfleet.grpc")

_UNTRACED = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _split(full_method: str) -> tuple[str, str]:
    parts = full_method.lstrip("/").split("/", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (full_method, "")


class ServerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, audit: AuditTrail | None = None) -> None:
        self._audit = audit

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        full_method = handler_call_details.method
        if full_method.startswith(_UNTRACED):
            return handler
        if handler.unary_unary is None:
            return _streaming(handler, full_method)
        service, method = _split(full_method)
        inner = handler.unary_unary
        audit = self._audit if self._audit is not None and self._audit.records(full_method) else None

        async def wrapped(request: Any, context: Any) -> Any:
            metadata = context.invocation_metadata() or ()
            carrier = {k: v for k, v in metadata if isinstance(v, str)}
            token = set_current_call(CallContext.from_metadata(metadata))
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            with tracer.start_as_current_span(
                full_method.lstrip("/"),
                context=propagate.extract(carrier),
                kind=SpanKind.SERVER,
                attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
            ) as span:
                if audit is not None:
                    audit.begin()
                try:
                    answer = await inner(request, context)
                    if audit is not None:
                        await audit.record(full_method, request, answer, None)
                    return answer
                except DomainError as exc:
                    code = exc.code
                    span.set_attribute("simfleet.error.reason", exc.reason)
                    if audit is not None:
                        await audit.record(full_method, request, None, exc)
                    await context.abort_with_status(exc.to_status())
                except grpc.aio.AbortError:
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    raise
                except asyncio.CancelledError:
                    # The caller went away or its deadline passed: the call did not succeed.
                    remaining = context.time_remaining()
                    expired = remaining is not None and remaining <= 0
                    code = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
                    raise
                except Exception as exc:
                    code = grpc.StatusCode.INTERNAL
                    telemetry.record_exception(span, exc)
                    log.exception("unhandled error in %s", full_method)
                    await context.abort(grpc.StatusCode.INTERNAL, "internal error")
                finally:
                    span.set_attribute("rpc.grpc.status_code", code.value[0])
                    if code not in (grpc.StatusCode.OK,):
                        span.set_status(Status(StatusCode.ERROR, code.name))
                    metrics.GRPC_SERVER_HANDLED.labels(service, method, code.name).inc()
                    metrics.GRPC_SERVER_SECONDS.labels(service, method).observe(time.perf_counter() - started)
                    reset_current_call(token)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


@asynccontextmanager
async def _served(full_method: str, context: Any) -> AsyncIterator[None]:
    """A streaming call's context, span and metrics; a DomainError raised within becomes the call's status."""
    service, method = _split(full_method)
    metadata = context.invocation_metadata() or ()
    carrier = {k: v for k, v in metadata if isinstance(v, str)}
    token = set_current_call(CallContext.from_metadata(metadata))
    started = time.perf_counter()
    code = grpc.StatusCode.OK
    with tracer.start_as_current_span(
        full_method.lstrip("/"),
        context=propagate.extract(carrier),
        kind=SpanKind.SERVER,
        attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
    ) as span:
        try:
            yield
        except DomainError as exc:
            code = exc.code
            span.set_attribute("simfleet.error.reason", exc.reason)
            await context.abort_with_status(exc.to_status())
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except asyncio.CancelledError:
            remaining = context.time_remaining()
            expired = remaining is not None and remaining <= 0
            code = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
            raise
        except Exception as exc:
            code = grpc.StatusCode.INTERNAL
            telemetry.record_exception(span, exc)
            log.exception("unhandled error in %s", full_method)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            span.set_attribute("rpc.grpc.status_code", code.value[0])
            if code != grpc.StatusCode.OK:
                span.set_status(Status(StatusCode.ERROR, code.name))
            metrics.GRPC_SERVER_HANDLED.labels(service, method, code.name).inc()
            metrics.GRPC_SERVER_SECONDS.labels(service, method).observe(time.perf_counter() - started)
            with suppress(ValueError):  # a stream closed from another context: that context's copy ends with it
                reset_current_call(token)


def _streaming(handler: Any, full_method: str) -> Any:
    """``handler`` (client- or server-streaming) served like a unary call (see :func:`_served`)."""
    if handler.stream_unary is not None:
        inner_upload = handler.stream_unary

        async def upload(requests: Any, context: Any) -> Any:
            async with _served(full_method, context):
                return await inner_upload(requests, context)

        return grpc.stream_unary_rpc_method_handler(
            upload, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
    if handler.unary_stream is not None:
        inner_download = handler.unary_stream

        async def download(request: Any, context: Any) -> AsyncIterator[Any]:
            async with _served(full_method, context):
                async for answer in inner_download(request, context):
                    yield answer

        return grpc.unary_stream_rpc_method_handler(
            download, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
    return handler


class ClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    def __init__(self, default_timeout: float) -> None:
        self._default_timeout = default_timeout

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[grpc.aio.UnaryUnaryCall[Any, Any]]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        raw_method: Any = client_call_details.method
        full_method = raw_method.decode() if isinstance(raw_method, bytes) else str(raw_method)
        service, method = _split(full_method)
        started = time.perf_counter()
        with tracer.start_as_current_span(
            full_method.lstrip("/"),
            kind=SpanKind.CLIENT,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
        ) as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()))
            for key, value in carrier.items():
                metadata.add(key, value)
            details = grpc.aio.ClientCallDetails(
                method=client_call_details.method,
                timeout=client_call_details.timeout
                if client_call_details.timeout is not None
                else self._default_timeout,
                metadata=metadata,
                credentials=client_call_details.credentials,
                wait_for_ready=client_call_details.wait_for_ready,
            )
            code = grpc.StatusCode.OK
            try:
                call = await continuation(details, request)
                return await call
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                span.set_status(Status(StatusCode.ERROR, code.name))
                raise
            finally:
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                metrics.GRPC_CLIENT_HANDLED.labels(service, method, code.name).inc()
                metrics.GRPC_CLIENT_SECONDS.labels(service, method).observe(time.perf_counter() - started)


def retry_service_config(idempotent: Iterable[tuple[str, str]]) -> str:
    """A gRPC service config that retries UNAVAILABLE for the given (service, method) pairs."""
    names = [{"service": s, "method": m} for s, m in idempotent]
    if not names:
        return json.dumps({})
    return json.dumps(
        {
            "methodConfig": [
                {
                    "name": names,
                    "retryPolicy": {
                        "maxAttempts": 3,
                        "initialBackoff": "0.1s",
                        "maxBackoff": "1s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
    )


def make_channel(
    target: str,
    *,
    default_timeout: float = 5.0,
    idempotent: Sequence[tuple[str, str]] = (),
) -> grpc.aio.Channel:
    options = [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", retry_service_config(idempotent)),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 2_000),
    ]
    return grpc.aio.insecure_channel(
        target,
        options=options,
        interceptors=[ClientInterceptor(default_timeout)],  # type: ignore[list-item]
    )


class Channels:
    """A service's client channels, one per target, each opened on first use and all closed together.

    A channel must be made inside the running event loop, not when the
    composition root wires the service: :meth:`get` makes it on the first call
    (with :func:`make_channel`'s retries and default deadline), and
    :meth:`close` goes to the runtime's ``on_stop``.
    """

    def __init__(self) -> None:
        self._open: dict[str, grpc.aio.Channel] = {}

    def get(
        self, target: str, *, default_timeout: float = 5.0, idempotent: Sequence[tuple[str, str]] = ()
    ) -> grpc.aio.Channel:
        if target not in self._open:
            self._open[target] = make_channel(target, default_timeout=default_timeout, idempotent=idempotent)
        return self._open[target]

    async def close(self) -> None:
        for channel in self._open.values():
            await channel.close(grace=1.0)
        self._open.clear()
