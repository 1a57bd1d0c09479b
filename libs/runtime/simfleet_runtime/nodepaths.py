"""A service's own copy of the customers' trees: node id → path and kind, kept from accounts' events.

Services other than ``accounts`` decide scope without calling it: they add the
``node_paths`` table to their metadata (:func:`node_paths_table`), register
:meth:`ProjectedNodePaths.handler` as a durable consumer of
``simfleet.accounts.node.>``, and hand the projection to their
:class:`~simfleet_runtime.authz.Authorizer`.

The consumer applies events one at a time, but a failed event is redelivered
later, so an event may arrive after one that followed it. A created node
therefore takes its path from its parent's current path when the parent is
known (a move of the parent that was applied first is not lost), and a move
rewrites every path under the old prefix, whatever arrived before it.

A node's kind (``company``, ``personal_account``, ``department``...) comes
with its ``node.created`` and never changes. Rows projected before kinds were
kept have none (NULL): that means *not known*, never "not a personal account".
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime.bus.consumer import Event, EventHandler, PermanentError
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, UtcDateTime
from simfleet_subjects import AccountsSubjects

SUBJECTS = AccountsSubjects.NODE_EVENTS
STREAM = AccountsSubjects.STREAM
CREATED = AccountsSubjects.NODE_CREATED
MOVED = AccountsSubjects.NODE_MOVED
DELETED = AccountsSubjects.NODE_DELETED
PERSONAL_ACCOUNT = "personal_account"


def node_paths_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "node_paths",
        metadata,
        sa.Column("node_id", sa.String(26), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False, index=True),
        sa.Column("path", sa.String(1024), nullable=False),
        # NULL: projected before kinds were kept, not known (see the module's notes).
        sa.Column("kind", sa.String(24), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Index("ix_node_paths_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )


def path_ids(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


class ProjectedNodePaths:
    """The :class:`~simfleet_runtime.authz.NodePaths` of a service that is not ``accounts``."""

    def __init__(self, *, db: Database, table: sa.Table, clock: Clock) -> None:
        self._db = db
        self._table = table
        self._clock = clock
        self._one = sa.select(table.c.path).where(
            table.c.customer_id == sa.bindparam("customer_id"), table.c.node_id == sa.bindparam("node_id")
        )

    async def paths(
        self, customer_id: str, node_ids: Iterable[str], *, session: AsyncSession | None = None
    ) -> dict[str, tuple[str, ...]]:
        """As :class:`~simfleet_runtime.authz.NodePaths`; inside ``session`` when given (SQLite has one connection)."""
        ids = list(dict.fromkeys(n for n in node_ids if n))
        if not ids or not customer_id:
            return {}
        t = self._table
        query = sa.select(t.c.node_id, t.c.path).where(t.c.customer_id == customer_id, t.c.node_id.in_(ids))
        if session is not None:
            return {node_id: path_ids(path) for node_id, path in await session.execute(query)}
        if len(ids) == 1:
            # The check of one object on every call: on the driver, never behind the service's writes.
            found = await self._db.direct.first(self._one, {"customer_id": customer_id, "node_id": ids[0]})
            return {} if found is None else {ids[0]: path_ids(found.path)}
        async with self._db.sessions() as own:
            return {node_id: path_ids(path) for node_id, path in await own.execute(query)}

    async def root(self, session: AsyncSession, customer_id: str) -> str | None:
        """The customer's company node (the one whose path is itself), when known."""
        t = self._table
        found = await session.scalar(
            sa.select(t.c.node_id)
            .where(t.c.customer_id == customer_id, t.c.path == sa.literal("/") + t.c.node_id + sa.literal("/"))
            .limit(1)
        )
        return None if found is None else str(found)

    async def subtree(self, session: AsyncSession, customer_id: str, node_id: str) -> list[str]:
        """The ids of ``node_id`` and every node below it (empty when unknown)."""
        t = self._table
        path = await session.scalar(sa.select(t.c.path).where(t.c.customer_id == customer_id, t.c.node_id == node_id))
        if path is None:
            return []
        rows = await session.execute(
            sa.select(t.c.node_id).where(t.c.customer_id == customer_id, t.c.path.startswith(path))
        )
        return [r[0] for r in rows]

    def handler(self) -> EventHandler:
        async def handle(session: AsyncSession, event: Event) -> None:
            try:
                if event.subject == CREATED:
                    await self._created(session, ev.NodeCreated.FromString(event.data))
                elif event.subject == MOVED:
                    await self._moved(session, ev.NodeMoved.FromString(event.data))
                elif event.subject == DELETED:
                    await self._deleted(session, ev.NodeDeleted.FromString(event.data))
                # Renames change no path.
            except DecodeError as exc:
                raise PermanentError(f"not a node event: {exc}") from exc

        return handle

    async def _created(self, session: AsyncSession, event: ev.NodeCreated) -> None:
        node, t = event.node, self._table
        path = node.path
        if node.parent_id:
            parent = await session.scalar(sa.select(t.c.path).where(t.c.node_id == node.parent_id))
            if parent is not None:
                path = f"{parent}{node.node_id}/"
        values: dict[str, object] = {"customer_id": node.customer_id, "path": path, "updated_at": self._clock.now()}
        if node.kind:  # a snapshot without one (older producers) leaves what is known
            values["kind"] = node.kind[:24]
        updated = await session.execute(sa.update(t).where(t.c.node_id == node.node_id).values(**values))
        if not updated.rowcount:  # type: ignore[attr-defined]
            await session.execute(sa.insert(t).values(node_id=node.node_id, **values))

    async def _moved(self, session: AsyncSession, event: ev.NodeMoved) -> None:
        t = self._table
        await session.execute(
            sa.update(t)
            .where(t.c.customer_id == event.customer_id, t.c.path.startswith(event.old_path))
            .values(
                path=sa.literal(event.new_path) + sa.func.substr(t.c.path, len(event.old_path) + 1),
                updated_at=self._clock.now(),
            )
        )

    async def _deleted(self, session: AsyncSession, event: ev.NodeDeleted) -> None:
        t = self._table
        await session.execute(sa.delete(t).where(t.c.node_id == event.node_id))


__all__ = ["MOVED", "PERSONAL_ACCOUNT", "STREAM", "SUBJECTS", "ProjectedNodePaths", "node_paths_table", "path_ids"]
