"""Tickets' use cases: filing them, moving them through their states, the conversation, the lists.

Every change is one transaction with its history entry, its event (through the
outbox) and, for a command, its audit event. A move is a conditional update
(``WHERE state = <the state it was decided on>``): two moves that race on a
ticket never both pass, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet.events.v1 import ticketing_pb2 as ev
from simfleet_runtime import paging
from simfleet_runtime.audit import AuditTrail, obj
from simfleet_runtime.authz import is_node_id, not_found
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import FailedPrecondition
from simfleet_runtime.idempotency import check_same_request, fingerprint
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import TicketingSubjects
from ticketing import audit_commands as actions
from ticketing import metrics
from ticketing.attachments.service import attach_to_note
from ticketing.db import NODE_PATHS
from ticketing.tickets import lifecycle as lc
from ticketing.tickets.models import COUNTERS, TICKETS, Ticket, TicketHistory, TicketNote
from ticketing.tickets.validation import NewTicket

LIST_NAME = "tickets"
QUEUE_LIST_NAME = "ticket-queue"
ORDERS = {"created_at": Ticket.created_at, "updated_at": Ticket.updated_at, "number": Ticket.number}

CREATED = "created"
STATE_CHANGED = "state_changed"
ASSIGNED = "assigned"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a customer's user, a support staff member (or the operator's automation), ticketing."""

    id: str
    kind: str


SYSTEM_ACTOR = Actor("system", lc.SYSTEM)


@dataclass(frozen=True)
class Targets:
    """How soon, by severity, support's first answer and the resolution are due after a ticket is filed."""

    response: dict[str, timedelta]
    resolution: dict[str, timedelta]


@dataclass(frozen=True)
class Filters:
    states: Sequence[str] = ()
    types: Sequence[str] = ()
    severities: Sequence[str] = ()
    created_from: datetime | None = None
    created_until: datetime | None = None
    text: str = ""
    customer_id: str = ""
    assignee_id: str = ""
    unassigned: bool = False
    overdue: bool = False


@dataclass(frozen=True)
class Scope:
    """The customer's tickets the caller sees: those under these node paths (prefixes); None: every one."""

    customer_id: str
    prefixes: list[str] | None = field(default=None)


def ticket_number(year: int, sequence: int) -> str:
    return f"T-{year}-{sequence:06d}"


def response_overdue(ticket: Ticket, now: datetime) -> bool:
    if ticket.responded_at is not None:
        return ticket.responded_at > ticket.response_due_at
    return ticket.state in lc.OPEN and now > ticket.response_due_at


def resolution_overdue(ticket: Ticket, now: datetime) -> bool:
    if ticket.resolved_at is not None:
        return ticket.resolved_at > ticket.resolution_due_at
    return ticket.state in lc.OPEN and now > ticket.resolution_due_at


