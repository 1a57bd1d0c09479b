"""The gauges SREs watch, read from the database every few seconds: lines by state, operations not yet ended."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import sqlalchemy as sa

from inventory import metrics as m
from inventory.lines.models import LINE_STATES, Line
from inventory.operations.models import RUNNING, SCHEDULED, Operation
from simfleet_runtime.db import Database

log = logging.getLogger(__name__)


class Gauges:
    def __init__(self, *, db: Database, interval: float) -> None:
        self._db = db
        self._interval = interval

    async def refresh(self) -> None:
        async with self._db.sessions() as session:
            lines = dict((await session.execute(sa.select(Line.state, sa.func.count()).group_by(Line.state))).all())
            active = dict(
                (
                    await session.execute(
                        sa.select(Operation.state, sa.func.count())
                        .where(Operation.state.in_([SCHEDULED, RUNNING]))
                        .group_by(Operation.state)
                    )
                ).all()
            )
        for state in LINE_STATES:
            m.LINES.labels(state).set(lines.get(state, 0))
        for state in (SCHEDULED, RUNNING):
            m.OPERATIONS_ACTIVE.labels(state).set(active.get(state, 0))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a moment
                log.warning("refreshing the gauges failed: %s", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)
