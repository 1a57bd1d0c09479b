"""Keeping the groups of lines (AC-5) within the caller's scope.

A group belongs to a node. It is seen by those whose scope contains its node, and by those whose scope lies
below it (a department's manager sees, and may put their lines in, the company's groups; the node above them
stays unnamed: its id is not given). Creating, renaming, restyling and deleting a group need ``lines:label`` at
its node. Anything else (another customer's group, a group of a sibling department) is NOT_FOUND like one that
never was. A line may be in a group whose node is on the line's path (set_group checks it per line), so whoever
may change a group sees all of its lines' nodes. The count of a group's lines is of those the caller may read.

Lines refer to their group by id and keep a copy of its name: renaming a group renames it on its lines in the
same transaction, and deleting one takes its lines out of it in the same transaction (the lines stay, in no
group), as a manager expects of a folder of employees.

Creating, changing and deleting a group are in the action history (AU-1, AU-2): each writes its event in the
transaction of its change (a failed write fails the call); the interceptor records the refusals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.audit_commands import GROUP_CREATE, GROUP_DELETE, GROUP_UPDATE, group_objects
from inventory.db import NODE_PATHS
from inventory.line_groups.models import LineGroup
from inventory.lines.models import Line
from inventory.lines.service import READ
from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime.audit import Actor, AuditTrail
from simfleet_runtime.authz import LABEL_LINES, Access, is_node_id, not_found, permission_missing
from simfleet_runtime.bus import Event, EventHandler
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.nodepaths import DELETED, MOVED, path_ids
from simfleet_runtime.validation import (
    GROUP_COLOUR_DEFAULT,
    GROUP_COLOURS,
    GROUP_ICON_DEFAULT,
    GROUP_ICONS,
    group_problem,
)

MAX_PER_CUSTOMER = 1000
"""Groups one customer may keep: folders of employees, not a store."""
WHAT = "line group"


@dataclass(frozen=True)
class GroupView:
    """A group as the caller sees it: ``node_id`` is empty for a group above the caller's scope."""

    group: LineGroup
    node_id: str
    line_count: int


@dataclass(frozen=True)
class GroupChange:
    """What to change of a group; None leaves it."""

    name: str | None = None
    icon: str | None = None
    colour: str | None = None


def _invalid(field: str, message: str, reason: str) -> InvalidArgument:
    return InvalidArgument(message, reason=reason, field_violations={field: message})


def checked_name(name: str) -> str:
    if problem := group_problem(name):
        raise _invalid("name", f"the group's name {problem}", "INVALID_GROUP_NAME")
    return name


def checked_icon(icon: str) -> str:
    if icon not in GROUP_ICONS:
        raise _invalid("icon", "must be one of " + ", ".join(GROUP_ICONS), "INVALID_GROUP_ICON")
    return icon


def checked_colour(colour: str) -> str:
    if colour not in GROUP_COLOURS:
        raise _invalid("colour", "must be one of " + ", ".join(GROUP_COLOURS), "INVALID_GROUP_COLOUR")
    return colour


def _name_taken() -> AlreadyExists:
    return AlreadyExists(
        "this node has a group of this name already",
        reason="GROUP_EXISTS",
        field_violations={"name": "already used by another group of this node"},
    )


async def group_above(
    session: AsyncSession, customer_id: str, node_id: str, *, group_id: str = "", name: str = ""
) -> LineGroup | None:
    """The group a line of ``node_id`` may be put in: the one of id ``group_id`` when its node is on the line's
    path, else the nearest group named ``name`` on that path; None when there is none."""
    path = await session.scalar(
        sa.select(NODE_PATHS.c.path).where(NODE_PATHS.c.customer_id == customer_id, NODE_PATHS.c.node_id == node_id)
    )
    on_path = path_ids(path) if path is not None else (node_id,)
    query = sa.select(LineGroup).where(LineGroup.customer_id == customer_id, LineGroup.node_id.in_(on_path))
    query = query.where(LineGroup.id == group_id) if group_id else query.where(LineGroup.name == name)
    found = list((await session.scalars(query)).all())
    if not found:
        return None
    depth = {node: i for i, node in enumerate(on_path)}
    return max(found, key=lambda g: depth.get(g.node_id, -1))


async def groups_for_import(
    session: AsyncSession, customer_id: str, root_id: str, names: Iterable[str], now: datetime
) -> dict[str, str]:
    """The ids of the groups named ``names`` at the customer's root, made (default icon and colour) when missing:
    lines imported with a group's name join the company's group of that name."""
    wanted = list(dict.fromkeys(n for n in names if n))
    if not wanted:
        return {}
    found = await session.execute(
        sa.select(LineGroup.name, LineGroup.id).where(
            LineGroup.customer_id == customer_id, LineGroup.node_id == root_id, LineGroup.name.in_(wanted)
        )
    )
    ids = {name: group_id for name, group_id in found}
    for name in wanted:
        if name not in ids:
            ids[name] = new_id()
            session.add(
                LineGroup(
                    id=ids[name],
                    customer_id=customer_id,
                    node_id=root_id,
                    name=name,
                    icon=GROUP_ICON_DEFAULT,
                    colour=GROUP_COLOUR_DEFAULT,
                    created_at=now,
                    updated_at=now,
                )
            )
    return ids


