"""The process's tracer provider: spans recorded when they are exported, only their context otherwise."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id

from simfleet_runtime import telemetry
from simfleet_runtime.telemetry import tracer_provider


@pytest.fixture
def no_export(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_SAMPLER"):
        monkeypatch.delenv(name, raising=False)


def test_without_an_export_spans_are_not_recorded_but_keep_their_ids(no_export: None) -> None:
    provider = tracer_provider("svc", "test")
    tracer = provider.get_tracer("t")

    with tracer.start_as_current_span("outer") as outer, tracer.start_as_current_span("inner") as inner:
        assert not outer.is_recording() and not inner.is_recording()
        outer_context, inner_context = outer.get_span_context(), inner.get_span_context()
        assert outer_context.is_valid and inner_context.is_valid
        assert inner_context.trace_id == outer_context.trace_id
        assert inner_context.span_id != outer_context.span_id
        assert not inner_context.trace_flags.sampled
    provider.shutdown()


def test_the_log_line_of_an_unrecorded_span_names_its_trace(no_export: None) -> None:
    provider = tracer_provider("svc", "test")
    formatter = telemetry.JsonFormatter("svc")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)

    with trace.use_span(provider.get_tracer("t").start_span("s"), end_on_exit=True) as span:
        line = formatter.format(record)
    context = span.get_span_context()
    assert f'"trace_id": "{format_trace_id(context.trace_id)}"' in line
    assert f'"span_id": "{format_span_id(context.span_id)}"' in line
    provider.shutdown()


def test_with_an_export_spans_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    provider = tracer_provider("svc", "test")

    span = provider.get_tracer("t").start_span("s")
    assert span.is_recording()
    assert span.get_span_context().trace_flags.sampled
    # Never ended, so nothing is sent to the address above when the provider shuts down.
    provider.shutdown()
