"""Logs, traces and the metrics endpoint.

* JSON logs on stderr, one object per line, with the current trace and span id.
* OpenTelemetry traces, exported over OTLP/HTTP when the standard
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) variable is set;
  otherwise spans are still made (ids appear in logs and NATS headers) but not
  exported.
* Prometheus metrics served on their own port.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import start_http_server

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
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
        return json.dumps(payload, default=str)


def setup_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
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
    """Install the process's tracer provider; export over OTLP when configured.

    The standard variables apply: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), ``..._HEADERS``, ``..._TIMEOUT``,
    ``..._COMPRESSION``, ``OTEL_TRACES_SAMPLER(_ARG)``, ``OTEL_BSP_*``,
    ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_SERVICE_NAME``; ``OTEL_TRACES_EXPORTER=none``
    or ``OTEL_SDK_DISABLED=true`` turn the export off. The transport is always
    OTLP/HTTP with protobuf bodies; another ``OTEL_EXPORTER_OTLP_PROTOCOL`` is
    reported and ignored.
    """
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME", service),
            "service.namespace": "simfleet",
            "deployment.environment.name": environment,
        }
    )
    provider = TracerProvider(resource=resource)
    if otlp_configured():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        protocol = _otlp_protocol()
        if protocol != OTLP_PROTOCOL:
            logging.getLogger(__name__).warning(
                "OTLP protocol %r is not supported; traces are sent as %s", protocol, OTLP_PROTOCOL
            )
        delay = None if os.environ.get("OTEL_BSP_SCHEDULE_DELAY") else DEFAULT_EXPORT_DELAY_MS
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), schedule_delay_millis=delay))
    trace.set_tracer_provider(provider)
    return provider


def shutdown_tracing() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(5000)
        provider.shutdown()


def start_metrics_server(port: int, host: str = "0.0.0.0") -> Any:  # noqa: S104 - scraped from the pod network
    """Serve ``/metrics`` on ``port`` (in a daemon thread); returns the server."""
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
