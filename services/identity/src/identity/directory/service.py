"""The customer's users as its managers manage them (ID-8, ID-9, ID-11).

Every decision is permission and scope, from the caller's grants as identity
holds them now (fresher than their token) and identity's copy of the tree:

* a user is visible when one of their grants lies where the caller holds
  ``users:read`` or ``users:manage``; anyone else (or another customer's user)
  is NOT_FOUND;
* giving or taking a grant needs ``users:manage`` at its node, and the role may
  hold nothing the caller does not hold there (no escalation);
* disabling or enabling a user needs that over every grant the user holds: one
  cannot disable someone who outranks them, nor themselves;
* a user left without any grant (the last one removed, or its node deleted)
  belongs to the company as a whole: those who hold ``users:read`` or
  ``users:manage`` over the company node see and manage them, so nobody is
  left able to sign in whom no one can disable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from identity.audit_commands import DISABLE, ENABLE, GRANT_ADD, GRANT_REMOVE, INVITE
from identity.grants import service as grants
from identity.grants.models import GrantRecord
from identity.grants.roles import Role
from identity.sessions.service import SessionService
from identity.users.models import ACTIVE, DISABLED, User
from identity.users.service import UserService
from simfleet.events.v1 import accounts_pb2 as accounts_ev
from simfleet.events.v1 import audit_pb2
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime import nodepaths, paging
from simfleet_runtime.audit import Actor, AuditTrail, obj
from simfleet_runtime.auth import Principal
from simfleet_runtime.authz import Access, not_found
from simfleet_runtime.bus import Outbox
from simfleet_runtime.bus.consumer import Event, EventHandler
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from simfleet_runtime.ids import is_id
from simfleet_runtime.nodepaths import ProjectedNodePaths
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import IdentitySubjects

READ = ("users:read", "users:manage")
MAX_GRANTS_PER_USER = 100
MANAGE = "users:manage"
ORDERS = {"display_name": User.display_name, "created_at": User.created_at}
USERS_LIST = "users"
GRANTS_LIST = "grants"


@dataclass(frozen=True)
class HeldGrant:
    record: GrantRecord
    role: Role


class Directory:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        users: UserService,
        sessions: SessionService,
        paths: ProjectedNodePaths,
        audit: AuditTrail | None = None,
    ) -> None:
        self._audit = audit
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._users = users
        self._sessions = sessions
        self._paths = paths

    async def access(self, principal: Principal) -> Access:
        """The caller with the grants identity holds for them now."""
        async with self._db.sessions() as session:
            return Access(principal, tuple(await grants.for_token(session, principal.user_id)))

    # ------------------------------------------------------------ reading
    async def _readable_nodes(self, session: AsyncSession, access: Access) -> list[str]:
        nodes: set[str] = set()
        for grant in access.grants:
            if grant.permissions & set(READ):
                nodes.update(await self._paths.subtree(session, access.customer_id, grant.node_id))
        return sorted(nodes)

    async def _visible(self, session: AsyncSession, access: Access, user_id: str) -> User:
        user = await session.get(User, user_id) if is_id(user_id) else None
        if user is None or user.customer_id != access.customer_id:
            raise not_found("user")
        nodes = [
            r.node_id for r in (await session.scalars(sa.select(GrantRecord).where(GrantRecord.user_id == user.id)))
        ]
        paths = list((await self._paths.paths(access.customer_id, nodes, session=session)).values())
        if not paths and (root := await self._paths.root(session, access.customer_id)) is not None:
            paths = [(root,)]  # no grant: the user belongs to the company as a whole
        if not any(access.permissions_at(p) & set(READ) for p in paths):
            raise not_found("user")
        return user

    async def get(self, access: Access, user_id: str) -> User:
        async with self._db.sessions() as session:
            return await self._visible(session, access, user_id)

    async def find(
        self,
        access: Access,
        *,
        node_id: str = "",
        query: str = "",
        status: str = "",
        page_size: int = 0,
        page_token: str = "",
        order_by: str = "",
    ) -> tuple[list[User], str]:
        limit = paging.page_size(page_size)
        order = paging.parse_order(order_by, allowed=tuple(ORDERS), default="display_name")
        after = paging.decode_token(page_token, order, list_name=USERS_LIST, size=2)
        async with self._db.sessions() as session:
            if node_id:
                path = (await self._paths.paths(access.customer_id, [node_id], session=session)).get(node_id)
                if path is None or not access.sees(path):
                    raise not_found("node")
                access.require(*READ, at=path)
            else:
                access.require(*READ)
            nodes = await self._readable_nodes(session, access)
            if node_id:
                nodes = sorted(set(nodes) & set(await self._paths.subtree(session, access.customer_id, node_id)))
            if not nodes:
                return [], ""
            holders = sa.select(GrantRecord.user_id).where(GrantRecord.node_id.in_(nodes))
            reach: sa.ColumnElement[bool] = User.id.in_(holders)
            root = await self._paths.root(session, access.customer_id)
            if root is not None and root in nodes and (not node_id or node_id == root):
                # Users without any grant hang at the company node.
                reach = sa.or_(reach, User.id.not_in(sa.select(GrantRecord.user_id)))
            select = sa.select(User).where(User.customer_id == access.customer_id, User.operator_role.is_(None), reach)
            if status:
                select = select.where(User.status == status)
            text = query.strip().lower()
            if text:
                select = select.where(
                    sa.or_(
                        sa.func.lower(User.display_name).contains(text, autoescape=True),
                        User.phone.contains(text, autoescape=True),
                        User.email.contains(text, autoescape=True),
                    )
                )
            select = paging.keyset(select, [ORDERS[order.field], User.id], order=order, after=after, limit=limit)
            rows = list((await session.scalars(select)).all())
        key = (lambda u: [u.display_name, u.id]) if order.field == "display_name" else (lambda u: [u.created_at, u.id])
        return paging.next_token(rows, order=order, limit=limit, key=key, list_name=USERS_LIST)

    async def grants_page(
        self, access: Access, user_id: str, *, page_size: int = 0, page_token: str = "", order_by: str = ""
    ) -> tuple[list[HeldGrant], str]:
        limit = paging.page_size(page_size)
        order = paging.parse_order(order_by, allowed=("created_at",), default="created_at")
        held = await self.grants_of(access, user_id)
        return paging.in_memory(
            held,
            key=lambda g: [g.record.created_at, g.record.id],
            order=order,
            limit=limit,
            token=page_token,
            list_name=GRANTS_LIST,
        )

    async def grants_of(self, access: Access, user_id: str) -> list[HeldGrant]:
        """The user's grants that lie in the caller's scope."""
        async with self._db.sessions() as session:
            user = await self._visible(session, access, user_id)
            held = await grants.of_user(session, user.id)
        paths = await self._paths.paths(access.customer_id, [r.node_id for r, _ in held])
        return [HeldGrant(r, role) for r, role in held if r.node_id in paths and access.sees(paths[r.node_id])]

    # ------------------------------------------------------------ rules
    def _may_grant(self, access: Access, role: Role, path: tuple[str, ...] | None) -> None:
        if path is None or not access.sees(path):
            raise not_found("node")
        access.require(MANAGE, at=path)
        held = access.permissions_at(path)
        beyond = role.permissions - held
        if beyond:
            raise PermissionDenied(
                "nobody can grant permissions they do not hold where they grant them",
                reason="GRANT_EXCEEDS_YOURS",
                metadata={"permissions": ",".join(sorted(beyond))},
            )

    async def _check_grants(self, access: Access, specs: Sequence[tuple[str, str]]) -> None:
        grants.check_specs(specs)
        async with self._db.sessions() as session:
            roles = await grants.require_roles(session, access.customer_id, specs)
        paths = await self._paths.paths(access.customer_id, [node for _, node in specs])
        for role, (_ref, node) in zip(roles, specs, strict=True):
            self._may_grant(access, role, paths.get(node))

    async def _check_outranks(self, session: AsyncSession, access: Access, user: User) -> None:
        if user.id == access.user_id:
            raise FailedPrecondition("you cannot change your own access", reason="OWN_ACCESS")
        held = await grants.of_user(session, user.id)
        paths = await self._paths.paths(access.customer_id, [r.node_id for r, _ in held], session=session)
        for record, role in held:
            path = paths.get(record.node_id)
            if path is None:
                continue  # the node is gone: the grant reaches nothing
            if (
                not access.sees(path)
                or MANAGE not in access.permissions_at(path)
                or role.permissions - (access.permissions_at(path))
            ):
                raise PermissionDenied(
                    "the user holds access beyond yours", reason="USER_OUTRANKS_YOU", metadata={"user_id": user.id}
                )

    # ------------------------------------------------------------ changing
    async def invite(
        self,
        access: Access,
        *,
        phone: str,
        email: str,
        display_name: str,
        specs: Sequence[tuple[str, str]],
        request_id: str = "",
    ) -> tuple[User, list[HeldGrant]]:
        if not specs:
            raise InvalidArgument(
                "a user needs at least one grant", reason="INVALID_GRANT", field_violations={"grants": "at least one"}
            )
        await self._check_grants(access, specs)
        user = await self._users.create(
            customer_id=access.customer_id,
            phone=phone,
            email=email,
            display_name=display_name,
            request_id=f"{access.user_id}:{request_id}" if request_id else "",
            grant_specs=specs,
            invite=True,
            granted_by=access.user_id,
            audited=(INVITE, _actor(access)),
        )
        return user, await self.grants_of(access, user.id)

    async def add_grant(self, access: Access, *, user_id: str, role: str, node_id: str) -> HeldGrant:
        await self.get(access, user_id)  # a user the caller cannot see is not found, whatever else is wrong
        await self._check_grants(access, [(role, node_id)])
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await self._visible(session, access, user_id)
            if user.id == access.user_id:
                raise FailedPrecondition("you cannot change your own access", reason="OWN_ACCESS")
            exists = await session.scalar(
                sa.select(GrantRecord.id).where(
                    GrantRecord.user_id == user.id, GrantRecord.role_id == role, GrantRecord.node_id == node_id
                )
            )
            if exists is not None:
                raise FailedPrecondition("the user holds this grant already", reason="GRANT_EXISTS")
            held = await session.scalar(sa.select(sa.func.count()).where(GrantRecord.user_id == user.id))
            if int(held or 0) >= MAX_GRANTS_PER_USER:
                raise FailedPrecondition(
                    f"a user may hold at most {MAX_GRANTS_PER_USER} grants", reason="TOO_MANY_GRANTS"
                )
            (record,) = await grants.add(
                session,
                user_id=user.id,
                customer_id=user.customer_id,
                specs=[(role, node_id)],
                granted_by=access.user_id,
                now=now,
            )
            await self._publish_grant(session, IdentitySubjects.GRANT_ADDED, record, access.user_id)
            await grants.revise(
                session, self._outbox, user_ids=[user.id], customer_id=user.customer_id, cause="grant_added", now=now
            )
            await self._recorded(
                session, access, GRANT_ADD, [obj("user", user.id), obj("grant", record.id, record.node_id)]
            )
            resolved = await grants.resolve(session, access.customer_id, role)
        assert resolved is not None
        return HeldGrant(record, resolved)

    async def remove_grant(self, access: Access, *, user_id: str, grant_id: str) -> None:
        async with self._db.transaction() as session:
            user = await self._visible(session, access, user_id)
            if user.id == access.user_id:
                raise FailedPrecondition("you cannot change your own access", reason="OWN_ACCESS")
            record = await session.get(GrantRecord, grant_id) if is_id(grant_id) else None
            if record is None or record.user_id != user.id:
                raise not_found("grant")
            role = await grants.resolve(session, access.customer_id, record.role_id)
            path = (await self._paths.paths(access.customer_id, [record.node_id], session=session)).get(record.node_id)
            if path is None or not access.sees(path):
                raise not_found("grant")
            if role is not None:
                self._may_grant(access, role, path)
            await session.delete(record)
            await self._publish_grant(session, IdentitySubjects.GRANT_REMOVED, record, access.user_id)
            await grants.revise(
                session,
                self._outbox,
                user_ids=[user.id],
                customer_id=user.customer_id,
                cause="grant_removed",
                now=self._clock.now(),
            )
            await self._recorded(
                session, access, GRANT_REMOVE, [obj("user", user.id), obj("grant", record.id, record.node_id)]
            )

    async def _recorded(
        self, session: AsyncSession, access: Access, action: str, objects: list[audit_pb2.AuditObject]
    ) -> None:
        """The command's audit event, in the transaction of its change (fails it when it cannot be written)."""
        if self._audit is not None:
            await self._audit.add(session, action, objects, actor=_actor(access))

    async def _publish_grant(self, session: AsyncSession, subject: str, record: GrantRecord, actor: str) -> None:
        await self._outbox.add(
            session,
            subject,
            ev.GrantChanged(
                grant_id=record.id,
                user_id=record.user_id,
                customer_id=record.customer_id,
                role=record.role_id,
                node_id=record.node_id,
                actor_id=actor,
                occurred_at=timestamp(self._clock.now()),
            ),
            tenant=record.customer_id,
        )

    def node_events(self) -> EventHandler:
        """The node-path projection's handler, and: grants over a deleted node go with it."""
        project = self._paths.handler()

        async def handle(session: AsyncSession, event: Event) -> None:
            await project(session, event)
            if event.subject != nodepaths.DELETED:
                return
            deleted = accounts_ev.NodeDeleted.FromString(event.data)
            records = (
                await session.scalars(
                    sa.select(GrantRecord).where(
                        GrantRecord.node_id == deleted.node_id, GrantRecord.customer_id == deleted.customer_id
                    )
                )
            ).all()
            actor = Actor(deleted.actor_id or "accounts", deleted.customer_id)
            for record in records:
                await session.delete(record)
                await self._publish_grant(session, IdentitySubjects.GRANT_REMOVED, record, actor.id)
                if self._audit is not None:  # in the action history like any other grant change
                    objects = [obj("user", record.user_id), obj("grant", record.id, record.node_id)]
                    await self._audit.add(session, GRANT_REMOVE, objects, actor=actor)
            await grants.revise(
                session,
                self._outbox,
                user_ids=[r.user_id for r in records],
                customer_id=deleted.customer_id,
                cause="node_deleted",
                now=self._clock.now(),
            )

        return handle

    async def set_status(self, access: Access, *, user_id: str, active: bool) -> User:
        """Disable (every session ends now, and every service is told) or enable a user."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await self._visible(session, access, user_id)
            await self._check_outranks(session, access, user)
            wanted = ACTIVE if active else DISABLED
            if user.status == wanted:
                return user
            user.status, user.updated_at = wanted, now
            if not active:
                await self._sessions.revoke_all(session, user_id=user.id, reason="user_disabled")
            message = (ev.UserEnabled if active else ev.UserDisabled)(
                user_id=user.id, customer_id=user.customer_id, actor_id=access.user_id, occurred_at=timestamp(now)
            )
            await self._outbox.add(
                session,
                IdentitySubjects.USER_ENABLED if active else IdentitySubjects.USER_DISABLED,
                message,
                tenant=user.customer_id,
            )
            await self._recorded(session, access, ENABLE if active else DISABLE, [obj("user", user.id)])
        return user


def _actor(access: Access) -> Actor:
    return Actor(access.user_id, access.customer_id)
