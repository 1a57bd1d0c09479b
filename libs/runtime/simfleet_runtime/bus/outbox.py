"""The transactional outbox and its relay.

A use case calls :meth:`Outbox.add` with the session of its transaction: the
event row commits or rolls back with the change it describes. The relay
publishes committed rows to JetStream with ``Nats-Msg-Id`` = the event id (so a
republish after a crash is dropped by the server's duplicate window) and marks
them. A commit wakes the relay at once; it also polls, so nothing waits long.

A published row keeps its metadata (subject, id, times) for an hour, but not
its payload: marking it published empties the payload in the same statement.
A message marked ``sensitive`` (a one-time code) is never stored readable: its
payload is sealed (AES-GCM, :mod:`simfleet_runtime.sealing`, the event id as
associated data) before it is written, the relay opens it only to publish, and
the message carries ``Simfleet-Sensitive`` so that a consumer that dead-letters
it seals it too. A sensitive message only the service's own consumers read (a
work item such as an email to send) can stay sealed on the bus as well
(``sealed_on_bus``, header ``Simfleet-Sealed``): the stream never holds it
readable, and the service's consumer opens it with the same key.

Traces follow the OpenTelemetry messaging conventions. An event written inside
a trace gets a ``create <subject>`` span (PRODUCER, child of the use case's
span) whose context is stored with the row: it is the message's *creation
context*, carried in the message's ``traceparent``, and the parent of the
relay's ``publish <subject>`` span (CLIENT) and of every consumer's ``process
<subject>`` span. An event written outside any trace has no creation context
until the relay publishes it: its ``publish`` span (PRODUCER) starts a trace and
its context goes with the message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from google.protobuf.message import Message
from nats.js.client import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet_runtime import metrics, telemetry
from simfleet_runtime.bus import headers as h
from simfleet_runtime.bus.tables import BusTables
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, after_commit, is_sqlite
from simfleet_runtime.ids import new_id
from simfleet_runtime.sealing import Sealer

log = logging.getLogger(__name__)
tracer = trace.get_tracer("simfleet.bus")


def _create_span(subject: str, event_id: str, size: int) -> AbstractContextManager[Any]:
    """The "create" span of an event written inside a trace; nothing outside one."""
    if not trace.get_current_span().get_span_context().is_valid:
        return nullcontext()
    return tracer.start_as_current_span(
        f"create {subject}",
        kind=SpanKind.PRODUCER,
        attributes=telemetry.messaging_attributes("create", "create", subject, event_id, size),
    )


class Outbox:
    """Writes events into the outbox table inside the caller's transaction."""

    def __init__(self, tables: BusTables, clock: Clock, *, sealer: Sealer | None = None) -> None:
        self._table = tables.outbox
        self._insert = sa.insert(tables.outbox)  # built once; each row's values go as parameters
        self._clock = clock
        self._sealer = sealer
        self._committed = asyncio.Event()

    @property
    def committed(self) -> asyncio.Event:
        """Set after a transaction that wrote an event commits (the relay waits on it)."""
        return self._committed

    async def add(
        self,
        session: AsyncSession,
        subject: str,
        message: Message,
        *,
        tenant: str = "",
        event_id: str | None = None,
        sensitive: bool = False,
        sealed_on_bus: bool = False,
    ) -> str:
        """Write ``message`` in ``session``'s transaction.

        ``sensitive`` seals it at rest (a secret such as a one-time code);
        ``sealed_on_bus`` (implies ``sensitive``) keeps it sealed when published,
        for a message only this service's consumers read.
        """
        event_id = event_id or new_id()
        payload = message.SerializeToString()
        size = len(payload)
        headers: dict[str, str] = {}
        if sensitive or sealed_on_bus:
            if self._sealer is None:
                raise RuntimeError("this outbox has no sealer: it cannot take a sensitive message")
            payload = self._sealer.seal(payload, event_id.encode())
            headers[h.SENSITIVE] = "1"
            if sealed_on_bus:
                headers[h.SEALED] = "1"
        with _create_span(subject, event_id, size):
            telemetry.inject_headers(headers)  # the creation context (nothing outside a trace)
            await session.execute(
                self._insert,
                {
                    "id": event_id,
                    "subject": subject,
                    "event_type": message.DESCRIPTOR.full_name,
                    "payload": payload,
                    "headers": headers,
                    "tenant": tenant,
                    "created_at": self._clock.now(),
                    "attempts": 0,
                },
            )
        after_commit(session, self._committed.set)
        return event_id

    def published_payload(self, row: Any) -> bytes:
        """What the relay publishes for a row: the message, opened unless it stays sealed on the bus."""
        if (row["headers"] or {}).get(h.SEALED):
            stored: bytes = row["payload"]
            return stored
        return self.payload(row)

    def payload(self, row: Any) -> bytes:
        """The message bytes of an outbox row (a mapping with ``id``, ``payload``, ``headers``): opened if sealed."""
        stored: bytes = row["payload"]
        if not (row["headers"] or {}).get(h.SENSITIVE):
            return stored
        if self._sealer is None:
            raise RuntimeError("this outbox has no sealer: it cannot open a sensitive message")
        return self._sealer.open(stored, str(row["id"]).encode())


