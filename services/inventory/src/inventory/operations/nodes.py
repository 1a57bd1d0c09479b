"""Where the nodes an operation names are, read from inventory's copy of the hierarchy (``NODE_PATHS``).

The service checks a caller's access to a node on its path, and the engine
checks a line's node against the requester's scope: both ask here, one query
per batch of nodes. A node the copy does not know has no path (it is outside
any scope, as a node of another customer is).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.db import NODE_PATHS
from simfleet_runtime.nodepaths import path_ids


async def node_paths(session: AsyncSession, customer_id: str, node_ids: Sequence[str]) -> dict[str, str]:
    """The stored paths of those of ``node_ids`` the customer has, by node id."""
    ids = list(dict.fromkeys(n for n in node_ids if n))
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(NODE_PATHS.c.node_id, NODE_PATHS.c.path).where(
            NODE_PATHS.c.customer_id == customer_id, NODE_PATHS.c.node_id.in_(ids)
        )
    )
    return {node_id: path for node_id, path in rows}


async def node_path_ids(session: AsyncSession, customer_id: str, node_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """:func:`node_paths` as the node ids from the root down to each node."""
    return {node_id: path_ids(path) for node_id, path in (await node_paths(session, customer_id, node_ids)).items()}


def checked_path(path: str | None) -> tuple[str, ...] | None:
    """A stored path as :meth:`Access.check` takes it: the ids root → node, None for a node not known."""
    return path_ids(path) if path else None


async def node_path(session: AsyncSession, customer_id: str, node_id: str) -> tuple[str, ...] | None:
    """One node's path, as :meth:`Access.check` takes it (:func:`checked_path`)."""
    return checked_path((await node_paths(session, customer_id, [node_id])).get(node_id))


async def node_kind(session: AsyncSession, customer_id: str, node_id: str) -> str | None:
    """The kind of a node; None when not known (projected before kinds were kept)."""
    kind = await session.scalar(
        sa.select(NODE_PATHS.c.kind).where(NODE_PATHS.c.customer_id == customer_id, NODE_PATHS.c.node_id == node_id)
    )
    return str(kind) if kind else None
