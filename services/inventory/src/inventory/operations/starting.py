"""Starting an operation whose time has come: it turns ``running`` with its items.

A due operation's numbers kept as accepted begin to become items (a chunk
now, the rest as it runs short), a selection is resolved into one pending
item per line within the scope its requester had, and an operation scheduled
a while ago first asks identity what its requester holds now: it runs inside
what they held both then and now, and with nothing when they hold nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.convert import operation_event
from inventory.lines.models import Line, LineLabel
from inventory.operations.actions import ACTIONS
from inventory.operations.ending import finish, skip_pending
from inventory.operations.locks import claim
from inventory.operations.models import FAILED, RUNNING, SCHEDULED, Item, Operation
from inventory.operations.nodes import node_path_ids, node_paths
from inventory.operations.records import expand_next_chunk, insert_pending_items
from inventory.scope import nodes_under
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.user_access import UserAccessSource
from simfleet_subjects import InventorySubjects

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


class Starter:
    """The engine's first step: due operations turn ``running``, each in its own transaction."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        locking: bool,
        max_lines: int,
        authority: UserAccessSource | None,
        recheck_after: timedelta,
    ) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._locking = locking
        self._max_lines = max_lines
        self._authority = authority
        self._recheck_after = recheck_after

    async def start_due(self) -> bool:
        """Start the operations whose time has come (ten per pass); True when one started."""
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
            op = await claim(session, operation_id, locking=self._locking)
            if op is None or op.state != SCHEDULED:
                return False
            now = self._clock.now()
            op.state, op.started_at, op.updated_at = RUNNING, now, now
            await expand_next_chunk(session, op.id, now)
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

    async def _requester_scope(self, operation_id: str) -> list[str] | None:
        """For an operation scheduled a while ago: its scope cut down to what its requester holds now.

        None when no check is due (an operation started as soon as it was accepted runs on the check made
        then). A disabled requester, or one who lost the permission everywhere, holds nothing: ``[]``.
        """
        if self._authority is None:
            return None
        async with self._db.sessions() as session:
            op = await session.get(Operation, operation_id)
            if op is None or op.state != SCHEDULED or not op.requested_by or op.requested_by.startswith("system:"):
                return None  # the system's own operations (financial blocks) hold no user's grants
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
