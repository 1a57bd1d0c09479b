"""What a node holds in inventory, read now: accounts asks before it deletes the node (AC-3).

accounts learns of lines from the figures inventory reports every few seconds
(``inventory/figures.py``); a line imported, ordered or moved under a node a
moment ago is not in them yet. This answer is read from inventory's own
tables at the time of the call:

- the lines whose node is the node or one below it in inventory's copy of the
  tree, by state;
- the operations not yet ended (scheduled or running) that will put lines
  there: moves to those nodes and SIM orders for them, and their items not
  yet ended (lines on their way, SIMs and numbers reserved for new lines).

A node inventory's copy does not know yet (its ``node.created`` is on its
way) may hold lines all the same: the back-office imports lines under any
node id. Its own lines and work are counted; its scope cannot be checked on a
path inventory does not have, so the caller's customer bounds the answer and
the caller needs ``hierarchy:manage`` somewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from inventory.db import NODE_PATHS
from inventory.lines.models import Line
from inventory.operations import models as ops
from inventory.operations.actions import Move, OrderSims
from simfleet_runtime.authz import Access, not_found
from simfleet_runtime.db import Database
from simfleet_runtime.ids import is_id
from simfleet_runtime.nodepaths import path_ids

MANAGE = "hierarchy:manage"
"""What deleting a node needs in accounts: the same permission decides here."""

BRINGING = (Move.type, OrderSims.type)
"""Operations that put lines under the node in their ``params["node_id"]``."""

OPEN_OPERATIONS = (ops.SCHEDULED, ops.RUNNING)
OPEN_ITEMS = (ops.PENDING, ops.IN_PROGRESS)


@dataclass(frozen=True)
class Holdings:
    lines: dict[str, int]
    """Lines by state (states without lines left out)."""
    operations: int
    items: int

    @property
    def empty(self) -> bool:
        return not any(self.lines.values()) and not self.operations and not self.items


class NodeHoldings:
    def __init__(self, *, db: Database) -> None:
        self._db = db

    async def holdings(self, access: Access, node_id: str) -> Holdings:
        if not is_id(node_id):
            raise not_found("node")
        customer_id, t = access.customer_id, NODE_PATHS
        async with self._db.sessions() as session:
            path = await session.scalar(
                sa.select(t.c.path).where(t.c.customer_id == customer_id, t.c.node_id == node_id)
            )
            if path is not None:
                access.check(MANAGE, path_ids(path), what="node")
                subtree = sa.select(t.c.node_id).where(
                    t.c.customer_id == customer_id, t.c.path.startswith(path, autoescape=True)
                )
                nodes = set(await session.scalars(subtree))  # the node itself and every node below it
            else:
                access.require(MANAGE)
                nodes = {node_id}
            counts = await session.execute(
                sa.select(Line.state, sa.func.count())
                .where(Line.customer_id == customer_id, Line.node_id.in_(nodes))
                .group_by(Line.state)
            )
            lines = {state: int(count) for state, count in counts if count}
            open_operations = await session.execute(
                sa.select(ops.Operation.id, ops.Operation.params).where(
                    ops.Operation.customer_id == customer_id,
                    ops.Operation.state.in_(OPEN_OPERATIONS),
                    ops.Operation.type.in_(BRINGING),
                )
            )
            bringing = [op_id for op_id, params in open_operations if (params or {}).get("node_id") in nodes]
            items: int | None = 0
            if bringing:
                items = await session.scalar(
                    sa.select(sa.func.count()).where(
                        ops.Item.operation_id.in_(bringing), ops.Item.state.in_(OPEN_ITEMS)
                    )
                )
        return Holdings(lines=lines, operations=len(bringing), items=int(items or 0))