class Tickets:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        audit: AuditTrail,
        targets: Targets,
        auto_close_after: timedelta,
    ) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._audit = audit
        self._targets = targets
        self._auto_close_after = auto_close_after

    @property
    def clock(self) -> Clock:
        return self._clock

    # ------------------------------------------------------------ filing
    async def create(
        self, *, customer_id: str, user_id: str, new: NewTicket, idempotency_key: str = ""
    ) -> tuple[Ticket, bool]:
        """File ``new`` as ``user_id``; with a key, a retry answers the first ticket (replayed: True)."""
        fp = fingerprint("CreateTicket", new)
        if idempotency_key:
            found = await self._by_key(user_id, idempotency_key)
            if found is not None:
                check_same_request(found.fingerprint, fp, field="idempotency_key")
                return found, True
        try:
            return await self._create(customer_id, user_id, new, idempotency_key, fp), False
        except IntegrityError:
            # Another call with the same key filed it first (the unique key, never a second ticket).
            found = await self._by_key(user_id, idempotency_key) if idempotency_key else None
            if found is None:
                raise
            check_same_request(found.fingerprint, fp, field="idempotency_key")
            return found, True

    async def _by_key(self, user_id: str, key: str) -> Ticket | None:
        async with self._db.sessions() as session:
            found: Ticket | None = await session.scalar(
                sa.select(Ticket).where(Ticket.created_by == user_id, Ticket.idempotency_key == key)
            )
            return found

    async def next_number(self, session: AsyncSession, year: int) -> str:
        """Take the year's next number in ``session``'s transaction (its counter row stays locked until it ends)."""
        await session.execute(insert_ignoring_conflicts(session, COUNTERS), {"year": year, "last": 0})
        taken = await session.scalar(
            sa.update(COUNTERS)
            .where(COUNTERS.c.year == year)
            .values(last=COUNTERS.c.last + 1)
            .returning(COUNTERS.c.last)
        )
        assert taken is not None
        return ticket_number(year, int(taken))

    async def _create(self, customer_id: str, user_id: str, new: NewTicket, key: str, fp: str) -> Ticket:
        now = self._clock.now()
        async with self._db.transaction() as session:
            ticket = Ticket(
                id=new_id(),
                number=await self.next_number(session, now.year),
                customer_id=customer_id,
                node_id=new.node_id,
                type=new.type,
                topic=new.topic,
                description=new.description,
                severity=new.severity,
                priority=new.priority,
                state=lc.INITIAL,
                related_msisdns=list(new.msisdns),
                operation_id=new.operation_id,
                bill_id=new.bill_id,
                created_by=user_id,
                contact_msisdn=new.contact_msisdn,
                assignee_id="",
                idempotency_key=key or None,
                fingerprint=fp,
                note_count=0,
                created_at=now,
                updated_at=now,
                response_due_at=now + self._targets.response[new.severity],
                resolution_due_at=now + self._targets.resolution[new.severity],
                responded_at=None,
                resolved_at=None,
                auto_close_at=None,
            )
            session.add(ticket)
            await session.flush()
            self._history(session, ticket, CREATED, "", lc.INITIAL, Actor(user_id, lc.CUSTOMER), "", now)
            await self._outbox.add(
                session,
                TicketingSubjects.TICKET_CREATED,
                ev.TicketCreated(
                    ticket_id=ticket.id,
                    number=ticket.number,
                    customer_id=customer_id,
                    node_id=ticket.node_id,
                    type=ticket.type,
                    severity=ticket.severity,
                    topic=ticket.topic,
                    created_by=user_id,
                    contact_msisdn=ticket.contact_msisdn,
                    occurred_at=timestamp(now),
                ),
                tenant=customer_id,
            )
            await self._audit.add_for_caller(session, actions.CREATE, [_object(ticket)], customer=customer_id)
        metrics.TICKETS_CREATED.labels(ticket.type).inc()
        return ticket

    # ------------------------------------------------------------ reading
    async def get(self, ticket_id: str, *, customer_id: str = "") -> Ticket:
        """The ticket (of ``customer_id`` when given); NOT_FOUND otherwise, as for one that does not exist."""
        if not is_id(ticket_id):
            raise not_found("ticket")
        async with self._db.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
        if ticket is None or (customer_id and ticket.customer_id != customer_id):
            raise not_found("ticket")
        return ticket

    async def notes(self, ticket_id: str) -> list[TicketNote]:
        async with self._db.sessions() as session:
            rows = await session.scalars(
                sa.select(TicketNote)
                .where(TicketNote.ticket_id == ticket_id)
                .order_by(TicketNote.created_at, TicketNote.id)
            )
            return list(rows)

    async def history(self, ticket_id: str) -> list[TicketHistory]:
        async with self._db.sessions() as session:
            rows = await session.scalars(
                sa.select(TicketHistory)
                .where(TicketHistory.ticket_id == ticket_id)
                .order_by(TicketHistory.occurred_at, TicketHistory.id)
            )
            return list(rows)

    async def scope(self, customer_id: str, roots: Sequence[str]) -> Scope:
        """The paths of the nodes a customer's user reads tickets under (their grants' nodes that exist)."""
        ids = [r for r in roots if is_node_id(r)]
        if not ids:
            return Scope(customer_id, [])
        async with self._db.sessions() as session:
            rows = await session.execute(
                sa.select(NODE_PATHS.c.path).where(
                    NODE_PATHS.c.customer_id == customer_id, NODE_PATHS.c.node_id.in_(ids)
                )
            )
            return Scope(customer_id, [p for (p,) in rows])

    async def node_path(self, customer_id: str, node_id: str) -> str | None:
        if not is_node_id(node_id):
            return None
        async with self._db.sessions() as session:
            found = await session.scalar(
                sa.select(NODE_PATHS.c.path).where(
                    NODE_PATHS.c.customer_id == customer_id, NODE_PATHS.c.node_id == node_id
                )
            )
            return None if found is None else str(found)

    async def list(
        self, scope: Scope | None, filters: Filters, *, page_size: int = 0, page_token: str = "", order_by: str = ""
    ) -> tuple[list[Ticket], str]:
        """A page of tickets: a customer's in ``scope``, or every customer's (the support desk) when None."""
        limit = paging.page_size(page_size)
        name = QUEUE_LIST_NAME if scope is None else LIST_NAME
        default = "created_at" if scope is None else "-created_at"
        order = paging.parse_order(order_by, allowed=tuple(ORDERS), default=default)
        after = paging.decode_token(page_token, order, list_name=name, size=2)
        now = self._clock.now()
        query = sa.select(Ticket)
        if scope is not None:
            query = query.where(Ticket.customer_id == scope.customer_id)
            if scope.prefixes is not None:
                if not scope.prefixes:
                    return [], ""
                query = query.where(
                    sa.exists().where(
                        NODE_PATHS.c.node_id == Ticket.node_id,
                        NODE_PATHS.c.customer_id == Ticket.customer_id,
                        sa.or_(*(NODE_PATHS.c.path.startswith(p, autoescape=True) for p in scope.prefixes)),
                    )
                )
        elif filters.customer_id:
            query = query.where(Ticket.customer_id == filters.customer_id)
        if filters.states:
            query = query.where(Ticket.state.in_(list(filters.states)))
        if filters.types:
            query = query.where(Ticket.type.in_(list(filters.types)))
        if filters.severities:
            query = query.where(Ticket.severity.in_(list(filters.severities)))
        if filters.created_from is not None:
            query = query.where(Ticket.created_at >= filters.created_from)
        if filters.created_until is not None:
            query = query.where(Ticket.created_at < filters.created_until)
        if filters.assignee_id:
            query = query.where(Ticket.assignee_id == filters.assignee_id)
        if filters.unassigned:
            query = query.where(Ticket.assignee_id == "")
        if filters.overdue:
            query = query.where(_overdue(now))
        if filters.text:
            needle = filters.text.lower()
            query = query.where(
                sa.or_(
                    sa.func.lower(Ticket.number).contains(needle, autoescape=True),
                    sa.func.lower(Ticket.topic).contains(needle, autoescape=True),
                    sa.func.lower(Ticket.description).contains(needle, autoescape=True),
                )
            )
        query = paging.keyset(query, [ORDERS[order.field], Ticket.id], order=order, after=after, limit=limit)
        async with self._db.sessions() as session:
            rows = list((await session.scalars(query)).all())
        return paging.next_token(
            rows, order=order, limit=limit, key=lambda t: [getattr(t, order.field), t.id], list_name=name
        )

    # ------------------------------------------------------------ changing
    async def move(
        self,
        ticket_id: str,
        to_state: str,
        actor: Actor,
        *,
        reason: str = "",
        customer_id: str = "",
        action: str = "",
    ) -> Ticket:
        """Move the ticket to ``to_state`` when the matrix lets ``actor`` (FAILED_PRECONDITION otherwise)."""
        async with self._db.transaction() as session:
            ticket = await self._locked(session, ticket_id, customer_id)
            await self._move(session, ticket, to_state, actor, reason)
            if action:
                await self._audit.add_for_caller(session, action, [_object(ticket)], customer=ticket.customer_id)
        return ticket

    async def _locked(self, session: AsyncSession, ticket_id: str, customer_id: str) -> Ticket:
        if not is_id(ticket_id):
            raise not_found("ticket")
        ticket = await session.get(Ticket, ticket_id, populate_existing=True)
        if ticket is None or (customer_id and ticket.customer_id != customer_id):
            raise not_found("ticket")
        return ticket

    async def _move(self, session: AsyncSession, ticket: Ticket, to_state: str, actor: Actor, reason: str) -> None:
        from_state = ticket.state
        lc.check_move(from_state, to_state, actor.kind)
        now = self._clock.now()
        values: dict[str, Any] = {"state": to_state, "updated_at": now}
        if to_state == lc.RESOLVED:
            values.update(resolved_at=now, auto_close_at=now + self._auto_close_after)
        elif from_state == lc.RESOLVED and to_state == lc.IN_PROGRESS:
            values.update(resolved_at=None, auto_close_at=None)  # reopened: the resolution is to come again
        elif to_state in lc.FINAL:
            values.update(auto_close_at=None, resolved_at=ticket.resolved_at or now)
        changed = await session.execute(
            sa.update(TICKETS).where(TICKETS.c.id == ticket.id, TICKETS.c.state == from_state).values(**values)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise FailedPrecondition(
                "the ticket changed meanwhile: read it again", reason="TICKET_CHANGED", metadata={"from": from_state}
            )
        await session.refresh(ticket)
        self._history(session, ticket, STATE_CHANGED, from_state, to_state, actor, reason, now)
        await self._outbox.add(
            session,
            TicketingSubjects.TICKET_STATE_CHANGED,
            ev.TicketStateChanged(
                ticket_id=ticket.id,
                number=ticket.number,
                customer_id=ticket.customer_id,
                node_id=ticket.node_id,
                from_state=from_state,
                to_state=to_state,
                actor_id=actor.id,
                actor_kind=actor.kind,
                reason=reason,
                created_by=ticket.created_by,
                contact_msisdn=ticket.contact_msisdn,
                occurred_at=timestamp(now),
            ),
            tenant=ticket.customer_id,
        )
        metrics.TRANSITIONS.labels(to_state, actor.kind).inc()

    async def add_note(
        self,
        ticket_id: str,
        actor: Actor,
        body: str,
        *,
        customer_id: str = "",
        to_state: str = "",
        action: str = "",
        attachment_ids: Sequence[str] = (),
    ) -> tuple[TicketNote, Ticket]:
        """A note of ``actor`` (customer or support); support's first is the response. A customer's note on a
        pending ticket puts it back in progress; support's may move it to ``to_state`` in the same step. The
        note takes ``attachment_ids``, uploads of ``actor`` to the ticket waiting for a note (or is not written)."""
        async with self._db.transaction() as session:
            ticket = await self._locked(session, ticket_id, customer_id)
            if ticket.state in lc.FINAL:
                raise FailedPrecondition(
                    f"the ticket is {ticket.state}: nothing more is written in it",
                    reason="TICKET_ENDED",
                    metadata={"state": ticket.state},
                )
            if to_state:
                lc.check_move(ticket.state, to_state, actor.kind)  # refused before anything is written
            now = self._clock.now()
            note = TicketNote(
                id=new_id(), ticket_id=ticket.id, author_id=actor.id, author_kind=actor.kind, body=body, created_at=now
            )
            session.add(note)
            await session.flush()
            await attach_to_note(session, ticket, note.id, actor, attachment_ids, now)
            values: dict[str, Any] = {"note_count": TICKETS.c.note_count + 1, "updated_at": now}
            if actor.kind == lc.SUPPORT and ticket.responded_at is None:
                values["responded_at"] = now
            await session.execute(sa.update(TICKETS).where(TICKETS.c.id == ticket.id).values(**values))
            await session.refresh(ticket)
            await self._outbox.add(
                session,
                TicketingSubjects.TICKET_NOTE_ADDED,
                ev.TicketNoteAdded(
                    ticket_id=ticket.id,
                    number=ticket.number,
                    customer_id=ticket.customer_id,
                    node_id=ticket.node_id,
                    note_id=note.id,
                    author_id=actor.id,
                    author_kind=actor.kind,
                    created_by=ticket.created_by,
                    contact_msisdn=ticket.contact_msisdn,
                    occurred_at=timestamp(now),
                ),
                tenant=ticket.customer_id,
            )
            if to_state:
                await self._move(session, ticket, to_state, actor, "")
            elif actor.kind == lc.CUSTOMER and ticket.state == lc.PENDING:
                await self._move(session, ticket, lc.IN_PROGRESS, SYSTEM_ACTOR, "the customer answered")
            if action:
                await self._audit.add_for_caller(session, action, [_object(ticket)], customer=ticket.customer_id)
        metrics.NOTES.labels(actor.kind).inc()
        return note, ticket

    async def assign(self, ticket_id: str, actor: Actor, assignee_id: str, *, action: str = "") -> Ticket:
        async with self._db.transaction() as session:
            ticket = await self._locked(session, ticket_id, "")
            if ticket.state in lc.FINAL:
                raise FailedPrecondition(
                    f"the ticket is {ticket.state}: it is not assigned any more",
                    reason="TICKET_ENDED",
                    metadata={"state": ticket.state},
                )
            if ticket.assignee_id == assignee_id:
                return ticket
            now = self._clock.now()
            await session.execute(
                sa.update(TICKETS).where(TICKETS.c.id == ticket.id).values(assignee_id=assignee_id, updated_at=now)
            )
            await session.refresh(ticket)
            history = self._history(session, ticket, ASSIGNED, ticket.state, ticket.state, actor, "", now)
            history.assignee_id = assignee_id
            if action:
                await self._audit.add_for_caller(session, action, [_object(ticket)], customer=ticket.customer_id)
        return ticket

    def _history(
        self,
        session: AsyncSession,
        ticket: Ticket,
        action: str,
        from_state: str,
        to_state: str,
        actor: Actor,
        reason: str,
        now: datetime,
    ) -> TicketHistory:
        entry = TicketHistory(
            id=new_id(),
            ticket_id=ticket.id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor_id=actor.id,
            actor_kind=actor.kind,
            reason=reason,
            assignee_id="",
            occurred_at=now,
        )
        session.add(entry)
        return entry

    # ------------------------------------------------------------ the sweep
    async def close_resolved(self, *, batch: int = 500) -> int:
        """Close the resolved tickets whose time ran out (each in its own transaction); how many closed.

        A ticket reopened meanwhile is left alone: the move is decided on the state it reads.
        """
        now = self._clock.now()
        async with self._db.sessions() as session:
            due = list(
                await session.scalars(
                    sa.select(Ticket.id)
                    .where(Ticket.state == lc.RESOLVED, Ticket.auto_close_at <= now)
                    .order_by(Ticket.auto_close_at)
                    .limit(batch)
                )
            )
        closed = 0
        for ticket_id in due:
            async with self._db.transaction() as session:
                ticket = await self._locked(session, ticket_id, "")
                if ticket.state != lc.RESOLVED or ticket.auto_close_at is None or ticket.auto_close_at > now:
                    continue
                try:
                    await self._move(session, ticket, lc.CLOSED, SYSTEM_ACTOR, "closed by itself: the resolution stood")
                except FailedPrecondition:
                    continue
            closed += 1
        return closed

    async def figures(self) -> tuple[dict[str, int], dict[str, int]]:
        """Tickets by state, and how many are late on each target (the gauges the dashboards show)."""
        now = self._clock.now()
        async with self._db.sessions() as session:
            by_state = {s: 0 for s in lc.STATES}
            for state, count in await session.execute(sa.select(Ticket.state, sa.func.count()).group_by(Ticket.state)):
                by_state[state] = int(count)
            open_ = Ticket.state.in_(sorted(lc.OPEN))
            response = await session.scalar(
                sa.select(sa.func.count()).where(open_, Ticket.responded_at.is_(None), Ticket.response_due_at < now)
            )
            resolution = await session.scalar(sa.select(sa.func.count()).where(open_, Ticket.resolution_due_at < now))
        return by_state, {"response": int(response or 0), "resolution": int(resolution or 0)}


def _overdue(now: datetime) -> sa.ColumnElement[bool]:
    open_ = Ticket.state.in_(sorted(lc.OPEN))
    return sa.or_(
        sa.and_(open_, Ticket.responded_at.is_(None), Ticket.response_due_at < now),
        sa.and_(open_, Ticket.resolution_due_at < now),
    )


def _object(ticket: Ticket) -> Any:
    return obj("ticket", ticket.id, ticket.node_id)
