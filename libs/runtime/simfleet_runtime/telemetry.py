"""Logs, traces and the metrics endpoint.

* JSON logs on stderr, one object per line, with the current trace and span id.
* OpenTelemetry traces, exported over OTLP/HTTP when the standard
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) variable is set;
  otherwise spans are still made (ids appear in logs and NATS headers) but not
  exported.
* Prometheus metrics served on their own port.
* Errors as logs and traces show them: a database error names its statement
  and the driver's error class, never the driver's message, which may quote the
  values bound to the statement (PostgreSQL's does); the engines hide the
  parameters themselves (``hide_parameters``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client import start_http_server
from sqlalchemy.exc import StatementError

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
_SCHEMA_DETAILS = ("sqlstate", "schema_name", "table_name", "column_name", "constraint_name")
MAX_STATEMENT_CHARS = 4000


def _chain(error: BaseException) -> list[tuple[BaseException, str, bool]]:
    """The error and what it came from, newest first: (exception, how it links to the newer one, withheld)."""
    chain: list[tuple[BaseException, str, bool]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link, withheld = "", False
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        # A statement error and what caused it (the driver's errors) are told without their messages.
        withheld = withheld or isinstance(current, StatementError)
        chain.append((current, link, withheld))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link, withheld = current.__context__, _CONTEXT, False
        else:
            current = None
    return chain


def _name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _withheld(error: BaseException) -> str:
    if isinstance(error, StatementError):
        statement = str(error.statement or "")[:MAX_STATEMENT_CHARS]
        return f"{_name(error)}: [SQL: {statement}] (the driver's message is withheld: it may quote bound values)"
    details = [f"{key}={value}" for key in _SCHEMA_DETAILS if (value := getattr(error, key, None))]
    return f"{_name(error)}: (message withheld{': ' + ', '.join(details) if details else ''})"


def error_text(error: BaseException) -> str:
    """One line about an error, safe for logs, traces and stored records (see the module's docstring)."""
    chain = _chain(error)
    if not any(withheld for _, _, withheld in chain):
        return f"{type(error).__name__}: {error}"
    return "; caused by ".join(_withheld(e) for e, link, withheld in chain if withheld and link != _CONTEXT)


def format_error(error: BaseException) -> str:
    """The error's traceback, each part of a database error told as :func:`error_text` tells it."""
    parts: list[str] = []
    chain = _chain(error)
    for index in range(len(chain) - 1, -1, -1):
        current, link, withheld = chain[index]
        if current.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(current.__traceback__))
        if withheld:
            parts.append(_withheld(current) + "\n")
        else:
            parts.extend(traceback.format_exception_only(type(current), current))
        parts.append(link)
    return "".join(parts).rstrip("\n")


def record_exception(span: trace.Span, error: BaseException) -> None:
    """``span.record_exception`` with the message and stack trace of :func:`error_text` and :func:`format_error`."""
    span.record_exception(
        error, attributes={"exception.message": error_text(error), "exception.stacktrace": format_error(error)}
    )


class _SafeExceptions(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        if ei and ei[1] is not None:
            return format_error(ei[1])
        return super().formatException(ei)


class PlainFormatter(_SafeExceptions):
    """Text lines (``log_json`` off), tracebacks told as :func:`format_error` tells them."""


_LOG_ENCODER = json.JSONEncoder(default=str)
"""``json.dumps(payload, default=str)``, without making an encoder for every line."""


class JsonFormatter(_SafeExceptions):
    """One JSON object per record, with trace context and any ``extra`` fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            payload["trace_id"] = format(span.trace_id, "032x")
            payload["span_id"] = format(span.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return _LOG_ENCODER.encode(payload)


def setup_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(PlainFormatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiosqlite", "asyncio", "nats", "mail.log", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


OTLP_PROTOCOL = "http/protobuf"
"""The one OTLP transport the services speak (a collector's port 4318)."""
DEFAULT_EXPORT_DELAY_MS = 500
"""How long finished spans wait before they are sent, unless ``OTEL_BSP_SCHEDULE_DELAY`` says otherwise."""


def otlp_configured() -> bool:
    return (
        bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        and os.environ.get("OTEL_TRACES_EXPORTER", "otlp") != "none"
        and os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true"
    )


def _otlp_protocol() -> str:
    return (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or OTLP_PROTOCOL
    ).strip()


def setup_tracing(service: str, environment: str) -> TracerProvider:
    """Install the process's tracer provider (:func:`tracer_provider`)."""
    provider = tracer_provider(service, environment)
    trace.set_tracer_provider(provider)
    return provider


def tracer_provider(service: str, environment: str) -> TracerProvider:
    """The process's tracer provider; it exports over OTLP when configured.

    The standard variables apply: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), ``..._HEADERS``, ``..._TIMEOUT``,
    ``..._COMPRESSION``, ``OTEL_TRACES_SAMPLER(_ARG)``, ``OTEL_BSP_*``,
    ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_SERVICE_NAME``; ``OTEL_TRACES_EXPORTER=none``
    or ``OTEL_SDK_DISABLED=true`` turn the export off. The transport is always
    OTLP/HTTP with protobuf bodies; another ``OTEL_EXPORTER_OTLP_PROTOCOL`` is
    reported and ignored.

    Without an export, spans are sampled out: none is recorded (attributes, events, timing: a good part
    of every call's CPU, for nothing), while each still gets its trace and span ids, which are in every
    log line and passed on in ``traceparent`` (not sampled).
    """
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME", service),
            "service.namespace": "simfleet",
            "deployment.environment.name": environment,
        }
    )
    if not otlp_configured():
        return TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=resource)
    protocol = _otlp_protocol()
    if protocol != OTLP_PROTOCOL:
        logging.getLogger(__name__).warning(
            "OTLP protocol %r is not supported; traces are sent as %s", protocol, OTLP_PROTOCOL
        )
    delay = None if os.environ.get("OTEL_BSP_SCHEDULE_DELAY") else DEFAULT_EXPORT_DELAY_MS
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), schedule_delay_millis=delay))
    return provider


def shutdown_tracing() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(5000)
        provider.shutdown()


def start_metrics_server(port: int, host: str = "127.0.0.1") -> Any:
    """Serve ``/metrics`` on ``host``:``port`` (in a daemon thread); returns the server."""
    if port <= 0:
        return None
    server, _thread = start_http_server(port, addr=host)
    return server


def messaging_attributes(
    operation_type: str, operation_name: str, subject: str, message_id: str, body_size: int
) -> dict[str, str | int]:
    """The OpenTelemetry messaging attributes of a span about one NATS message.

    ``operation_type`` is the convention's ``create``, ``send`` or ``process``;
    ``operation_name`` NATS's own word for it (``create``, ``publish``, ``process``).
    """
    return {
        "messaging.system": "nats",
        "messaging.operation.type": operation_type,
        "messaging.operation.name": operation_name,
        "messaging.destination.name": subject,
        "messaging.message.id": message_id,
        "messaging.message.body.size": body_size,
    }


def inject_headers(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Write the current trace context (``traceparent``) into message headers."""
    propagate.inject(headers)
    return headers


def extract_context(headers: Mapping[str, str] | None) -> Any:
    return propagate.extract(dict(headers or {}))
