"""The customer's tree: reading it within the caller's scope, and the changes customers make (AC-2, AC-3).

Every change to a customer's tree holds that customer's row locked for its
transaction, so two moves can never build a cycle between them, and writes the
event that says what changed in the same transaction (outbox). Moving a subtree
rewrites every path below it with one statement and publishes one event.

Deleting a node asks inventory what the node holds, now (:class:`NodeHoldings`):
the line figures inventory reports every few seconds miss lines that arrived a
moment ago. Without inventory's answer the node is not deleted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import metrics
from accounts.audit_commands import NODE_CREATE, NODE_DELETE, NODE_MOVE, NODE_RENAME
from accounts.customers.models import Customer
from accounts.hierarchy.models import (
    COMPANY,
    CUSTOMER_KINDS,
    PERSONAL_ACCOUNT,
    Node,
    NodeFigure,
)
from simfleet.events.v1 import accounts_pb2 as ev
from simfleet.events.v1 import inventory_pb2 as inventory_events
from simfleet_runtime import paging
from simfleet_runtime.audit import Actor, AuditTrail, obj
from simfleet_runtime.authz import Access, not_found
from simfleet_runtime.bus import Event, EventHandler, Outbox, PermanentError
from simfleet_runtime.clock import Clock, as_utc
from simfleet_runtime.db import Database
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.nodepaths import path_ids
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.validation import check_text
from simfleet_subjects import AccountsSubjects

MANAGE = "hierarchy:manage"
ORDERS = {"path": Node.path, "name": Node.name_key, "created_at": Node.created_at}
LIST_NAME = "nodes"

PARENT_KINDS = (COMPANY, *CUSTOMER_KINDS)
"""Departments, branches and cities hang under the company or under each other."""


def clean_name(value: str, *, field: str = "name") -> str:
    check_text(value, field=field, reason="INVALID_NAME")
    name = unicodedata.normalize("NFC", " ".join((value or "").split()))
    if not 1 <= len(name) <= 200 or any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidArgument(
            "the name must be 1 to 200 printable characters",
            reason="INVALID_NAME",
            field_violations={field: "1 to 200 printable characters"},
        )
    return name


def name_key(name: str) -> str:
    return name.casefold()


def snapshot(node: Node) -> ev.NodeSnapshot:
    return ev.NodeSnapshot(
        node_id=node.id,
        customer_id=node.customer_id,
        parent_id=node.parent_id or "",
        kind=node.kind,
        name=node.name,
        path=node.path,
        account_number=node.account_number or "",
    )


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    own: int
    subtree: int
    updated_at: datetime | None


@dataclass(frozen=True)
class Summary:
    node: Node
    descendants: int
    figures: list[Figure]


@dataclass(frozen=True)
class Holdings:
    """What inventory holds under a node's subtree at the time it answered."""

    lines: dict[str, int]
    """Lines by state (``ready``, ``active``, ``blocked``, ``terminated``)."""
    operations: int = 0
    """Operations not yet ended that put lines there (moves to it, SIM orders for it)."""
    items: int = 0
    """Their items not yet ended (lines on their way, SIMs and numbers reserved for new lines)."""


class NodeHoldings(Protocol):
    async def holdings(self, node_id: str) -> Holdings:
        """Inventory's answer for the current call's user; a domain error (UNAVAILABLE...) when there is none."""
        ...


