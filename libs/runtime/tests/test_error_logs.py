"""Database errors in logs, traces and dead letters: the statement and the driver's error class, no bound value.

PostgreSQL's driver quotes values in its messages (``invalid input for query
argument $1: '...'``, ``Key (id)=(...) already exists``), which the engine's
``hide_parameters`` does not reach: what the runtime writes about an error
withholds them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simfleet_runtime import telemetry
from simfleet_runtime.db import Database

SECRET = "s3cret-bound-value-7f"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def duplicate_note(db: Database, notes: sa.Table) -> sa.exc.IntegrityError:
    """A unique violation whose key is the secret (PostgreSQL's message quotes the key)."""
    async with db.transaction() as session:
        await session.execute(notes.insert().values(id=SECRET, text=SECRET, created_at=T0))
    with pytest.raises(sa.exc.IntegrityError) as caught:
        async with db.transaction() as session:
            await session.execute(notes.insert().values(id=SECRET, text=SECRET, created_at=T0))
    assert "hidden" in str(caught.value)  # the engine hides the parameters themselves
    return caught.value


def logged(error: BaseException, formatter: logging.Formatter) -> str:
    try:
        raise RuntimeError("the call failed") from error
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "unhandled error in %s", ("/x",), sys.exc_info())
    return formatter.format(record)


async def test_a_database_error_is_logged_with_its_statement_and_no_bound_value(db: Database, notes: sa.Table) -> None:
    error = await duplicate_note(db, notes)
    for formatter in (telemetry.JsonFormatter("rt"), telemetry.PlainFormatter("%(message)s")):
        text = logged(error, formatter)
        assert SECRET not in text
        assert "INSERT INTO rt_notes" in text
        assert "IntegrityError" in text
        assert "Traceback (most recent call last)" in text
        assert "RuntimeError: the call failed" in text  # what is not a database error is told as ever
    line = json.loads(logged(error, telemetry.JsonFormatter("rt")))
    assert line["message"] == "unhandled error in /x"
    assert SECRET not in telemetry.error_text(error)
    assert telemetry.error_text(ValueError("bad note")) == "ValueError: bad note"


async def test_a_driver_message_quoting_a_value_stays_out_of_traces(db: Database) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # A value of the wrong type for its parameter: PostgreSQL's driver quotes it, SQLite's converts it.
    statement = sa.select(sa.literal(SECRET, sa.Integer) + 1) if db.url.startswith("postgresql") else None
    try:
        if statement is None:
            raise sa.exc.DBAPIError.instance(
                "SELECT ? + 1", (SECRET,), ValueError(f"invalid input: {SECRET!r}"), Exception, hide_parameters=True
            )
        async with db.sessions() as session:
            await session.execute(statement)
    except sa.exc.DBAPIError as error:
        with provider.get_tracer("t").start_as_current_span("call") as span:
            telemetry.record_exception(span, error)
    else:
        pytest.fail("the statement did not fail")
    [event] = exporter.get_finished_spans()[0].events
    assert event.attributes is not None
    assert "SELECT" in str(event.attributes["exception.message"])
    for value in event.attributes.values():
        assert SECRET not in str(value)