class OutboxRelay:
    """Publishes committed outbox rows in order of creation, marks them published and empties their payloads."""

    def __init__(
        self,
        *,
        db: Database,
        tables: BusTables,
        outbox: Outbox,
        js: JetStreamContext,
        clock: Clock,
        poll_seconds: float = 0.2,
        batch_size: int = 100,
        publish_timeout: float = 2.0,
        retention: timedelta = timedelta(hours=1),
    ) -> None:
        self._db = db
        self._table = tables.outbox
        self._outbox = outbox
        self._js = js
        self._clock = clock
        self._poll = poll_seconds
        self._batch = batch_size
        self._timeout = publish_timeout
        self._retention = retention
        self._last_purge = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            self._outbox.committed.clear()
            try:
                published, complete = await self.publish_pending()
                failures = 0 if complete else failures + 1
                await self._purge()
            except Exception:
                log.exception("outbox relay pass failed")
                failures += 1
                published, complete = 0, False
            if published >= self._batch and complete:
                continue  # a full batch: more rows may be waiting
            # A smaller batch took every row committed before the pass began; one committed
            # since has set ``committed`` again, so the wait below returns at once for it.
            wait = self._poll if failures == 0 else min(0.25 * 2**failures, 5.0)
            try:
                waiters = [asyncio.ensure_future(stop.wait())]
                if failures == 0:
                    waiters.append(asyncio.ensure_future(self._outbox.committed.wait()))
                _, pending = await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                for task in [*pending, *waiters]:
                    task.cancel()
            except asyncio.CancelledError:
                raise

    async def publish_pending(self) -> tuple[int, bool]:
        """Publish one batch; returns (how many published, whether all of them went)."""
        query = (
            sa.select(self._table)
            .where(self._table.c.published_at.is_(None))
            .order_by(self._table.c.created_at, self._table.c.id)
            .limit(self._batch)
        )
        if is_sqlite(self._db.url):
            published, complete = await self._publish_unlocked(query)
        else:
            published, complete = await self._publish_locked(query.with_for_update(skip_locked=True))
        if published >= self._batch:
            await self._refresh_backlog()
        elif complete:
            self._report_backlog(0, None)
        return published, complete

    async def _publish_locked(self, query: Any) -> tuple[int, bool]:
        """PostgreSQL: rows stay locked while they are published, so replicas share the work."""
        async with self._db.transaction() as session:
            rows = (await session.execute(query)).mappings().all()
            self._report_backlog(len(rows), rows[0]["created_at"] if rows else None)
            done, failed = await self._publish_rows(rows)
            await self._mark_published(session, done)
            for event_id, error in failed:
                await self._mark_failed(session, event_id, error)
        return len(done), not failed

    async def _publish_unlocked(self, query: Any) -> tuple[int, bool]:
        """SQLite (one process per file): publish outside any transaction.

        SQLite has a single writer; holding its lock while waiting for NATS
        would stall every use case of the service behind the relay.
        """
        async with self._db.sessions() as session:
            rows = (await session.execute(query)).mappings().all()
        self._report_backlog(len(rows), rows[0]["created_at"] if rows else None)
        done, failed = await self._publish_rows(rows)
        if done or failed:
            async with self._db.transaction() as session:
                await self._mark_published(session, done)
                for event_id, error in failed:
                    await self._mark_failed(session, event_id, error)
        return len(done), not failed

    async def _publish_rows(self, rows: Sequence[Any]) -> tuple[list[str], list[tuple[str, str]]]:
        """Publish a batch in order: the first row alone, then the others together (acks awaited side by side).

        The first row goes alone so that a row JetStream keeps refusing, which is
        the first of every later batch, holds back the rows behind it. The others
        are written to the connection in order and their acks awaited together:
        a batch costs two round trips to the server, not one per row. Should one
        of them fail, the ones sent with it are on the stream already and are
        marked so (sending them again would only be a duplicate the server drops).
        """
        if not rows:
            return [], []
        error = await self._publish(rows[0])
        if error is not None:
            return [], [(rows[0]["id"], error)]
        done = [rows[0]["id"]]
        failed: list[tuple[str, str]] = []
        rest = rows[1:]
        if rest:
            errors = await asyncio.gather(*(self._publish(row) for row in rest))
            for row, error in zip(rest, errors, strict=True):
                if error is None:
                    done.append(row["id"])
                else:
                    failed.append((row["id"], error))
        return done, failed

    async def _mark_published(self, session: AsyncSession, ids: list[str]) -> None:
        if ids:
            await session.execute(
                sa.update(self._table)
                .where(self._table.c.id.in_(ids))
                # The payload goes at once (a published message lives on in the stream): what stays
                # for inspection until the purge is the row's metadata.
                .values(
                    published_at=self._clock.now(),
                    payload=b"",
                    attempts=self._table.c.attempts + 1,
                    last_error=None,
                )
            )

    async def _mark_failed(self, session: AsyncSession, event_id: str, error: str) -> None:
        await session.execute(
            sa.update(self._table)
            .where(self._table.c.id == event_id)
            .values(attempts=self._table.c.attempts + 1, last_error=error[:4000])
        )

    async def _publish(self, row: Any) -> str | None:
        """Publish one row; returns None when JetStream acknowledged it, else the error."""
        stored: dict[str, str] = dict(row["headers"] or {})
        creation = telemetry.extract_context(stored)
        created = trace.get_current_span(creation).get_span_context().is_valid
        subject = row["subject"]
        try:
            payload = self._outbox.published_payload(row)
        except Exception as exc:  # noqa: BLE001 - another key or altered bytes: the row stays, and says why
            metrics.NATS_PUBLISH_FAILED.labels(subject).inc()
            log.error("a sealed outbox payload does not open", extra={"subject": subject, "event_id": row["id"]})
            return f"sealed payload does not open (was the sealing key changed?): {type(exc).__name__}"
        with tracer.start_as_current_span(
            f"publish {subject}",
            context=creation,
            # After a "create" span this one is a call to the server; for an event
            # written outside any trace it is the creation context: a PRODUCER.
            kind=SpanKind.CLIENT if created else SpanKind.PRODUCER,
            attributes=telemetry.messaging_attributes("send", "publish", subject, row["id"], len(payload)),
        ) as span:
            headers = dict(stored)
            if not created:
                telemetry.inject_headers(headers)
            headers.update({h.MSG_ID: row["id"], h.EVENT_TYPE: row["event_type"], h.TENANT: row["tenant"] or ""})
            try:
                ack = await self._js.publish(subject, payload, timeout=self._timeout, headers=headers)
            except Exception as exc:  # noqa: BLE001 - the row stays and is tried again
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
                metrics.NATS_PUBLISH_FAILED.labels(subject).inc()
                log.warning(
                    "publish failed, will retry", extra={"subject": subject, "event_id": row["id"], "error": str(exc)}
                )
                return f"{type(exc).__name__}: {exc}"
            span.set_attribute("messaging.nats.stream", ack.stream)
            span.set_attribute("messaging.nats.duplicate", bool(ack.duplicate))
        metrics.NATS_PUBLISHED.labels(subject).inc()
        return None

    def _report_backlog(self, count: int, oldest: Any) -> None:
        metrics.OUTBOX_BACKLOG.set(count)
        age = (self._clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        metrics.OUTBOX_OLDEST_SECONDS.set(max(age, 0.0))

    async def _refresh_backlog(self) -> None:
        async with self._db.sessions() as session:
            count, oldest = (
                await session.execute(
                    sa.select(sa.func.count(), sa.func.min(self._table.c.created_at)).where(
                        self._table.c.published_at.is_(None)
                    )
                )
            ).one()
        self._report_backlog(int(count), oldest)

    async def _purge(self) -> None:
        """Published rows (their payloads emptied) are kept an hour for inspection, then deleted."""
        now = self._clock.timestamp()
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        cutoff = self._clock.now() - self._retention
        async with self._db.transaction() as session:
            await session.execute(
                sa.delete(self._table).where(
                    self._table.c.published_at.is_not(None), self._table.c.published_at < cutoff
                )
            )
