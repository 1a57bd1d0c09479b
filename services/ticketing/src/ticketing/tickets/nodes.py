"""What becomes of tickets when accounts deletes the node they hang under: they move up to its parent.

accounts deletes only empty departments, branches and cities (no nodes, no
lines under them) and knows nothing of tickets, so a deleted node may leave
tickets behind. They move to the nearest ancestor ticketing still knows
(normally the parent), in the transaction that applies the deletion to
ticketing's copy of the tree, each with a ``node_changed`` entry in its
history. So they stay visible to exactly those who saw them through the
deleted node's ancestors (grants over the deleted node itself are removed with
it), and a list by ``node_id`` of the parent shows them.
"""

from __future__ import annotations

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime import nodepaths
from simfleet_runtime.bus.consumer import Event, EventHandler, PermanentError
from simfleet_runtime.clock import Clock
from simfleet_runtime.ids import new_id
from ticketing.db import NODE_PATHS
from ticketing.tickets import lifecycle as lc
from ticketing.tickets.models import TICKETS, TicketHistory

NODE_CHANGED = "node_changed"
SYSTEM = "system"


async def move_tickets_of_deleted_node(session: AsyncSession, event: ev.NodeDeleted, clock: Clock) -> int:
    """Move the deleted node's tickets to its nearest known ancestor; how many moved."""
    t = NODE_PATHS
    known = await session.scalar(
        sa.select(t.c.path).where(t.c.node_id == event.node_id, t.c.customer_id == event.customer_id)
    )
    ancestors = nodepaths.path_ids(known or event.path)[:-1]
    if not ancestors:
        return 0  # a company is never deleted while it holds anything; nothing to move to
    found = {
        node_id
        for (node_id,) in await session.execute(
            sa.select(t.c.node_id).where(t.c.customer_id == event.customer_id, t.c.node_id.in_(ancestors))
        )
    }
    target = next((a for a in reversed(ancestors) if a in found), None)
    if target is None:
        return 0
    rows = list(
        await session.execute(
            sa.select(TICKETS.c.id, TICKETS.c.state).where(
                TICKETS.c.customer_id == event.customer_id, TICKETS.c.node_id == event.node_id
            )
        )
    )
    if not rows:
        return 0
    now = clock.now()
    await session.execute(
        sa.update(TICKETS)
        .where(TICKETS.c.customer_id == event.customer_id, TICKETS.c.node_id == event.node_id)
        .values(node_id=target, updated_at=now)
    )
    for ticket_id, state in rows:
        session.add(
            TicketHistory(
                id=new_id(),
                ticket_id=ticket_id,
                action=NODE_CHANGED,
                from_state=state,
                to_state=state,
                actor_id=SYSTEM,
                actor_kind=lc.SYSTEM,
                reason=f"its node {event.node_id} was deleted: it moved to {target}",
                assignee_id="",
                occurred_at=now,
            )
        )
    return len(rows)


def node_events(paths: nodepaths.ProjectedNodePaths, clock: Clock) -> EventHandler:
    """The projection's handler of accounts' node events, moving a deleted node's tickets first."""
    project = paths.handler()

    async def handle(session: AsyncSession, event: Event) -> None:
        if event.subject == nodepaths.DELETED:
            try:
                deleted = ev.NodeDeleted.FromString(event.data)
            except DecodeError as exc:
                raise PermanentError(f"not a node event: {exc}") from exc
            await move_tickets_of_deleted_node(session, deleted, clock)
        await project(session, event)

    return handle
