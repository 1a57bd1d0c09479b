"""Keeps billing's copy of the lines from inventory's ``lines.changed`` events.

One event carries up to 1,000 lines (a step of a bulk operation): they are
read and written in a few statements, not one per line. A line's newer state
wins; an older event (redelivered late) changes nothing. A change of what
rating depends on opens a new term from the event's time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics
from billing.lines.models import LINE_TERMS, LINES
from simfleet.events.v1 import inventory_pb2 as ev
from simfleet_runtime.bus import Event, EventHandler, PermanentError
from simfleet_runtime.clock import Clock

TERM_FIELDS = ("msisdn", "personal_account_id", "tariff_code", "services", "state")
_UPDATED = tuple(column.name for column in LINES.columns if column.name != "line_id")


def _values(change: ev.LineChanged, at: datetime) -> dict[str, Any]:
    return {
        "line_id": change.line_id,
        "customer_id": change.customer_id,
        "node_id": change.node_id,
        "msisdn": change.msisdn,
        "imsi": change.imsi,
        "personal_account_id": change.personal_account_id,
        "tariff_code": change.tariff_code,
        "services": sorted(set(change.services)),
        "state": change.state,
        "changed_at": at,
    }


def lines_changed_handler(clock: Clock) -> EventHandler:
    async def handle(session: AsyncSession, event: Event) -> None:
        try:
            changes = ev.LinesChanged.FromString(event.data).lines
        except DecodeError as exc:
            raise PermanentError(f"not a LinesChanged: {exc}") from exc
        if not changes:
            return
        ids = list(dict.fromkeys(change.line_id for change in changes))
        rows = await session.execute(sa.select(LINES).where(LINES.c.line_id.in_(ids)))
        stored: dict[str, dict[str, Any]] = {row.line_id: dict(row._mapping) for row in rows}
        known = set(stored)
        latest: dict[str, dict[str, Any]] = {}
        terms: list[dict[str, Any]] = []
        for change in changes:
            if not change.line_id:
                raise PermanentError("a line without an id")
            at = change.occurred_at.ToDatetime(tzinfo=UTC) if change.HasField("occurred_at") else clock.now()
            before = latest.get(change.line_id) or stored.get(change.line_id)
            if before is not None and before["changed_at"] > at:
                continue
            values = _values(change, at)
            if before is None or any(before[name] != values[name] for name in TERM_FIELDS):
                terms.append(
                    {name: values[name] for name in ("line_id", "customer_id", *TERM_FIELDS)} | {"effective_from": at}
                )
            latest[change.line_id] = values
        new = [values for line_id, values in latest.items() if line_id not in known]
        changed = [
            {f"b_{name}": value for name, value in values.items()}
            for line_id, values in latest.items()
            if line_id in known
        ]
        if new:
            await session.execute(sa.insert(LINES), new)
        if changed:
            await session.execute(
                sa.update(LINES)
                .where(LINES.c.line_id == sa.bindparam("b_line_id"))
                .values({name: sa.bindparam(f"b_{name}") for name in _UPDATED}),
                changed,
            )
        if terms:
            await session.execute(sa.insert(LINE_TERMS), terms)
        metrics.LINES_PROJECTED.inc(len(latest))

    return handle