class HierarchyService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        max_depth: int,
        max_nodes: int,
        inventory: NodeHoldings,
        audit: AuditTrail | None = None,
    ) -> None:
        self._audit = audit
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._inventory = inventory
        self._max_depth = max_depth
        self._max_nodes = max_nodes

    # ------------------------------------------------------------ NodePaths
    async def paths(self, customer_id: str, node_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        ids = [n for n in dict.fromkeys(node_ids) if is_id(n)]
        if not ids or not customer_id:
            return {}
        async with self._db.sessions() as session:
            rows = await session.execute(
                sa.select(Node.id, Node.path).where(Node.customer_id == customer_id, Node.id.in_(ids))
            )
            return {node_id: path_ids(path) for node_id, path in rows}

    # ------------------------------------------------------------ reading
    async def get(self, access: Access, node_id: str) -> Node:
        async with self._db.sessions() as session:
            return await self._visible(session, access, node_id, permission=None)

    async def _visible(self, session: AsyncSession, access: Access, node_id: str, *, permission: str | None) -> Node:
        node = await session.get(Node, node_id) if is_id(node_id) else None
        if node is None or node.customer_id != access.customer_id:
            raise not_found("node")
        access.check(permission, node.ids, what="node")
        return node

    async def find(
        self,
        access: Access,
        *,
        root_id: str = "",
        parent_id: str = "",
        kinds: Sequence[str] = (),
        name_contains: str = "",
        page_size: int = 0,
        page_token: str = "",
        order_by: str = "",
    ) -> tuple[list[Node], str]:
        limit = paging.page_size(page_size)
        order = paging.parse_order(order_by, allowed=tuple(ORDERS), default="path")
        after = paging.decode_token(page_token, order, list_name=LIST_NAME, size=2)
        async with self._db.sessions() as session:
            scope = await self._scope_prefixes(session, access)
            if not scope:
                return [], ""
            query = sa.select(Node).where(
                Node.customer_id == access.customer_id, sa.or_(*(Node.path.startswith(p) for p in scope))
            )
            if root_id:
                root = await self._visible(session, access, root_id, permission=None)
                query = query.where(Node.path.startswith(root.path))
            if parent_id:
                parent = await self._visible(session, access, parent_id, permission=None)
                query = query.where(Node.parent_id == parent.id)
            if kinds:
                query = query.where(Node.kind.in_(kinds))
            if name_contains.strip():
                query = query.where(Node.name_key.contains(name_key(name_contains.strip()), autoescape=True))
            column = ORDERS[order.field]
            query = paging.keyset(query, [column, Node.id], order=order, after=after, limit=limit)
            rows = list((await session.scalars(query)).all())
        key_of = {
            "path": lambda n: [n.path, n.id],
            "name": lambda n: [n.name_key, n.id],
            "created_at": lambda n: [n.created_at, n.id],
        }[order.field]
        return paging.next_token(rows, order=order, limit=limit, key=key_of, list_name=LIST_NAME)

    async def _scope_prefixes(self, session: AsyncSession, access: Access) -> list[str]:
        """The paths of the caller's grant nodes, without those inside another one."""
        roots = access.roots()
        if not roots:
            return []
        rows = await session.execute(
            sa.select(Node.path).where(Node.customer_id == access.customer_id, Node.id.in_(roots))
        )
        paths = sorted(p for (p,) in rows)
        kept: list[str] = []
        for path in paths:
            if not any(path.startswith(k) for k in kept):
                kept.append(path)
        return kept

    async def summary(self, access: Access, node_id: str) -> Summary:
        async with self._db.sessions() as session:
            node = await self._visible(session, access, node_id, permission=None)
            descendants = await session.scalar(
                sa.select(sa.func.count()).where(Node.customer_id == node.customer_id, Node.path.startswith(node.path))
            )
            rows = await session.execute(
                sa.select(
                    NodeFigure.name,
                    NodeFigure.unit,
                    sa.func.sum(sa.case((NodeFigure.node_id == node.id, NodeFigure.value), else_=0)),
                    sa.func.sum(NodeFigure.value),
                    sa.func.max(NodeFigure.updated_at),
                )
                .join(Node, Node.id == NodeFigure.node_id)
                .where(Node.customer_id == node.customer_id, Node.path.startswith(node.path))
                .group_by(NodeFigure.name, NodeFigure.unit)
                .order_by(NodeFigure.name, NodeFigure.unit)
            )
            figures = [
                Figure(name, unit, int(own or 0), int(total or 0), _aware(updated))
                for name, unit, own, total, updated in rows
            ]
        return Summary(node=node, descendants=int(descendants or 1) - 1, figures=figures)

    async def record_figures(self, node_id: str, figures: dict[str, tuple[str, int]]) -> None:
        """Set a node's figures (name → (unit, value)): what the services that own lines and money report."""
        async with self._db.transaction() as session:
            await self._set_figures(session, node_id, figures, self._clock.now())

    async def _set_figures(
        self, session: AsyncSession, node_id: str, figures: dict[str, tuple[str, int]], at: datetime
    ) -> None:
        """Figures counted at ``at``: a figure already counted later is kept (reports may arrive out of order)."""
        for name, (unit, value) in figures.items():
            row = await session.get(NodeFigure, (node_id, name))
            if row is None:
                session.add(NodeFigure(node_id=node_id, name=name, unit=unit, value=value, updated_at=at))
            elif as_utc(row.updated_at) <= at:
                row.unit, row.value, row.updated_at = unit, value, at

    def line_figures(self) -> EventHandler:
        """inventory's ``node.figures``: the lines under a node by state (a node deleted since is ignored)."""

        async def handle(session: AsyncSession, event: Event) -> None:
            try:
                report = inventory_events.NodeLineFigures.FromString(event.data)
            except DecodeError as exc:
                raise PermanentError(f"not a NodeLineFigures: {exc}") from exc
            node = await session.get(Node, report.node_id)
            if node is None or node.customer_id != report.customer_id:
                return
            at = report.computed_at.ToDatetime(tzinfo=UTC)
            await self._set_figures(session, node.id, {k: ("lines", v) for k, v in report.figures.items()}, at)

        return handle

    # ------------------------------------------------------------ changing
    async def create(self, access: Access, *, parent_id: str, kind: str, name: str) -> Node:
        if kind not in CUSTOMER_KINDS:
            raise InvalidArgument(
                f"customers create nodes of these kinds: {', '.join(CUSTOMER_KINDS)}",
                reason="INVALID_NODE_KIND",
                field_violations={"kind": f"one of {', '.join(CUSTOMER_KINDS)}"},
            )
        name = clean_name(name)
        now = self._clock.now()
        async with self._db.transaction() as session:
            parent = await self._visible(session, access, parent_id, permission=MANAGE)
            await self.lock_customer(session, parent.customer_id)
            self._check_parent(parent)
            if parent.depth + 1 > self._max_depth:
                raise FailedPrecondition(
                    f"the tree may be at most {self._max_depth} levels deep", reason="TREE_TOO_DEEP"
                )
            count = await session.scalar(sa.select(sa.func.count()).where(Node.customer_id == parent.customer_id))
            if int(count or 0) >= self._max_nodes:
                raise FailedPrecondition(
                    f"a customer may have at most {self._max_nodes} nodes", reason="TOO_MANY_NODES"
                )
            await self._check_free_name(session, parent.customer_id, parent.id, name)
            node = self.new_node(parent=parent, kind=kind, name=name, now=now)
            session.add(node)
            await session.flush()
            await self.publish_created(session, node, actor_id=access.user_id)
            await self._recorded(session, access, NODE_CREATE, node.id, parent.id)
        metrics.NODE_CHANGES.labels("created").inc()
        return node

    def new_node(
        self, *, parent: Node | None, kind: str, name: str, now: datetime, customer_id: str = "", number: str = ""
    ) -> Node:
        node_id = new_id()
        return Node(
            id=node_id,
            customer_id=parent.customer_id if parent else customer_id,
            parent_id=parent.id if parent else None,
            kind=kind,
            name=name,
            name_key=name_key(name),
            path=f"{parent.path if parent else '/'}{node_id}/",
            depth=parent.depth + 1 if parent else 0,
            account_number=number or None,
            created_at=now,
            updated_at=now,
        )

    async def publish_created(self, session: AsyncSession, node: Node, *, actor_id: str) -> None:
        """node.created; a personal account's carries its customer's currency and settlement method (billing's)."""
        created = ev.NodeCreated(node=snapshot(node), actor_id=actor_id, occurred_at=timestamp(node.created_at))
        if node.kind == PERSONAL_ACCOUNT:
            customer = await session.get(Customer, node.customer_id)
            if customer is not None:
                created.currency, created.settlement_method = customer.currency, customer.settlement_method
        await self._outbox.add(session, AccountsSubjects.NODE_CREATED, created, tenant=node.customer_id)

    async def rename(self, access: Access, *, node_id: str, name: str) -> Node:
        name = clean_name(name)
        now = self._clock.now()
        async with self._db.transaction() as session:
            node = await self._visible(session, access, node_id, permission=MANAGE)
            await self.lock_customer(session, node.customer_id)
            self._check_customer_kind(node, "renamed")
            if node.name == name:
                return node
            if name_key(name) != node.name_key:
                await self._check_free_name(session, node.customer_id, node.parent_id, name)
            node.name, node.name_key, node.updated_at = name, name_key(name), now
            await self._outbox.add(
                session,
                AccountsSubjects.NODE_RENAMED,
                ev.NodeRenamed(
                    node_id=node.id,
                    customer_id=node.customer_id,
                    name=name,
                    actor_id=access.user_id,
                    occurred_at=timestamp(now),
                ),
                tenant=node.customer_id,
            )
            await self._recorded(session, access, NODE_RENAME, node.id)
        metrics.NODE_CHANGES.labels("renamed").inc()
        return node

    async def move(self, access: Access, *, node_id: str, new_parent_id: str) -> tuple[Node, int]:
        now = self._clock.now()
        async with self._db.transaction() as session:
            node = await self._visible(session, access, node_id, permission=MANAGE)
            await self.lock_customer(session, node.customer_id)
            self._check_customer_kind(node, "moved")
            parent = await self._visible(session, access, new_parent_id, permission=MANAGE)
            self._check_parent(parent)
            if parent.path.startswith(node.path):
                raise FailedPrecondition(
                    "a node cannot move under itself or its own descendants",
                    reason="MOVE_INTO_SUBTREE",
                    field_violations={"new_parent_id": "inside the subtree being moved"},
                )
            if parent.id == node.parent_id:
                count = await self._subtree_size(session, node)
                return node, count
            gained = access.permissions_at((*parent.ids, node.id)) - access.permissions_at(node.ids)
            if gained:
                # Otherwise someone who may reorganise two places could carry a subtree to where they
                # hold more (users:manage, say) and so widen their own access over its users and lines.
                raise PermissionDenied(
                    "moving the node there would give you permissions over it that you do not hold now: "
                    + ", ".join(sorted(gained)),
                    reason="MOVE_WIDENS_YOUR_ACCESS",
                    metadata={"permissions": ",".join(sorted(gained))},
                )
            await self._check_free_name(session, node.customer_id, parent.id, node.name)
            deepest = await session.scalar(
                sa.select(sa.func.max(Node.depth)).where(
                    Node.customer_id == node.customer_id, Node.path.startswith(node.path)
                )
            )
            shift = parent.depth + 1 - node.depth
            if int(deepest or node.depth) + shift > self._max_depth:
                raise FailedPrecondition(
                    f"the tree may be at most {self._max_depth} levels deep", reason="TREE_TOO_DEEP"
                )
            old_parent, old_path = node.parent_id or "", node.path
            new_path = f"{parent.path}{node.id}/"
            node.parent_id = parent.id
            await session.flush()
            result = await session.execute(
                sa.update(Node)
                .where(Node.customer_id == node.customer_id, Node.path.startswith(old_path))
                .values(
                    path=sa.literal(new_path) + sa.func.substr(Node.path, len(old_path) + 1),
                    depth=Node.depth + shift,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            moved = int(result.rowcount or 0)  # type: ignore[attr-defined]
            await session.refresh(node)
            await self._outbox.add(
                session,
                AccountsSubjects.NODE_MOVED,
                ev.NodeMoved(
                    node_id=node.id,
                    customer_id=node.customer_id,
                    old_parent_id=old_parent,
                    new_parent_id=parent.id,
                    old_path=old_path,
                    new_path=new_path,
                    moved_nodes=moved,
                    actor_id=access.user_id,
                    occurred_at=timestamp(now),
                ),
                tenant=node.customer_id,
            )
            await self._recorded(session, access, NODE_MOVE, node.id, parent.id)
        metrics.NODE_CHANGES.labels("moved").inc()
        return node, moved

    async def delete(self, access: Access, *, node_id: str) -> None:
        """Delete a department, branch or city that holds no nodes and no lines.

        What accounts knows refuses first (nodes, the reported line figures);
        then inventory says what the node holds now (lines, and operations
        bringing lines there), outside any transaction so that no lock waits
        on it; then, with the customer locked, the node is checked again and
        deleted. Inventory not answering refuses the deletion (UNAVAILABLE).
        """
        async with self._db.sessions() as session:
            await self._deletable(session, access, node_id)
        held = await self._inventory.holdings(node_id)
        if any(held.lines.values()):
            counts = {f"lines.{state}": value for state, value in sorted(held.lines.items()) if value}
            what = ", ".join(f"{name} {value}" for name, value in counts.items())
            raise FailedPrecondition(
                f"the node still holds lines ({what}): move them first",
                reason="NODE_NOT_EMPTY",
                metadata={name: str(value) for name, value in counts.items()},
            )
        if held.operations or held.items:
            raise FailedPrecondition(
                f"{held.operations} operation(s) are bringing lines to the node: let them end or cancel them first",
                reason="NODE_NOT_EMPTY",
                metadata={"operations": str(held.operations), "items": str(held.items)},
            )
        now = self._clock.now()
        async with self._db.transaction() as session:
            await self.lock_customer(session, access.customer_id)
            node = await self._deletable(session, access, node_id)
            await session.execute(sa.delete(NodeFigure).where(NodeFigure.node_id == node.id))
            await session.delete(node)
            await self._outbox.add(
                session,
                AccountsSubjects.NODE_DELETED,
                ev.NodeDeleted(
                    node_id=node.id,
                    customer_id=node.customer_id,
                    path=node.path,
                    actor_id=access.user_id,
                    occurred_at=timestamp(now),
                ),
                tenant=node.customer_id,
            )
            await self._recorded(session, access, NODE_DELETE, node.id)
        metrics.NODE_CHANGES.labels("deleted").inc()

    async def _recorded(self, session: AsyncSession, access: Access, action: str, *node_ids: str) -> None:
        """The command's audit event, in the transaction of its change (fails it when it cannot be written)."""
        if self._audit is not None:
            objects = [obj("node", node_id, node_id) for node_id in node_ids]
            await self._audit.add(session, action, objects, actor=Actor(access.user_id, access.customer_id))

    async def _deletable(self, session: AsyncSession, access: Access, node_id: str) -> Node:
        """The node, once the caller may delete it and accounts knows of nothing it holds."""
        node = await self._visible(session, access, node_id, permission=MANAGE)
        self._check_customer_kind(node, "deleted")
        children = await session.scalar(sa.select(sa.func.count()).where(Node.parent_id == node.id))
        if children:
            raise FailedPrecondition(
                f"the node still holds {children} node(s): move or delete them first",
                reason="NODE_NOT_EMPTY",
                metadata={"nodes": str(children)},
            )
        held = (
            await session.execute(
                sa.select(NodeFigure.name, NodeFigure.value).where(
                    NodeFigure.node_id == node.id, NodeFigure.unit == "lines", NodeFigure.value != 0
                )
            )
        ).all()
        if held:
            what = ", ".join(f"{name} {value}" for name, value in held)
            raise FailedPrecondition(
                f"the node still holds lines ({what}): move them first",
                reason="NODE_NOT_EMPTY",
                metadata={name: str(value) for name, value in held},
            )
        return node

    # ------------------------------------------------------------ rules
    async def lock_customer(self, session: AsyncSession, customer_id: str) -> None:
        """Serialise the changes to one customer's tree (a no-op lock on SQLite, which has one writer)."""
        await session.execute(sa.select(Customer.id).where(Customer.id == customer_id).with_for_update())

    @staticmethod
    def _check_parent(parent: Node) -> None:
        if parent.kind not in PARENT_KINDS:
            raise FailedPrecondition(
                "departments, branches and cities hang under the company or under each other",
                reason="INVALID_PARENT",
                field_violations={"parent_id": f"a {parent.kind.replace('_', ' ')} cannot hold them"},
            )

    @staticmethod
    def _check_customer_kind(node: Node, verb: str) -> None:
        if node.kind not in CUSTOMER_KINDS:
            raise FailedPrecondition(
                f"a {node.kind.replace('_', ' ')} is part of the billing hierarchy and cannot be {verb} here",
                reason="BILLING_NODE",
            )

    async def _check_free_name(self, session: AsyncSession, customer_id: str, parent_id: str | None, name: str) -> None:
        taken = await session.scalar(
            sa.select(Node.id).where(
                Node.customer_id == customer_id, Node.parent_id == parent_id, Node.name_key == name_key(name)
            )
        )
        if taken is not None:
            raise FailedPrecondition(
                "a node with this name already hangs there",
                reason="NODE_NAME_TAKEN",
                field_violations={"name": "taken by a sibling"},
            )

    async def _subtree_size(self, session: AsyncSession, node: Node) -> int:
        count = await session.scalar(
            sa.select(sa.func.count()).where(Node.customer_id == node.customer_id, Node.path.startswith(node.path))
        )
        return int(count or 0)


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)
