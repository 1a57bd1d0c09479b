"""What a step tells others about the lines it changed.

Sending (a change inventory makes alone, such as a move) and the network's
answers both end with changed lines: one ``lines.changed`` event per 1,000
of them, and their nodes' line counts marked for accounts, in the step's
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from inventory import figures
from inventory.convert import line_event
from inventory.operations.models import Operation
from inventory.operations.records import LineRow
from simfleet.events.v1 import inventory_pb2 as ev
from simfleet_runtime.bus import Outbox
from simfleet_subjects import InventorySubjects

EVENT_CHUNK = 1000


async def lines_changed(
    session: AsyncSession,
    outbox: Outbox,
    op: Operation,
    lines: Sequence[LineRow],
    left: Sequence[str],
    now: datetime,
) -> None:
    """One ``lines.changed`` event per 1,000 ``lines``; their nodes' counts (and the nodes ``left``) due to accounts."""
    if not lines:
        return
    await figures.mark(session, op.customer_id, [*(line.node_id for line in lines), *left])
    for start in range(0, len(lines), EVENT_CHUNK):
        chunk = lines[start : start + EVENT_CHUNK]
        message = ev.LinesChanged(
            lines=[line_event(line, cause=op.type, operation_id=op.id, now=now) for line in chunk]
        )
        await outbox.add(session, InventorySubjects.LINES_CHANGED, message, tenant=op.customer_id)
