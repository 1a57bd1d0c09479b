"""The lines under each node by state, reported to accounts for its summaries (AC-2).

A change to a line marks its node (and the node it left) in ``figure_nodes``
in the change's own transaction; the reporter takes the marked nodes every
few seconds, counts their lines by state and writes one ``node.figures``
event per node (absolute counts: the newest wins) in the transaction that
unmarks them. A node marked again meanwhile is counted again on the next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from inventory.db import Base
from inventory.lines.models import LINE_STATES, Line
from simfleet.events.v1 import inventory_pb2 as ev
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import InventorySubjects

log = logging.getLogger(__name__)
BATCH = 500


class FigureNode(Base):
    """A node whose line counts changed since they were last reported."""

    __tablename__ = "figure_nodes"

    node_id: Mapped[str] = mapped_column(sa.String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.String(26))


async def mark(session: AsyncSession, customer_id: str, node_ids: Iterable[str]) -> None:
    rows = [{"node_id": n, "customer_id": customer_id} for n in dict.fromkeys(node_ids) if n]
    if rows:
        await session.execute(insert_ignoring_conflicts(session, FigureNode.__table__), rows)  # type: ignore[arg-type]


class FigureReporter:
    def __init__(self, *, db: Database, clock: Clock, outbox: Outbox, interval: float) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._interval = interval

    async def report(self) -> int:
        """One pass over the marked nodes; returns how many were reported."""
        async with self._db.transaction() as session:
            marked = (await session.execute(sa.select(FigureNode.node_id, FigureNode.customer_id).limit(BATCH))).all()
            if not marked:
                return 0
            ids = [node_id for node_id, _ in marked]
            # Unmarked first: a change committed after this statement marks its node again.
            await session.execute(sa.delete(FigureNode).where(FigureNode.node_id.in_(ids)))
            counts: dict[str, dict[str, int]] = {node_id: dict.fromkeys(LINE_STATES, 0) for node_id in ids}
            rows = await session.execute(
                sa.select(Line.node_id, Line.state, sa.func.count())
                .where(Line.node_id.in_(ids))
                .group_by(Line.node_id, Line.state)
            )
            for node_id, state, count in rows:
                counts[node_id][state] = int(count)
            now = timestamp(self._clock.now())
            for node_id, customer_id in marked:
                figures = {f"lines.{state}": value for state, value in counts[node_id].items()}
                report = ev.NodeLineFigures(node_id=node_id, customer_id=customer_id, figures=figures, computed_at=now)
                await self._outbox.add(session, InventorySubjects.NODE_FIGURES, report, tenant=customer_id)
        return len(marked)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                while await self.report() == BATCH:
                    pass
            except Exception as exc:  # noqa: BLE001 - the database may be away for a moment
                log.warning("reporting line figures failed: %s", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)
