"""Sending a window of a running operation's pending items to the network.

Each item is checked line by line in one transaction: a line outside the
requester's scope or busy with another operation is skipped, the action may
skip or fail it (nothing to do, nothing to reserve) or change the line alone
(a move); the rest turn ``in_progress``, their lines are marked as being
changed, and their HLR items go into provisioning commands (their SMS into
SMSC commands) written to the outbox in the same transaction. At most
``window`` items of an operation are in the network at once; a cancelled
operation stops sending and skips what it had not sent.

Before the items of a tariff or services change are checked, billing is
asked whether their lines may take it (operations/availability.py), outside
the transaction: a refused line's item fails with billing's reason; an item
whose line changed since billing was asked, or that billing was not asked
about, stays pending for the next pass, and so do all when billing cannot
answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory import metrics as m
from inventory.lines.models import TERMINATED, Line
from inventory.operations.actions import ACTIONS, Context, Prepared, Refusal
from inventory.operations.availability import CHECKED_TYPES, Ask, Availability, Facts, Verdict
from inventory.operations.changes import lines_changed
from inventory.operations.ending import add_ended, count_finished, end_item, finish, skip_unsent
from inventory.operations.locks import claim
from inventory.operations.models import (
    IN_PROGRESS,
    ITEM_FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    Item,
    Operation,
)
from inventory.operations.nodes import node_path_ids
from inventory.operations.records import ItemRow, LineRow, expand_next_chunk, load, write_changes
from inventory.scope import in_roots
from simfleet.netsim.v1 import hlr_pb2, smsc_pb2
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, after_commit
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import NetsimSubjects

log = logging.getLogger(__name__)


class Sender:
    """The engine's second step: one window per running operation, each in its own transaction."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        locking: bool,
        batch_size: int,
        window: int,
        quarantine_days: int,
        availability: Availability | None = None,
    ) -> None:
        self._availability = availability
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._locking = locking
        self._batch = batch_size
        self._window = window
        self._quarantine_days = quarantine_days

    async def send_all(self) -> bool:
        """One window for every running operation with room in the network (or cancelled); True when it did work."""
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

    async def _ask_billing(self, operation_id: str) -> dict[str, Verdict] | None:
        """Billing's verdicts on the lines of the operation's next pending items ({} for a type it has no say in);
        None when billing could not answer."""
        if self._availability is None:
            return {}
        async with self._db.sessions() as session:
            op = await session.get(Operation, operation_id)
            if op is None or op.type not in CHECKED_TYPES or op.state != RUNNING or op.cancel_requested:
                return {}
            items = await self._pending(session, op, self._batch * 4)
            lines = [line for line in (await self._lines_of(session, op, items)).values() if line.state != TERMINATED]
            customer_id, ask = op.customer_id, Ask.of(op.type, op.params)
        unique = list({line.id: line for line in lines}.values())
        if not unique:
            return {}
        try:
            return await self._availability.check(customer_id, unique, ask)
        except Exception:  # billing is away: the items wait for the next pass
            log.warning("billing could not say which lines may take operation %s's change", operation_id, exc_info=True)
            return None

    async def _send(self, operation_id: str) -> bool:
        """One window of one operation, in one transaction; a cancelled one skips what it had not sent."""
        verdicts = await self._ask_billing(operation_id)
        if verdicts is None:
            return False
        async with self._db.transaction() as session:
            op = await claim(session, operation_id, locking=self._locking)
            if op is None or op.state != RUNNING:
                return False
            now = self._clock.now()
            if op.cancel_requested:
                skipped = await skip_unsent(session, op, now)
                if op.in_progress == 0:
                    await finish(session, self._outbox, op, now)
                    return True
                return skipped > 0  # the rest ends with the answers of what is in the network
            budget = min(self._window - op.in_progress, self._batch * 4)
            if budget <= 0 or op.pending <= 0:
                return False
            items = await self._pending(session, op, budget)
            if len(items) < budget and await expand_next_chunk(session, op.id, now):
                items = await self._pending(session, op, budget)
            waiting = await self._dispatch(session, op, items, now, verdicts)
            if op.pending == 0 and op.in_progress == 0:
                await finish(session, self._outbox, op, now)
            return len(items) > waiting

    async def _pending(self, session: AsyncSession, op: Operation, limit: int) -> list[ItemRow]:
        rows = await session.execute(
            ItemRow.select()
            .where(Item.operation_id == op.id, Item.state == PENDING)
            .order_by(Item.position)
            .limit(limit)
        )
        return list(map(ItemRow.from_row, rows))

    async def _dispatch(
        self,
        session: AsyncSession,
        op: Operation,
        items: Sequence[ItemRow],
        now: datetime,
        verdicts: dict[str, Verdict] | None = None,
    ) -> int:
        """Each item checked against its line and the action: ended here, changed here, or sent (or, waiting for
        billing's verdict, left pending: answers how many)."""
        action = ACTIONS[op.type]
        checked = self._availability is not None and op.type in CHECKED_TYPES
        verdicts = verdicts or {}
        waiting = 0
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
                if checked and line.state != TERMINATED:
                    verdict = verdicts.get(line.id)
                    if verdict is None or verdict.facts != Facts.of(line):
                        waiting += 1  # billing was not asked about the line as it is now: next pass
                        continue
                    if not verdict.allowed:
                        end_item(item, ITEM_FAILED, verdict.reason, verdict.message, now, finished)
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
                if notice := action.notification(ctx, changed, item):
                    messages.append(notice)
                continue
            item.state, item.sent_at, item.updated_at = IN_PROGRESS, now, now
            if line is not None:
                line.pending_operation_id = op.id
            outgoing.extend(outcome.hlr)
            messages.extend(outcome.sms)
        await write_changes(session, items)
        await write_changes(session, lines.values())
        await lines_changed(session, self._outbox, op, changed_lines, left, now)
        sent = len(items) - sum(finished.values()) - waiting
        op.pending -= len(items) - waiting
        op.in_progress += sent
        add_ended(op, finished, now)
        await self._write_commands(session, op, outgoing, messages, now)
        after_commit(session, lambda: count_finished(finished))
        after_commit(session, lambda: m.ITEMS_IN_FLIGHT.inc(sent))
        return waiting

    async def _write_commands(
        self,
        session: AsyncSession,
        op: Operation,
        outgoing: Sequence[hlr_pb2.ProvisioningItem],
        messages: Sequence[smsc_pb2.SubmitSmsCommand],
        now: datetime,
    ) -> None:
        """The window's HLR items as provisioning commands of ``batch`` items, and its SMS, into the outbox."""
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