def following_the_tree(paths: EventHandler) -> EventHandler:
    """The projection's handler of accounts' node events, and the groups kept true to the tree in the same
    transaction: a node deleted (it held no lines) takes its groups with it; a subtree moved takes its lines out
    of the groups no longer above them, so that a line is only ever in a group whose node is on its path."""

    async def handle(session: AsyncSession, event: Event) -> None:
        await paths(session, event)
        if event.subject == DELETED:
            gone = ev.NodeDeleted.FromString(event.data)
            await session.execute(sa.delete(LineGroup).where(LineGroup.node_id == gone.node_id))
        elif event.subject == MOVED:
            moved = ev.NodeMoved.FromString(event.data)
            await _leave_groups_not_above(session, moved.customer_id, moved.new_path)

    return handle


async def _leave_groups_not_above(session: AsyncSession, customer_id: str, under: str) -> None:
    """Lines under the path ``under`` whose group's node is not on their path leave their group."""
    t = NODE_PATHS
    moved_nodes = sa.select(t.c.node_id).where(
        t.c.customer_id == customer_id, t.c.path.startswith(under, autoescape=True)
    )
    above = (
        sa.select(LineGroup.id)
        .where(
            LineGroup.id == Line.group_id,
            t.c.customer_id == customer_id,
            t.c.node_id == Line.node_id,
            t.c.path.like(sa.literal("%/") + LineGroup.node_id + sa.literal("/%")),
        )
        .correlate(Line)
        .exists()
    )
    await session.execute(
        sa.update(Line)
        .where(
            Line.customer_id == customer_id,
            Line.group_id.is_not(None),
            Line.node_id.in_(moved_nodes),
            ~above,
        )
        .values(group_id=None, group_name=None)
        .execution_options(synchronize_session=False)
    )


