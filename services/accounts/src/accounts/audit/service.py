"""The customer's action history (AU-1): kept from every service's audit events and sign-ins, read within scope.

Readers need ``audit:read``. One who holds it at the company sees everything;
anyone else sees the events that touched a node in their scope. An event about
no node (a sign-in, a change of role) belongs to the company level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.audit.models import AuditEvent, AuditObject
from accounts.customers.models import Customer
from accounts.hierarchy.models import Node
from simfleet.events.v1 import audit_pb2
from simfleet.events.v1 import identity_pb2 as identity_ev
from simfleet_runtime import paging
from simfleet_runtime.authz import Access, not_found
from simfleet_runtime.bus.consumer import Event, EventHandler, PermanentError
from simfleet_runtime.clock import as_utc
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.ids import is_id
from simfleet_subjects import IdentitySubjects

READ = "audit:read"
LIST_NAME = "audit-events"


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    actor_id: str = ""
    action: str = ""
    object_id: str = ""
    node_id: str = ""


@dataclass(frozen=True)
class Entry:
    event: AuditEvent
    objects: list[AuditObject]


class AuditLog:
    def __init__(self, *, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------ keeping
    async def keep(self, session: AsyncSession, record: audit_pb2.AuditRecorded) -> None:
        if not record.customer_id or not is_id(record.audit_id):
            raise PermanentError("an audit event without a customer or id")
        inserted = await session.execute(
            insert_ignoring_conflicts(session, AuditEvent.__table__),  # type: ignore[arg-type]
            {
                "id": record.audit_id,
                "customer_id": record.customer_id,
                "occurred_at": as_utc(record.occurred_at.ToDatetime()),
                "actor_id": record.actor_id[:64],
                "actor_kind": record.actor_kind[:16],
                "service": record.service[:32],
                "action": record.action[:100],
                "result": record.result[:16],
                "reason": record.reason[:100],
                "client_address": record.client_address[:64],
                "request_id": record.request_id[:128],
                "trace_id": record.trace_id[:32],
            },
        )
        if not inserted.rowcount:  # type: ignore[attr-defined]
            return
        for position, ref in enumerate(record.objects):
            session.add(
                AuditObject(
                    audit_id=record.audit_id,
                    position=position,
                    kind=ref.kind[:32],
                    object_id=ref.id[:64],
                    node_id=ref.node_id[:26],
                )
            )

    def handler(self) -> EventHandler:
        async def handle(session: AsyncSession, event: Event) -> None:
            try:
                if event.subject == IdentitySubjects.SIGN_IN_RECORDED:
                    record = _sign_in(identity_ev.SignInRecorded.FromString(event.data))
                    if record is None:
                        return  # an attempt for a number that belongs to nobody concerns no customer
                else:
                    record = audit_pb2.AuditRecorded.FromString(event.data)
            except DecodeError as exc:
                raise PermanentError(f"not an audit event: {exc}") from exc
            await self.keep(session, record)

        return handle

    # ------------------------------------------------------------ reading
    async def find(
        self, access: Access, filters: Filters, *, page_size: int = 0, page_token: str = "", order_by: str = ""
    ) -> tuple[list[Entry], str]:
        limit = paging.page_size(page_size)
        order = paging.parse_order(order_by, allowed=("occurred_at",), default="-occurred_at")
        after = paging.decode_token(page_token, order, list_name=LIST_NAME, size=2)
        async with self._db.sessions() as session:
            query = sa.select(AuditEvent).where(AuditEvent.customer_id == access.customer_id)
            if filters.node_id:
                # Scope first: a node outside it is not found, whatever the caller holds.
                node = await session.get(Node, filters.node_id) if is_id(filters.node_id) else None
                if node is None or node.customer_id != access.customer_id or not access.sees(node.ids):
                    raise not_found("node")
                access.require(READ, at=node.ids)
                query = query.where(self._touches([node.path]))
            else:
                access.require(READ)
            root = await session.scalar(sa.select(Customer.root_node_id).where(Customer.id == access.customer_id))
            if not (root and READ in access.permissions_at((root,))):
                prefixes = await self._prefixes(session, access)
                query = query.where(self._touches(prefixes))
            if filters.since is not None:
                query = query.where(AuditEvent.occurred_at >= filters.since)
            if filters.until is not None:
                query = query.where(AuditEvent.occurred_at < filters.until)
            if filters.actor_id:
                query = query.where(AuditEvent.actor_id == filters.actor_id)
            if filters.action:
                query = query.where(
                    sa.or_(
                        AuditEvent.action == filters.action,
                        AuditEvent.action.startswith(filters.action + ".", autoescape=True),
                    )
                )
            if filters.object_id:
                query = query.where(
                    sa.exists().where(AuditObject.audit_id == AuditEvent.id, AuditObject.object_id == filters.object_id)
                )
            query = paging.keyset(query, [AuditEvent.occurred_at, AuditEvent.id], order=order, after=after, limit=limit)
            rows = list((await session.scalars(query)).all())
            page, token = paging.next_token(
                rows, order=order, limit=limit, key=lambda e: [e.occurred_at, e.id], list_name=LIST_NAME
            )
            objects: dict[str, list[AuditObject]] = {e.id: [] for e in page}
            if page:
                for ref in await session.scalars(
                    sa.select(AuditObject).where(AuditObject.audit_id.in_(objects)).order_by(AuditObject.position)
                ):
                    objects[ref.audit_id].append(ref)
        return [Entry(e, objects[e.id]) for e in page], token

    async def _prefixes(self, session: AsyncSession, access: Access) -> list[str]:
        roots = access.roots(READ)
        if not roots:
            return []
        rows = await session.execute(
            sa.select(Node.path).where(Node.customer_id == access.customer_id, Node.id.in_(roots))
        )
        return [p for (p,) in rows]

    @staticmethod
    def _touches(prefixes: list[str]) -> sa.ColumnElement[bool]:
        if not prefixes:
            return sa.false()
        return sa.exists().where(
            AuditObject.audit_id == AuditEvent.id,
            Node.id == AuditObject.node_id,
            sa.or_(*(Node.path.startswith(p) for p in prefixes)),
        )


def _sign_in(event: identity_ev.SignInRecorded) -> audit_pb2.AuditRecorded | None:
    if not event.customer_id or not event.user_id:
        return None
    return audit_pb2.AuditRecorded(
        audit_id=event.attempt_id,
        customer_id=event.customer_id,
        actor_id=event.user_id,
        actor_kind="user",
        service="identity",
        action=f"auth.sign_in.{event.method}" if event.method else "auth.sign_in",
        objects=[audit_pb2.AuditObject(kind="user", id=event.user_id)],
        result="succeeded" if event.result == "succeeded" else "failed",
        reason="" if event.result == "succeeded" else event.result.upper(),
        client_address=event.client_address,
        occurred_at=event.occurred_at,
    )
