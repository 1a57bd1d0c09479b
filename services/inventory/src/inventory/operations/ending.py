"""How items and operations end, written once for every step that ends them.

The engine skips what an operation had not sent (cancelled while running, or
its requester no longer allowed) and the service skips everything of an
operation cancelled before it started: both are :func:`skip_pending`. An
operation ends, whoever ends it, with :func:`finish`: its final state, the
``operation.finished`` event and the metric, in the transaction of its last change.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory import metrics as m
from inventory.convert import operation_event
from inventory.operations.models import (
    CANCELLED,
    COMPLETED,
    COMPLETED_WITH_ERRORS,
    FAILED,
    ITEM_FAILED,
    PENDING,
    SKIPPED,
    SUCCEEDED,
    Item,
    Operation,
)
from inventory.operations.records import ItemRow, discard_target_chunks
from simfleet_runtime.bus import Outbox
from simfleet_runtime.db import after_commit
from simfleet_subjects import InventorySubjects

CANCELLED_CODE = "CANCELLED"
CANCELLED_UNSENT = "the operation was cancelled before this line was sent"
"""Why an item of a running operation that was cancelled ends skipped."""
CANCELLED_UNSTARTED = "the operation was cancelled"
"""Why an item of an operation cancelled before it started ends skipped."""


def end_item(
    item: ItemRow, state: str, code: str | None, reason: str | None, now: datetime, tally: dict[str, int]
) -> None:
    """``item`` ends in ``state`` (with why, when it did not succeed), counted in ``tally`` by state."""
    item.state, item.code, item.reason, item.finished_at, item.updated_at = state, code, reason, now, now
    tally[state] = tally.get(state, 0) + 1


def count_finished(tally: dict[str, int]) -> None:
    """The items that ended, by state, in ``simfleet_inventory_operation_items_total`` (after the commit)."""
    for state, count in tally.items():
        m.ITEMS_FINISHED.labels(state).inc(count)


async def skip_pending(
    session: AsyncSession,
    op: Operation,
    now: datetime,
    *,
    code: str,
    reason: str,
) -> int:
    """Every item of ``op`` not sent yet, and every number not yet made an item, ends ``skipped``; how many.

    They are counted in the items metric once committed, those of an operation cancelled before it started
    too: each ended, skipped, as the operation's own counts and its items say.
    """
    result = await session.execute(
        sa.update(Item)
        .where(Item.operation_id == op.id, Item.state == PENDING)
        .values(state=SKIPPED, code=code, reason=reason, finished_at=now, updated_at=now)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    count += await discard_target_chunks(session, op.id)  # numbers not yet made items: skipped all the same
    if count:
        op.pending -= count
        op.skipped += count
        op.updated_at = now
        after_commit(session, lambda: m.ITEMS_FINISHED.labels(SKIPPED).inc(count))
    return count


async def skip_unsent(session: AsyncSession, op: Operation, now: datetime) -> int:
    """A running operation that was cancelled: what it had not sent ends skipped (the rest ends with its answers)."""
    return await skip_pending(session, op, now, code=CANCELLED_CODE, reason=CANCELLED_UNSENT)


def add_ended(op: Operation, tally: dict[str, int], now: datetime) -> None:
    """The items of ``tally`` (by state) that ended in one step, added to ``op``'s counts."""
    op.succeeded += tally.get(SUCCEEDED, 0)
    op.failed += tally.get(ITEM_FAILED, 0)
    op.skipped += tally.get(SKIPPED, 0)
    op.updated_at = now


def final_state(op: Operation) -> str:
    """How an operation whose last item ended went: cancelled, or by its items' outcomes."""
    if op.cancel_requested:
        return CANCELLED
    if op.failed == 0:
        return COMPLETED
    if op.succeeded == 0 and op.skipped == 0:
        return FAILED
    return COMPLETED_WITH_ERRORS


async def finish(
    session: AsyncSession, outbox: Outbox, op: Operation, now: datetime, *, state: str | None = None
) -> None:
    """``op`` ends in ``state`` (by default: :func:`final_state`), and says so on the bus."""
    final = state if state is not None else final_state(op)
    op.state, op.finished_at, op.updated_at = final, now, now
    await outbox.add(session, InventorySubjects.OPERATION_FINISHED, operation_event(op, now), tenant=op.customer_id)
    after_commit(session, lambda: m.OPERATIONS_FINISHED.labels(op.type, final).inc())
