"""The engine that runs operations: start what is due, send items to the network, apply its answers.

Every step is one transaction, so a crash anywhere loses nothing and repeats
nothing:

* **start**: a due operation's selection is resolved (within the scope its
  requester had) into items, and it turns ``running``;
* **send**: a window of pending items is checked line by line (skipped,
  failed, or changed by inventory alone), the rest turn ``in_progress``, their
  lines are marked as being changed, and the HLR items go into provisioning
  commands written to the outbox in the same transaction (the relay publishes
  them with their id as ``Nats-Msg-Id``);
* **answer**: the consumer of the network's results completes each item's line
  or undoes what it reserved, in the transaction that records the result's
  event id (a redelivered result changes nothing), and an operation with no
  item left open ends.

netsim applies each item at most once (by item id), so a command published
twice — after a crash between the publish and its mark — changes nothing twice.
At most ``max_in_flight`` items of an operation are in the network at once; a
cancelled operation stops sending and skips what it had not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory import figures
from inventory import metrics as m
from inventory.convert import line_event, operation_event
from inventory.lines.models import Line, LineLabel
from inventory.operations.actions import ACTIONS, Context, Prepared, Refusal
from inventory.operations.ending import (
    CANCELLED_CODE,
    CANCELLED_UNSENT,
    count_finished,
    end_item,
    finish,
    skip_pending,
)
from inventory.operations.identity_client import RequesterAuthority
from inventory.operations.models import (
    FAILED,
    IN_PROGRESS,
    ITEM_FAILED,
    PENDING,
    RUNNING,
    SCHEDULED,
    SKIPPED,
    SUCCEEDED,
    Item,
    Operation,
    TargetChunk,
)
from inventory.operations.nodes import node_path_ids, node_paths
from inventory.operations.records import (
    ItemRow,
    LineRow,
    insert_pending_items,
    insert_rows,
    load,
    write_changes,
)
from inventory.scope import in_roots, nodes_under
from simfleet.events.v1 import inventory_pb2 as ev
from simfleet.events.v1 import netsim_pb2 as net_events
from simfleet.netsim.v1 import hlr_pb2, smsc_pb2
from simfleet_runtime.bus import Event, EventHandler, Outbox, PermanentError
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, after_commit, is_sqlite
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import InventorySubjects, NetsimSubjects

log = logging.getLogger(__name__)

RECHECK_AFTER = timedelta(seconds=60)
"""An operation scheduled this long after it was accepted asks identity, when it starts, what its requester holds."""


def narrow_roots(then: Sequence[str], now: Sequence[str], paths: dict[str, tuple[str, ...]]) -> list[str]:
    """The subtrees inside both a root of ``then`` and a root of ``now`` (``paths``: node → its path)."""
    kept: list[str] = []
    for a in then:
        for b in now:
            pa, pb = paths.get(a), paths.get(b)
            if pa is None or pb is None:
                continue
            if a in pb:  # b lies in a's subtree
                kept.append(b)
            elif b in pa:  # a lies in b's subtree
                kept.append(a)
    return list(dict.fromkeys(kept))


FAILURES = {
    hlr_pb2.PROVISIONING_FAILURE_UNKNOWN_SUBSCRIBER: "unknown_subscriber",
    hlr_pb2.PROVISIONING_FAILURE_NUMBER_IN_USE: "number_in_use",
    hlr_pb2.PROVISIONING_FAILURE_SIM_IN_USE: "sim_in_use",
    hlr_pb2.PROVISIONING_FAILURE_REJECTED: "rejected",
    hlr_pb2.PROVISIONING_FAILURE_SYSTEM_FAILURE: "system_failure",
}
EVENT_CHUNK = 1000


class Engine:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        wake: asyncio.Event,
        max_lines: int,
        batch_size: int,
        max_in_flight: int,
        poll_seconds: float,
        quarantine_days: int,
        authority: RequesterAuthority | None = None,
        recheck_after: timedelta = RECHECK_AFTER,
    ) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._wake = wake
        self._authority = authority
        self._recheck_after = recheck_after
        self._max_lines = max_lines
        self._batch = max(1, batch_size)
        self._window = max(1, max_in_flight)
        self._poll = poll_seconds
        self._quarantine_days = quarantine_days
        self._locking = not is_sqlite(db.url)

    # ------------------------------------------------------------ the loop
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            busy = False
            try:
                busy = await self.step()
            except Exception:
                log.exception("operation engine pass failed")
            if busy:
                await asyncio.sleep(0)
                continue
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def step(self) -> bool:
        """One pass: start due operations, then send one window per running operation; True when it did work."""
        started = await self._start_due()
        sent = await self._send_all()
        return started or sent

    def _lock(self, query: sa.Select[Any]) -> sa.Select[Any]:
        return query.with_for_update(skip_locked=True) if self._locking else query

    # ------------------------------------------------------------ start
    async def _start_due(self) -> bool:
        now = self._clock.now()
        async with self._db.sessions() as session:
            due = list(
                await session.scalars(
                    sa.select(Operation.id)
                    .where(Operation.state == SCHEDULED, Operation.scheduled_at <= now)
                    .order_by(Operation.scheduled_at, Operation.id)
                    .limit(10)
                )
            )
        started = False
        for operation_id in due:
            started = await self._start(operation_id) or started
        return started

    async def _start(self, operation_id: str) -> bool:
        """Start one due operation; False when it must wait (its requester's access cannot be checked now)."""
        try:
            narrowed = await self._requester_scope(operation_id)
        except Exception as exc:  # noqa: BLE001 - identity unreachable: the operation waits for a later pass
            log.warning("operation %s waits: its requester's access cannot be checked now (%s)", operation_id, exc)
            return False
        async with self._db.transaction() as session:
            op = await session.scalar(self._lock(sa.select(Operation).where(Operation.id == operation_id)))
            if op is None or op.state != SCHEDULED:
                return False
            now = self._clock.now()
            op.state, op.started_at, op.updated_at = RUNNING, now, now
            await self._expand_targets(session, op, now)
            if narrowed is not None and list(narrowed) != list(op.scope_roots):
                # The requester lost part of the authority they had when scheduling it: the operation
                # runs with what they hold now, and lines beyond it are refused item by item.
                op.scope_roots = list(narrowed)
                if not narrowed:
                    op.error = "the requester may no longer do this: every line is refused"
                    await skip_pending(
                        session, op, now, code="REQUESTER_NOT_ALLOWED", reason="the requester may no longer do this"
                    )
            if op.selection is not None:
                count = await self._resolve(session, op, now)
                if count > self._max_lines:
                    await session.execute(sa.delete(Item).where(Item.operation_id == op.id))
                    op.error = (
                        f"the selection holds {count} lines, more than the {self._max_lines} one operation may change"
                    )
                    op.total = op.pending = 0
                    await finish(session, self._outbox, op, now, state=FAILED)
                    return True
            await self._outbox.add(
                session, InventorySubjects.OPERATION_STARTED, operation_event(op, now), tenant=op.customer_id
            )
            if op.pending == 0 and op.in_progress == 0:
                await finish(session, self._outbox, op, now)
        return True

    async def _expand_targets(self, session: AsyncSession, op: Operation, now: datetime) -> int:
        """The next chunk of a large operation's numbers, kept as accepted, becomes pending items now.

        One chunk (10,000 numbers) per transaction: the engine calls this as the operation starts and
        whenever it runs short of pending items, so the 200,000 items of the largest operation never hold
        the database in one go. The number of items made (0: none was left).
        """
        chunk = (
            await session.execute(
                sa.select(TargetChunk.chunk, TargetChunk.first_position, TargetChunk.targets)
                .where(TargetChunk.operation_id == op.id)
                .order_by(TargetChunk.chunk)
                .limit(1)
            )
        ).first()
        if chunk is None:
            return 0
        number, first, targets = chunk
        items = [(msisdn, None, params) for msisdn, params in targets]
        await insert_pending_items(session, op.id, items, now, first_position=first)
        await session.execute(
            sa.delete(TargetChunk).where(TargetChunk.operation_id == op.id, TargetChunk.chunk == number)
        )
        return len(items)

    async def _requester_scope(self, operation_id: str) -> list[str] | None:
        """For an operation scheduled a while ago: its scope cut down to what its requester holds now.

        None when no check is due (an operation started as soon as it was accepted runs on the check made
        then). A disabled requester, or one who lost the permission everywhere, holds nothing: ``[]``.
        """
        if self._authority is None:
            return None
        async with self._db.sessions() as session:
            op = await session.get(Operation, operation_id)
            if op is None or op.state != SCHEDULED or not op.requested_by:
                return None
            if op.scheduled_at - op.created_at < self._recheck_after:
                return None
            customer, requester, then = op.customer_id, op.requested_by, list(op.scope_roots)
            permission = ACTIONS[op.type].permission_for(op.params)
        now = await self._authority.access(customer, requester)
        async with self._db.sessions() as session:
            paths = await node_path_ids(session, customer, [*then, *now.roots(permission)])
        return narrow_roots(then, list(now.roots(permission)), paths)

    async def _resolve(self, session: AsyncSession, op: Operation, now: datetime) -> int:
        """The selection's lines, now, within the requester's scope: one pending item each."""
        sel = op.selection or {}
        within = None
        if sel.get("node_id"):
            within = (await node_paths(session, op.customer_id, [sel["node_id"]])).get(sel["node_id"])
            if within is None:
                return 0  # the node went away before the operation started
        query = sa.select(Line.id, Line.msisdn).where(
            Line.customer_id == op.customer_id,
            Line.node_id.in_(nodes_under(op.customer_id, op.scope_roots, within=within)),
        )
        if sel.get("states"):
            query = query.where(Line.state.in_(sel["states"]))
        if sel.get("tariff_code"):
            query = query.where(Line.tariff_code == sel["tariff_code"])
        if sel.get("group"):
            query = query.where(Line.group_name == sel["group"])
        if sel.get("label"):
            query = query.where(Line.id.in_(sa.select(LineLabel.line_id).where(LineLabel.label == sel["label"])))
        rows = (await session.execute(query.order_by(Line.msisdn).limit(self._max_lines + 1))).all()
        if len(rows) > self._max_lines:
            return len(rows)
        await insert_pending_items(session, op.id, [(msisdn, line_id, {}) for line_id, msisdn in rows], now)
        op.total = op.pending = len(rows)
        return len(rows)

    # ------------------------------------------------------------ send
    async def _send_all(self) -> bool:
        async with self._db.sessions() as session:
            running = list(
                await session.scalars(
                    sa.select(Operation.id)
                    .where(
                        Operation.state == RUNNING,
                        sa.or_(
                            Operation.cancel_requested.is_(True),
                            sa.and_(Operation.pending > 0, Operation.in_progress < self._window),
                        ),
                    )
                    .order_by(Operation.started_at, Operation.id)
                )
            )
        worked = False
        for operation_id in running:
            worked = await self._send(operation_id) or worked
        return worked

    async def _send(self, operation_id: str) -> bool:
        async with self._db.transaction() as session:
            op = await session.scalar(self._lock(sa.select(Operation).where(Operation.id == operation_id)))
            if op is None or op.state != RUNNING:
                return False
            now = self._clock.now()
            if op.cancel_requested:
                skipped = await self._skip_unsent(session, op, now)
                if op.in_progress == 0:
                    await finish(session, self._outbox, op, now)
                    return True
                return skipped > 0  # the rest ends with the answers of what is in the network
            budget = min(self._window - op.in_progress, self._batch * 4)
            if budget <= 0 or op.pending <= 0:
                return False
            items = await self._pending(session, op, budget)
            if len(items) < budget and await self._expand_targets(session, op, now):
                items = await self._pending(session, op, budget)
            await self._dispatch(session, op, items, now)
            if op.pending == 0 and op.in_progress == 0:
                await finish(session, self._outbox, op, now)
            return bool(items)

    async def _pending(self, session: AsyncSession, op: Operation, limit: int) -> list[ItemRow]:
        rows = await session.execute(
            ItemRow.select()
            .where(Item.operation_id == op.id, Item.state == PENDING)
            .order_by(Item.position)
            .limit(limit)
        )
        return list(map(ItemRow.from_row, rows))

    async def _skip_unsent(self, session: AsyncSession, op: Operation, now: datetime) -> int:
        """A cancelled running operation's items not sent yet end skipped."""
        return await skip_pending(session, op, now, code=CANCELLED_CODE, reason=CANCELLED_UNSENT)

    async def _dispatch(self, session: AsyncSession, op: Operation, items: Sequence[ItemRow], now: datetime) -> None:
        action = ACTIONS[op.type]
        ctx = Context(session=session, operation=op, now=now, quarantine_days=self._quarantine_days)
        lines = await self._lines_of(session, op, items) if action.needs_line else {}
        paths = await node_path_ids(session, op.customer_id, [line.node_id for line in lines.values()])
        outgoing: list[hlr_pb2.ProvisioningItem] = []
        finished: dict[str, int] = {}
        changed_lines: list[LineRow] = []
        left: list[str] = []
        messages: list[smsc_pb2.SubmitSmsCommand] = []
        for item in items:
            line = lines.get(item.line_id or item.msisdn) if action.needs_line else None
            if action.needs_line:
                if line is None or not in_roots(paths.get(line.node_id, ()), op.scope_roots):
                    end_item(item, SKIPPED, "NOT_FOUND", "no such line in the requester's scope", now, finished)
                    continue
                if item.line_id != line.id:
                    item.line_id = line.id
                if line.pending_operation_id and line.pending_operation_id != op.id:
                    end_item(
                        item,
                        SKIPPED,
                        "LINE_BUSY",
                        f"operation {line.pending_operation_id} is changing this line",
                        now,
                        finished,
                    )
                    continue
                outcome = await action.prepare(ctx, line, item)
            else:
                outcome = await action.prepare(ctx, None, item)  # type: ignore[arg-type]
            if isinstance(outcome, Refusal):
                end_item(item, outcome.state, outcome.code, outcome.reason, now, finished)
                continue
            assert isinstance(outcome, Prepared)
            if outcome.local:
                was = line.node_id if line is not None else ""
                changed = await action.succeeded(ctx, line, item)
                end_item(item, SUCCEEDED, None, None, now, finished)
                if changed is not None:
                    changed.updated_at = now
                    changed_lines.append(changed)
                    left.append(was)
                continue
            item.state, item.sent_at, item.updated_at = IN_PROGRESS, now, now
            if line is not None:
                line.pending_operation_id = op.id
            outgoing.extend(outcome.hlr)
            messages.extend(outcome.sms)
        await write_changes(session, items)
        await write_changes(session, lines.values())
        await self._lines_changed(session, op, changed_lines, left, now)
        sent = len(items) - sum(finished.values())
        op.pending -= len(items)
        op.in_progress += sent
        op.succeeded += finished.get(SUCCEEDED, 0)
        op.failed += finished.get(ITEM_FAILED, 0)
        op.skipped += finished.get(SKIPPED, 0)
        op.updated_at = now
        for start in range(0, len(outgoing), self._batch):
            command_id = new_id()
            command = hlr_pb2.ProvisionCommand(
                command_id=command_id,
                correlation_id=op.id,
                items=outgoing[start : start + self._batch],
                submitted_at=timestamp(now),
            )
            await self._outbox.add(
                session, NetsimSubjects.PROVISION, command, tenant=op.customer_id, event_id=command_id
            )
        for sms in messages:
            await self._outbox.add(
                session, NetsimSubjects.SUBMIT_SMS, sms, tenant=op.customer_id, event_id=sms.message_id
            )
        after_commit(session, lambda: count_finished(finished))
        after_commit(session, lambda: m.ITEMS_IN_FLIGHT.inc(sent))

    async def _lines_of(self, session: AsyncSession, op: Operation, items: Sequence[ItemRow]) -> dict[str, LineRow]:
        """The items' lines, by line id and by number (items from a list of numbers have no line id yet)."""
        ids = [i.line_id for i in items if i.line_id]
        numbers = [i.msisdn for i in items if not i.line_id]
        found: dict[str, LineRow] = {}
        if ids:
            for line in await load(session, LineRow, Line.id.in_(ids)):
                found[line.id] = line
        if numbers:
            for line in await load(
                session, LineRow, sa.and_(Line.customer_id == op.customer_id, Line.msisdn.in_(numbers))
            ):
                found[line.msisdn] = line
        return found

    async def _lines_changed(
        self, session: AsyncSession, op: Operation, lines: Sequence[LineRow], left: Sequence[str], now: datetime
    ) -> None:
        """One ``lines.changed`` event per step (per 1,000 lines), and their nodes' counts due to accounts."""
        if not lines:
            return
        await figures.mark(session, op.customer_id, [*(line.node_id for line in lines), *left])
        for start in range(0, len(lines), EVENT_CHUNK):
            chunk = lines[start : start + EVENT_CHUNK]
            message = ev.LinesChanged(
                lines=[line_event(line, cause=op.type, operation_id=op.id, now=now) for line in chunk]
            )
            await self._outbox.add(session, InventorySubjects.LINES_CHANGED, message, tenant=op.customer_id)

    # ------------------------------------------------------------ answers
    def results_handler(self) -> EventHandler:
        async def handle(session: AsyncSession, event: Event) -> None:
            try:
                result = net_events.ProvisioningResult.FromString(event.data)
            except DecodeError as exc:
                raise PermanentError(f"not a ProvisioningResult: {exc}") from exc
            await self.apply_results(session, result)

        return handle

    async def apply_results(self, session: AsyncSession, result: net_events.ProvisioningResult) -> None:
        op = await session.scalar(self._lock_wait(sa.select(Operation).where(Operation.id == result.correlation_id)))
        if op is None:
            failed = [r for r in result.results if not r.ok]
            if failed:
                log.warning(
                    "the network refused items of a command no operation sent",
                    extra={
                        "command_id": result.command_id,
                        "correlation_id": result.correlation_id,
                        "failed": len(failed),
                    },
                )
            return
        await self._apply(session, op, {r.item_id: r for r in result.results})

    def receipts_handler(self) -> EventHandler:
        """The SMSC's delivery receipts: an SMS of an operation's item has reached its handset."""

        async def handle(session: AsyncSession, event: Event) -> None:
            try:
                receipt = net_events.SmsDelivered.FromString(event.data)
            except DecodeError as exc:
                raise PermanentError(f"not an SmsDelivered: {exc}") from exc
            operation_id = await session.scalar(
                sa.select(Item.operation_id).where(Item.id == receipt.message_id, Item.state == IN_PROGRESS)
            )
            if operation_id is None:
                return  # another service's SMS (a sign-in code), or an item already ended
            op = await session.scalar(self._lock_wait(sa.select(Operation).where(Operation.id == operation_id)))
            if op is not None:
                answer = hlr_pb2.ItemResult(item_id=receipt.message_id, ok=True)
                await self._apply(session, op, {receipt.message_id: answer})

        return handle

    async def _apply(self, session: AsyncSession, op: Operation, by_id: dict[str, hlr_pb2.ItemResult]) -> None:
        """The network's answers to items of ``op``: each line completed or its reservations undone."""
        now = self._clock.now()
        action = ACTIONS[op.type]
        ctx = Context(session=session, operation=op, now=now, quarantine_days=self._quarantine_days)
        items: list[ItemRow] = await load(
            session, ItemRow, sa.and_(Item.operation_id == op.id, Item.id.in_(list(by_id)), Item.state == IN_PROGRESS)
        )
        line_ids = [i.line_id for i in items if i.line_id]
        lines: dict[str, LineRow] = (
            {line.id: line for line in await load(session, LineRow, Line.id.in_(line_ids))} if line_ids else {}
        )
        tally: dict[str, int] = {}
        changed_lines: list[LineRow] = []
        created: list[LineRow] = []
        latencies: list[float] = []
        failures: list[str] = []
        for item in sorted(items, key=lambda i: i.position):
            answer = by_id[item.id]
            line = lines.get(item.line_id or "")
            if item.sent_at is not None:
                latencies.append(max((now - item.sent_at).total_seconds(), 0.0))
            if answer.ok:
                changed = await action.succeeded(ctx, line, item)
                end_item(item, SUCCEEDED, None, None, now, tally)
                if changed is not None:
                    changed.pending_operation_id = None
                    changed.updated_at = now
                    changed_lines.append(changed)
                    if changed is not line:
                        created.append(changed)
            else:
                await action.failed(ctx, line, item)
                failure = FAILURES.get(answer.failure, "rejected")
                failures.append(failure)
                end_item(
                    item, ITEM_FAILED, failure.upper(), answer.reason or "the network refused the change", now, tally
                )
                if line is not None:
                    line.pending_operation_id = None
        await insert_rows(session, created)
        await write_changes(session, items)
        await write_changes(session, lines.values())
        await self._lines_changed(session, op, changed_lines, [], now)
        done = sum(tally.values())
        op.in_progress -= done
        op.succeeded += tally.get(SUCCEEDED, 0)
        op.failed += tally.get(ITEM_FAILED, 0)
        op.updated_at = now
        if op.state == RUNNING and op.in_progress == 0 and (op.pending == 0 or op.cancel_requested):
            if op.cancel_requested:
                await self._skip_unsent(session, op, now)
            await finish(session, self._outbox, op, now)

        def report() -> None:
            count_finished(tally)
            m.ITEMS_IN_FLIGHT.dec(done)
            for seconds in latencies:
                m.PROVISIONING_SECONDS.observe(seconds)
            for failure in failures:
                m.NETWORK_FAILURES.labels(failure).inc()
            self._wake.set()

        after_commit(session, report)

    def _lock_wait(self, query: sa.Select[Any]) -> sa.Select[Any]:
        return query.with_for_update() if self._locking else query