class LineGroups:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        max_per_customer: int = MAX_PER_CUSTOMER,
        audit: AuditTrail | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._max = max_per_customer
        self._audit = audit

    async def _recorded(self, session: AsyncSession, access: Access, action: str, group: LineGroup) -> None:
        """The command's audit event, in the transaction of its change (fails it when it cannot be written)."""
        if self._audit is not None:
            actor = Actor(access.user_id, access.customer_id)
            await self._audit.add(session, action, group_objects(group.id, group.node_id), actor=actor)

    @staticmethod
    async def _paths(session: AsyncSession, customer_id: str, node_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        ids = list(dict.fromkeys(node_ids))
        if not ids:
            return {}
        rows = await session.execute(
            sa.select(NODE_PATHS.c.node_id, NODE_PATHS.c.path).where(
                NODE_PATHS.c.customer_id == customer_id, NODE_PATHS.c.node_id.in_(ids)
            )
        )
        return {node: path_ids(path) for node, path in rows}

    async def _above(self, session: AsyncSession, access: Access) -> set[str]:
        """The nodes above the caller's grants (each grant's path, its own node left out)."""
        above: set[str] = set()
        for node, path in (await self._paths(session, access.customer_id, access.roots())).items():
            above.update(n for n in path if n != node)
        return above

    async def _counts(self, session: AsyncSession, access: Access, group_ids: Sequence[str]) -> dict[str, int]:
        roots = access.roots(READ)
        if not group_ids or not roots:
            return {}
        readable = sa.select(NODE_PATHS.c.node_id).where(
            NODE_PATHS.c.customer_id == access.customer_id,
            sa.or_(*(NODE_PATHS.c.path.contains(f"/{root}/", autoescape=True) for root in roots)),
        )
        rows = await session.execute(
            sa.select(Line.group_id, sa.func.count())
            .where(Line.customer_id == access.customer_id, Line.group_id.in_(group_ids), Line.node_id.in_(readable))
            .group_by(Line.group_id)
        )
        return {str(group_id): int(count) for group_id, count in rows}

    async def _views(self, session: AsyncSession, access: Access, groups: Sequence[LineGroup]) -> list[GroupView]:
        """Those of ``groups`` the caller sees, with what they may know of each."""
        paths = await self._paths(session, access.customer_id, (g.node_id for g in groups))
        above = await self._above(session, access) if groups else set()
        seen: list[tuple[LineGroup, str]] = []
        for group in groups:
            path = paths.get(group.node_id)
            if path is None:
                continue
            if access.sees(path):
                seen.append((group, group.node_id))
            elif group.node_id in above:
                seen.append((group, ""))
        counts = await self._counts(session, access, [g.id for g, _ in seen])
        return [GroupView(g, node, counts.get(g.id, 0)) for g, node in seen]

    async def list(self, access: Access, *, for_node_id: str = "") -> list[GroupView]:
        async with self._db.sessions() as session:
            query = sa.select(LineGroup).where(LineGroup.customer_id == access.customer_id)
            if for_node_id:
                path = (await self._paths(session, access.customer_id, [for_node_id])).get(for_node_id)
                if not is_node_id(for_node_id) or path is None or not access.sees(path):
                    raise not_found("node")
                query = query.where(LineGroup.node_id.in_(path))
            found = await session.scalars(query.order_by(LineGroup.name, LineGroup.id))
            return await self._views(session, access, list(found.all()))

    async def get(self, access: Access, group_id: str) -> GroupView:
        async with self._db.sessions() as session:
            group = await self._group(session, access, group_id)
            views = await self._views(session, access, [group])
        if not views:
            raise not_found(WHAT)
        return views[0]

    @staticmethod
    async def _group(session: AsyncSession, access: Access, group_id: str) -> LineGroup:
        group = (
            await session.scalar(
                sa.select(LineGroup).where(LineGroup.customer_id == access.customer_id, LineGroup.id == group_id)
            )
            if is_id(group_id)
            else None
        )
        if group is None:
            raise not_found(WHAT)
        return group

    async def _managed(self, session: AsyncSession, access: Access, group_id: str) -> LineGroup:
        """The group, when the caller may change it (lines:label at its node); one they do not see is NOT_FOUND,
        one above their scope (seen, not theirs) PERMISSION_MISSING."""
        group = await self._group(session, access, group_id)
        path = (await self._paths(session, access.customer_id, [group.node_id])).get(group.node_id)
        if path is not None and not access.sees(path) and group.node_id in await self._above(session, access):
            raise permission_missing(LABEL_LINES, here=True)
        access.check(LABEL_LINES, path, what=WHAT)
        return group

    async def create(self, access: Access, *, node_id: str, name: str, icon: str, colour: str) -> GroupView:
        """A new group at ``node_id`` (lines:label there; a node outside the scope is NOT_FOUND)."""
        name = checked_name(name)
        icon = checked_icon(icon or GROUP_ICON_DEFAULT)
        colour = checked_colour(colour or GROUP_COLOUR_DEFAULT)
        if not is_node_id(node_id):
            raise not_found("node")
        now = self._clock.now()
        try:
            async with self._db.transaction() as session:
                path = (await self._paths(session, access.customer_id, [node_id])).get(node_id)
                access.check(LABEL_LINES, path, what="node")
                kept = await session.scalar(
                    sa.select(sa.func.count()).select_from(LineGroup).where(LineGroup.customer_id == access.customer_id)
                )
                if (kept or 0) >= self._max:
                    raise FailedPrecondition(
                        f"the customer keeps {self._max} groups already, the most one may: delete one first",
                        reason="LINE_GROUPS_LIMIT",
                        metadata={"limit": str(self._max)},
                    )
                await self._free(session, access.customer_id, node_id, name)
                group = LineGroup(
                    id=new_id(),
                    customer_id=access.customer_id,
                    node_id=node_id,
                    name=name,
                    icon=icon,
                    colour=colour,
                    created_at=now,
                    updated_at=now,
                )
                session.add(group)
                await self._recorded(session, access, GROUP_CREATE, group)
        except IntegrityError as exc:  # the same name made at the same moment
            raise _name_taken() from exc
        return GroupView(group, node_id, 0)

    @staticmethod
    async def _free(session: AsyncSession, customer_id: str, node_id: str, name: str, but: str = "") -> None:
        taken = await session.scalar(
            sa.select(LineGroup.id).where(
                LineGroup.customer_id == customer_id,
                LineGroup.node_id == node_id,
                LineGroup.name == name,
                LineGroup.id != but,
            )
        )
        if taken is not None:
            raise _name_taken()

    async def update(self, access: Access, group_id: str, change: GroupChange) -> GroupView:
        """Rename or restyle a group; a new name is its lines' too, in the same transaction."""
        name = None if change.name is None else checked_name(change.name)
        icon = None if change.icon is None else checked_icon(change.icon)
        colour = None if change.colour is None else checked_colour(change.colour)
        try:
            async with self._db.transaction() as session:
                group = await self._managed(session, access, group_id)
                if name is not None and name != group.name:
                    await self._free(session, access.customer_id, group.node_id, name, but=group.id)
                    group.name = name
                    await session.execute(
                        sa.update(Line)
                        .where(Line.customer_id == access.customer_id, Line.group_id == group.id)
                        .values(group_name=name)
                    )
                if icon is not None:
                    group.icon = icon
                if colour is not None:
                    group.colour = colour
                group.updated_at = self._clock.now()
                await session.flush()
                views = await self._views(session, access, [group])
                await self._recorded(session, access, GROUP_UPDATE, group)
        except IntegrityError as exc:
            raise _name_taken() from exc
        return views[0]

    async def delete(self, access: Access, group_id: str) -> int:
        """Delete a group and take its lines out of it in the same transaction; the count of those lines."""
        async with self._db.transaction() as session:
            group = await self._managed(session, access, group_id)
            cleared = await session.execute(
                sa.update(Line)
                .where(Line.customer_id == access.customer_id, Line.group_id == group.id)
                .values(group_id=None, group_name=None)
            )
            await session.delete(group)
            await self._recorded(session, access, GROUP_DELETE, group)
        return int(cleared.rowcount)  # type: ignore[attr-defined]
