"""Applying the network's answers: each item's line completed, or what it reserved undone.

The consumer of netsim's HLR results (and of the SMSC's delivery receipts,
an SMS item's yes) applies them in the transaction that records the result's
event id, so a redelivered result changes nothing (nor sends the SMS telling
a subscriber of their change twice); an operation with no item
left open ends (a cancelled one skipping what it had not sent).
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory import metrics as m
from inventory.lines.models import Line
from inventory.operations.actions import ACTIONS, Context
from inventory.operations.changes import lines_changed
from inventory.operations.ending import add_ended, count_finished, end_item, finish, skip_unsent
from inventory.operations.locks import wait_for
from inventory.operations.models import IN_PROGRESS, ITEM_FAILED, RUNNING, SUCCEEDED, Item, Operation
from inventory.operations.records import ItemRow, LineRow, insert_rows, load, write_changes
from simfleet.events.v1 import netsim_pb2 as net_events
from simfleet.netsim.v1 import hlr_pb2, smsc_pb2
from simfleet_runtime.bus import Event, EventHandler, Outbox, PermanentError
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import after_commit
from simfleet_subjects import NetsimSubjects

log = logging.getLogger(__name__)

FAILURES = {
    hlr_pb2.PROVISIONING_FAILURE_UNKNOWN_SUBSCRIBER: "unknown_subscriber",
    hlr_pb2.PROVISIONING_FAILURE_NUMBER_IN_USE: "number_in_use",
    hlr_pb2.PROVISIONING_FAILURE_SIM_IN_USE: "sim_in_use",
    hlr_pb2.PROVISIONING_FAILURE_REJECTED: "rejected",
    hlr_pb2.PROVISIONING_FAILURE_SYSTEM_FAILURE: "system_failure",
}


class Answers:
    """The engine's last step, run by the consumers of the network's results and receipts."""

    def __init__(
        self, *, clock: Clock, outbox: Outbox, locking: bool, quarantine_days: int, wake: asyncio.Event
    ) -> None:
        self._clock = clock
        self._outbox = outbox
        self._locking = locking
        self._quarantine_days = quarantine_days
        self._wake = wake

    def results_handler(self) -> EventHandler:
        """HLR provisioning results: each item of a command the engine sent completed or undone."""

        async def handle(session: AsyncSession, event: Event) -> None:
            try:
                result = net_events.ProvisioningResult.FromString(event.data)
            except DecodeError as exc:
                raise PermanentError(f"not a ProvisioningResult: {exc}") from exc
            await self.apply_results(session, result)

        return handle

    async def apply_results(self, session: AsyncSession, result: net_events.ProvisioningResult) -> None:
        """One command's results, in the consumer's transaction (a result of no known operation is logged)."""
        op = await wait_for(session, result.correlation_id, locking=self._locking)
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
            op = await wait_for(session, operation_id, locking=self._locking)
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
        notices: list[smsc_pb2.SubmitSmsCommand] = []
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
                if notice := action.notification(ctx, changed, item):
                    notices.append(notice)
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
        await lines_changed(session, self._outbox, op, changed_lines, [], now)
        for sms in notices:
            await self._outbox.add(
                session, NetsimSubjects.SUBMIT_SMS, sms, tenant=op.customer_id, event_id=sms.message_id
            )
        done = sum(tally.values())
        op.in_progress -= done
        add_ended(op, tally, now)
        if op.state == RUNNING and op.in_progress == 0 and (op.pending == 0 or op.cancel_requested):
            if op.cancel_requested:
                await skip_unsent(session, op, now)
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
