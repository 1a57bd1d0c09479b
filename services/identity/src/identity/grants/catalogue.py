"""Roles as customers see and build them (ID-10): the predefined five and their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from identity.audit_commands import ROLE_CREATE, ROLE_DELETE, ROLE_UPDATE
from identity.grants import service as grants
from identity.grants.models import CustomRole, GrantRecord
from identity.grants.roles import PREDEFINED, Role
from simfleet_runtime import paging
from simfleet_runtime.audit import Actor, AuditTrail, obj
from simfleet_runtime.authz import Access
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.nodepaths import ProjectedNodePaths

MANAGE = "roles:manage"
MAX_CUSTOM_ROLES = 200
"""Custom roles one customer may define (the list of roles stays small enough to hold in memory)."""
LIST_NAME = "roles"


@dataclass(frozen=True)
class RoleView:
    role: Role
    predefined: bool
    created_at: datetime | None = None
    updated_at: datetime | None = None


class RoleCatalogue:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        paths: ProjectedNodePaths,
        audit: AuditTrail | None = None,
    ) -> None:
        self._audit = audit
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._paths = paths

    async def page(
        self, access: Access, *, query: str = "", page_size: int = 0, page_token: str = "", order_by: str = ""
    ) -> tuple[list[RoleView], str]:
        """Roles a page at a time: by default the predefined ones first (in their order), then by name."""
        limit = paging.page_size(page_size)
        order = paging.parse_order(order_by, allowed=("predefined", "name"), default="predefined")
        text = query.strip().casefold()
        views = [v for v in await self.all_roles(access) if text in v.role.name.casefold()]
        rank = {role_id: i for i, role_id in enumerate(PREDEFINED)}

        def key(view: RoleView) -> list[Any]:
            first = rank.get(view.role.id, len(rank)) if order.field == "predefined" else 0
            return [first, view.role.name.casefold(), view.role.id]

        return paging.in_memory(views, key=key, order=order, limit=limit, token=page_token, list_name=LIST_NAME)

    async def all_roles(self, access: Access) -> list[RoleView]:
        views = [RoleView(role, True) for role in PREDEFINED.values()]
        async with self._db.sessions() as session:
            rows = await session.scalars(
                sa.select(CustomRole).where(CustomRole.customer_id == access.customer_id).order_by(CustomRole.name_key)
            )
            views += [RoleView(grants.custom_role(r), False, r.created_at, r.updated_at) for r in rows]
        return views

    def _may_manage(self, access: Access, permissions: Sequence[str]) -> None:
        access.require(MANAGE)
        held: set[str] = set()
        for grant in access.grants:
            held |= grant.permissions
        beyond = set(permissions) - held
        if beyond:
            # Otherwise a role manager could widen a role they hold, and so their own access.
            raise PermissionDenied(
                "a role cannot hold permissions you do not hold",
                reason="ROLE_EXCEEDS_YOURS",
                metadata={"permissions": ",".join(sorted(beyond))},
            )

    async def create(self, access: Access, *, name: str, description: str, permissions: Sequence[str]) -> RoleView:
        name, description, perms = grants.clean_role(name, description, permissions)
        self._may_manage(access, perms)
        now = self._clock.now()
        row = CustomRole(
            id=new_id(),
            customer_id=access.customer_id,
            name=name,
            name_key=name.casefold(),
            description=description,
            permissions=perms,
            created_by=access.user_id,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self._db.transaction() as session:
                count = await session.scalar(
                    sa.select(sa.func.count()).where(CustomRole.customer_id == access.customer_id)
                )
                if int(count or 0) >= MAX_CUSTOM_ROLES:
                    raise FailedPrecondition(
                        f"a customer may define at most {MAX_CUSTOM_ROLES} roles", reason="TOO_MANY_ROLES"
                    )
                session.add(row)
                await self._recorded(session, access, ROLE_CREATE, row.id)
        except IntegrityError as exc:
            raise AlreadyExists("a role with this name exists", reason="ROLE_NAME_TAKEN") from exc
        return RoleView(grants.custom_role(row), False, now, now)

    async def _own(self, session: AsyncSession, access: Access, role_id: str) -> CustomRole:
        if role_id in PREDEFINED:
            raise FailedPrecondition("predefined roles cannot be changed", reason="PREDEFINED_ROLE")
        row = await session.get(CustomRole, role_id) if is_id(role_id) else None
        if row is None or row.customer_id != access.customer_id:
            raise NotFound("the role does not exist", reason="ROLE_NOT_FOUND")
        return row

    async def update(
        self, access: Access, *, role_id: str, name: str, description: str, permissions: Sequence[str]
    ) -> RoleView:
        name, description, perms = grants.clean_role(name, description, permissions)
        self._may_manage(access, perms)
        try:
            async with self._db.transaction() as session:
                row = await self._own(session, access, role_id)
                self._may_manage(access, row.permissions)  # nor narrow a role beyond one's own reach
                changed = set(perms) ^ set(row.permissions)
                holders = await self._check_grants_of(session, access, row.id, changed) if changed else []
                now = self._clock.now()
                row.name, row.name_key, row.description = name, name.casefold(), description
                row.permissions, row.updated_at = perms, now
                if holders:
                    await grants.revise(
                        session,
                        self._outbox,
                        user_ids=holders,
                        customer_id=access.customer_id,
                        cause="role_changed",
                        now=now,
                    )
                await self._recorded(session, access, ROLE_UPDATE, row.id)
        except IntegrityError as exc:
            raise AlreadyExists("a role with this name exists", reason="ROLE_NAME_TAKEN") from exc
        return RoleView(grants.custom_role(row), False, row.created_at, row.updated_at)

    async def _check_grants_of(
        self, session: AsyncSession, access: Access, role_id: str, changed: set[str]
    ) -> list[str]:
        """The users holding the role, once the editor holds every changed permission wherever it is granted.

        Changing a role changes every grant of it: without this, someone who
        manages roles in one department could widen (or strip) a role granted
        over the whole company, and so their own access or their superiors'.
        """
        records = (
            await session.execute(
                sa.select(GrantRecord.user_id, GrantRecord.node_id).where(GrantRecord.role_id == role_id)
            )
        ).all()
        nodes = {node for _, node in records}
        paths = await self._paths.paths(access.customer_id, nodes, session=session)
        for node in sorted(nodes):
            path = paths.get(node)
            if path is None:
                continue  # the node is gone: the grant reaches nothing
            missing = changed - (access.permissions_at(path) if access.sees(path) else frozenset())
            if missing:
                raise PermissionDenied(
                    "the role is granted where you do not hold the permissions you change: "
                    + ", ".join(sorted(missing)),
                    reason="ROLE_GRANTED_BEYOND_YOU",
                    metadata={"permissions": ",".join(sorted(missing))},
                )
        return sorted({user for user, _ in records})

    async def delete(self, access: Access, *, role_id: str) -> None:
        async with self._db.transaction() as session:
            row = await self._own(session, access, role_id)
            self._may_manage(access, row.permissions)
            used = await session.scalar(sa.select(sa.func.count()).where(GrantRecord.role_id == row.id))
            if used:
                raise FailedPrecondition(
                    f"the role is held by {used} grant(s): remove them first",
                    reason="ROLE_IN_USE",
                    metadata={"grants": str(used)},
                )
            await session.delete(row)
            await self._recorded(session, access, ROLE_DELETE, row.id)

    async def _recorded(self, session: AsyncSession, access: Access, action: str, role_id: str) -> None:
        """The command's audit event, in the transaction of its change (fails it when it cannot be written)."""
        if self._audit is not None:
            await self._audit.add(
                session, action, [obj("role", role_id)], actor=Actor(access.user_id, access.customer_id)
            )
