"""Idempotent durable pull consumers.

A :class:`DurableConsumer` pulls from its stream, and for each message runs the
handler and records the event id in ``processed_events`` in one transaction,
then acks. A redelivered message whose id is
already recorded is acked without running the handler again. A failing handler
is retried with growing delays (``nak(delay)``); after the last allowed delivery
the message is written to ``dead_letters``, counted, and terminated. A message
marked ``Simfleet-Sensitive`` (it carries a secret) is dead-lettered sealed
with the service's sealer, never readable (without a sealer, without its
payload). A message marked ``Simfleet-Sealed`` (sealed by this service's own
outbox) is opened before the handler sees it; one that does not open is
dead-lettered at once, as it came.

An optional ``before`` hook runs ahead of that transaction, holding no database
connection: the place to wait or slow down (a simulated network's latency, an
outage) without stalling other writers. While it runs, the message's ack
deadline is kept alive (``in_progress``), so a long wait is neither redelivered
nor counted as a delivery; when the consumer is stopped meanwhile, the hook is
abandoned and the message handed back (``nak``) for the next process. A hook
must therefore change nothing that matters when the message comes again; an
error it raises counts as a failed attempt, like the handler's.

With a ``group_handler``, the messages of one fetch are taken ``group_size``
at a time in ONE transaction: each event id claimed, the handler given the
new ones together, one commit, then each acked. A consumer whose work per
message has a fixed part (reading the same rows, a commit) pays it once per
group. A group whose transaction fails changes nothing; its messages are then
handled one by one (``handler``) as without groups, so one bad message is
retried or dead-lettered on its own, never holding the others. A fetch holding
a redelivered message, or a sealed one that does not open, goes one by one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet_runtime import metrics, telemetry
from simfleet_runtime.bus import headers as h
from simfleet_runtime.bus.tables import BusTables
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.ids import new_id
from simfleet_runtime.sealing import Sealer, SealError

log = logging.getLogger(__name__)
tracer = trace.get_tracer("simfleet.bus")


@dataclass(frozen=True)
class Event:
    """A message as a handler sees it."""

    id: str
    subject: str
    data: bytes
    headers: dict[str, str]
    tenant: str
    deliveries: int


EventHandler = Callable[[AsyncSession, Event], Awaitable[None]]
GroupHandler = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]
"""Handles several new events in one transaction (see the module's notes)."""
BeforeHook = Callable[[Event], Awaitable[None]]
"""Runs before the handler's transaction, outside it (see the module's notes)."""


def each_in_turn(handler: EventHandler) -> GroupHandler:
    """A group handler that runs ``handler`` on each event of the group in turn, in the group's one transaction.

    For a consumer whose events are independent and whose cost per event is mostly the fixed part (the
    transaction, its commit, the fetch): grouped, the many pay it once. A handler raising for one event
    fails the group, which is then handled one by one, so only that event is retried or dead-lettered.
    """

    async def handle_group(session: AsyncSession, events: Sequence[Event]) -> None:
        for event in events:
            await handler(session, event)

    return handle_group


class PermanentError(Exception):
    """Raised by a handler for a message that can never succeed: dead-lettered at once."""


class DurableConsumer:
    def __init__(
        self,
        *,
        name: str,
        stream: str,
        subject: str,
        handler: EventHandler,
        db: Database,
        tables: BusTables,
        js: JetStreamContext,
        clock: Clock,
        max_deliver: int = 8,
        backoff: Sequence[float] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
        batch_size: int = 16,
        ack_wait_seconds: float = 30.0,
        in_transaction: bool = True,
        before: BeforeHook | None = None,
        sealer: Sealer | None = None,
        group_handler: GroupHandler | None = None,
        group_size: int = 1,
    ) -> None:
        if group_handler is not None and not in_transaction:
            raise ValueError("a group handler runs in the consumer's transaction")
        self.name = name
        self._group_handler = group_handler
        self._group_size = max(group_size, 1) if group_handler is not None else 1
        self._stream = stream
        self._subject = subject
        self._handler = handler
        self._db = db
        self._tables = tables
        self._js = js
        self._clock = clock
        self._max_deliver = max_deliver
        self._backoff = list(backoff) or [1.0]
        self._batch = batch_size
        self._ack_wait = ack_wait_seconds
        self._in_transaction = in_transaction
        self._before = before
        self._sealer = sealer
        self._stop: asyncio.Event | None = None

    def _config(self) -> ConsumerConfig:
        # The server redelivers without limit; this class bounds the deliveries
        # itself so that the last one is always dead-lettered, never dropped.
        return ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._ack_wait,
            max_ack_pending=1000,
            filter_subject=self._subject,
        )

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        subscription = None
        last_lag_check = 0.0
        while not stop.is_set():
            try:
                if subscription is None:
                    subscription = await self._js.pull_subscribe(
                        self._subject, durable=self.name, stream=self._stream, config=self._config()
                    )
                try:
                    messages = await subscription.fetch(self._batch, timeout=1.0)
                except (TimeoutError, NatsTimeoutError):
                    messages = []
                if self._group_size > 1:
                    for start in range(0, len(messages), self._group_size):
                        await self.handle_group(messages[start : start + self._group_size])
                else:
                    for msg in messages:
                        await self.handle(msg)
                now = self._clock.timestamp()
                if now - last_lag_check > 5:
                    last_lag_check = now
                    info = await subscription.consumer_info()
                    metrics.NATS_CONSUMER_PENDING.labels(self.name).set(info.num_pending or 0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnects and server restarts end up here
                log.warning("consumer %s: %s; retrying", self.name, exc)
                await asyncio.sleep(1.0)
        if subscription is not None:
            try:
                await subscription.unsubscribe()
            except Exception:
                log.debug("unsubscribe failed", exc_info=True)

    async def handle_group(self, msgs: Sequence[Msg]) -> None:
        """Handle ``msgs`` in one transaction when they can be; else one by one (see the module's notes)."""
        assert self._group_handler is not None
        events = [self._event(msg) for msg in msgs]
        if len(msgs) < 2 or any(unopened is not None or event.deliveries > 1 for event, unopened in events):
            for msg in msgs:
                await self.handle(msg)
            return
        links = [
            trace.Link(trace.get_current_span(telemetry.extract_context(event.headers)).get_span_context())
            for event, _ in events
        ]
        with tracer.start_as_current_span(
            f"process {msgs[0].subject}",
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.operation.type": "process",
                "messaging.system": "nats",
                "messaging.destination.name": msgs[0].subject,
                "messaging.batch.message_count": len(msgs),
                "messaging.consumer.group.name": self.name,
            },
        ) as span:
            try:
                if self._before is not None and not await self._run_before(msgs[0], events[0][0]):
                    # Stopped while the hook waited: nothing was applied; the next process takes them.
                    span.set_attribute("messaging.nats.handed_back", True)
                    for msg in msgs:
                        try:
                            await msg.nak()
                        except Exception as exc:  # noqa: BLE001 - unacked, it comes again after the ack wait
                            log.debug("nak not sent: %s", exc)
                    return
                applied = await self._apply_group([event for event, _ in events])
            except Exception as exc:  # noqa: BLE001 - each message is then handled on its own
                telemetry.record_exception(span, exc)
                log.warning(
                    "a group of %d messages failed; handling them one by one",
                    len(msgs),
                    extra={"consumer": self.name, "error": telemetry.error_text(exc)},
                )
                for msg in msgs:
                    await self.handle(msg)
                return
        for msg, (event, _) in zip(msgs, events, strict=True):
            try:
                await msg.ack()
            except Exception as exc:  # noqa: BLE001 - the change is committed; a redelivery is a no-op
                log.warning(
                    "ack not confirmed; the message may come again", extra={"event_id": event.id, "error": str(exc)}
                )
            metrics.NATS_CONSUMED.labels(self.name, "applied" if event.id in applied else "duplicate").inc()

    async def _apply_group(self, events: Sequence[Event]) -> set[str]:
        """Claim every event id and hand the new events to the group handler, in one transaction."""
        assert self._group_handler is not None
        async with self._db.transaction() as session:
            fresh = []
            claim = insert_ignoring_conflicts(session, self._tables.processed_events)
            now = self._clock.now()
            for event in events:
                claimed = await session.execute(
                    claim, {"consumer": self.name, "event_id": event.id, "processed_at": now}
                )
                if claimed.rowcount:  # type: ignore[attr-defined]
                    fresh.append(event)
            if fresh:
                await self._group_handler(session, fresh)
        return {event.id for event in fresh}

    def _event(self, msg: Msg) -> tuple[Event, PermanentError | None]:
        headers = dict(msg.headers or {})
        meta = msg.metadata
        event_id = headers.get(h.MSG_ID) or f"{meta.stream}:{meta.sequence.stream}"
        data, unopened = msg.data, None
        if headers.get(h.SEALED):
            try:
                if self._sealer is None:
                    raise SealError("this consumer has no sealer")
                data = self._sealer.open(msg.data, event_id.encode())
            except SealError as exc:
                unopened = PermanentError(f"the sealed message does not open: {exc}")
        event = Event(
            id=event_id,
            subject=msg.subject,
            data=data,
            headers=headers,
            tenant=headers.get(h.TENANT, ""),
            deliveries=meta.num_delivered,
        )
        return event, unopened

    async def handle(self, msg: Msg) -> None:
        event, unopened = self._event(msg)
        headers = event.headers
        event_id = event.id
        if unopened is not None:
            await self._fail(msg, event, unopened, opened=False)
            return
        if event.deliveries > 1:
            metrics.NATS_REDELIVERED.labels(self.name).inc()
        # The parent is the message's creation context (the producer's "create"
        # span, or its "publish" span for an event written outside any trace).
        creation = telemetry.extract_context(headers)
        with tracer.start_as_current_span(
            f"process {msg.subject}",
            context=creation,
            kind=SpanKind.CONSUMER,
            attributes={
                **telemetry.messaging_attributes("process", "process", msg.subject, event_id, len(msg.data)),
                "messaging.consumer.group.name": self.name,
                "messaging.nats.deliveries": event.deliveries,
            },
        ) as span:
            try:
                handed_back = self._before is not None and not await self._run_before(msg, event)
                applied = False if handed_back else await self._apply(event)
            except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
                telemetry.record_exception(span, exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, telemetry.error_text(exc)))
                await self._fail(msg, event, exc)
                return
            if handed_back:
                # Stopped while the hook waited: nothing was applied; the next process takes it.
                span.set_attribute("messaging.nats.handed_back", True)
                try:
                    await msg.nak()
                except Exception as exc:  # noqa: BLE001 - unacked, it comes again after the ack wait
                    log.debug("nak not sent: %s", exc)
                return
            try:
                # The change and its event id are committed: a lost ack only
                # means a redelivery, which the processed-events record absorbs.
                await msg.ack()
            except Exception as exc:  # noqa: BLE001 - the change is committed; a redelivery is a no-op
                log.warning(
                    "ack not confirmed; the message may come again", extra={"event_id": event_id, "error": str(exc)}
                )
            metrics.NATS_CONSUMED.labels(self.name, "applied" if applied else "duplicate").inc()

    async def _run_before(self, msg: Msg, event: Event) -> bool:
        """Run the before hook, keeping the message's ack deadline alive; False when the consumer stops first."""
        assert self._before is not None
        hook = asyncio.ensure_future(self._before(event))
        stopping = asyncio.ensure_future(self._stop.wait()) if self._stop is not None else None
        waiting: list[asyncio.Future[Any]] = [hook] if stopping is None else [hook, stopping]
        try:
            while True:
                done, _ = await asyncio.wait(
                    waiting, timeout=max(self._ack_wait / 3, 0.05), return_when=asyncio.FIRST_COMPLETED
                )
                if hook in done:
                    hook.result()  # the hook's own error is a failed attempt
                    return True
                if stopping is not None and stopping in done:
                    return False
                try:
                    await msg.in_progress()
                except Exception as exc:  # noqa: BLE001 - at worst the message comes again (and is a duplicate)
                    log.debug("in_progress not sent: %s", exc)
        finally:
            if stopping is not None:
                stopping.cancel()
            if not hook.done():
                hook.cancel()
                await asyncio.gather(hook, return_exceptions=True)

    async def _apply(self, event: Event) -> bool:
        if not self._in_transaction:
            return await self._apply_outside_transaction(event)
        async with self._db.transaction() as session:
            # Claim the event id first: a redelivery finds it taken and changes
            # nothing; a failing handler rolls the claim back with its change.
            claimed = await session.execute(
                insert_ignoring_conflicts(session, self._tables.processed_events),
                {"consumer": self.name, "event_id": event.id, "processed_at": self._clock.now()},
            )
            if claimed.rowcount == 0:  # type: ignore[attr-defined]
                return False
            await self._handler(session, event)
        return True

    async def _apply_outside_transaction(self, event: Event) -> bool:
        """For handlers whose effect is outside the database (e.g. handing mail to a relay).

        The handler runs without holding a transaction open (a slow peer must
        not hold the database), then the event id is recorded. A crash between
        the two repeats the effect on redelivery: at least once, not exactly once.
        """
        async with self._db.sessions() as session:
            if await self._seen(session, event.id):
                return False
        async with self._db.sessions() as session:
            await self._handler(session, event)
            await session.commit()
        async with self._db.transaction() as session:
            await self._record(session, event.id)
        return True

    async def _seen(self, session: AsyncSession, event_id: str) -> bool:
        processed = self._tables.processed_events
        count = await session.scalar(
            sa.select(sa.func.count())
            .select_from(processed)
            .where(processed.c.consumer == self.name, processed.c.event_id == event_id)
        )
        return bool(count)

    async def _record(self, session: AsyncSession, event_id: str) -> None:
        await session.execute(
            sa.insert(self._tables.processed_events).values(
                consumer=self.name, event_id=event_id, processed_at=self._clock.now()
            )
        )

    async def _fail(self, msg: Msg, event: Event, exc: Exception, *, opened: bool = True) -> None:
        final = isinstance(exc, PermanentError) or event.deliveries >= self._max_deliver
        if not final:
            delay = self._backoff[min(event.deliveries - 1, len(self._backoff) - 1)]
            log.warning(
                "handler failed; redelivery in %.1fs",
                delay,
                extra={
                    "consumer": self.name,
                    "event_id": event.id,
                    "deliveries": event.deliveries,
                    "error": telemetry.error_text(exc),
                },
            )
            await msg.nak(delay=delay)
            metrics.NATS_CONSUMED.labels(self.name, "retried").inc()
            return
        log.error(
            "message dead-lettered",
            extra={
                "consumer": self.name,
                "event_id": event.id,
                "deliveries": event.deliveries,
                "error": telemetry.error_text(exc),
            },
        )
        payload = event.data
        if event.headers.get(h.SENSITIVE) and opened:
            # A secret (a one-time code) is never stored readable; the id binds it to its event.
            payload = self._sealer.seal(payload, event.id.encode()) if self._sealer is not None else b""
        async with self._db.transaction() as session:
            await session.execute(
                sa.insert(self._tables.dead_letters).values(
                    id=new_id(),
                    consumer=self.name,
                    subject=event.subject,
                    event_id=event.id,
                    payload=payload,
                    headers=event.headers,
                    error=telemetry.error_text(exc)[:4000],
                    deliveries=event.deliveries,
                    created_at=self._clock.now(),
                )
            )
        await msg.term()
        metrics.NATS_DEAD_LETTERED.labels(self.name).inc()
        metrics.NATS_CONSUMED.labels(self.name, "dead_lettered").inc()
