"""From other services' events to notices waiting for their users: who hears of what, by which channel.

Each consumer's handler reads its event into an :class:`Occurrence` (a kind,
the customer, the node it is about, the values its text names), finds the
users who would hear of it and writes one ``notice_events`` row per user and
channel, in the consumer's transaction. The row's key is (event id, user,
channel): however often the event comes, it is accepted once.

Who hears: a user of the event's customer who chose the kind (or never saved
preferences and the kind is on by default), is active, has the number or
address of the channel, and whose grants carry the kind's permission over the
event's node (:mod:`notifications.notices.access`). A sign-in is told to the
user who signed in only, and only to a customer's user (operator staff hear of
theirs from identity); a user notifications has not heard of yet (identity's
``user.created`` still on its way, or older than the stream keeps) is learned
from the sign-in's number, so ID-7's SMS reaches every user. The actor of a change (the customer who moved their
own ticket) is not told of it. Identity is asked before the transaction (the
consumer's ``before`` hook warms the cache), so no database lock waits on it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import metrics
from notifications.catalogue import (
    BALANCE_LOW,
    EMAIL,
    KINDS,
    LIMIT_REACHED,
    OPERATION_FAILED,
    OPERATION_FINISHED,
    PAYMENT_RECEIVED,
    SIGN_IN,
    SMS,
    TARIFF_CHANGED,
    TARIFF_OPERATIONS,
    TICKET_REPLY,
    TICKET_STATE_CHANGED,
)
from notifications.notices.access import AccessSource
from notifications.notices.models import NoticeEvent
from notifications.preferences.models import User
from notifications.preferences.service import Directory, Preferences
from simfleet.events.v1 import billing_pb2, identity_pb2, inventory_pb2, ticketing_pb2
from simfleet_runtime.bus import Event, PermanentError
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, after_commit, insert_ignoring_conflicts
from simfleet_runtime.nodepaths import ProjectedNodePaths
from simfleet_subjects import BillingSubjects, IdentitySubjects, InventorySubjects, TicketingSubjects

log = logging.getLogger(__name__)

SUCCEEDED_SIGN_IN = "succeeded"

_ZERO_DIGIT_CURRENCIES = frozenset({"IRR", "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "PYG", "XAF", "XOF", "KPW"})


def money(minor: int, currency: str) -> str:
    """Minor units as the amount customers read (two decimals unless the currency has none)."""
    digits = 0 if currency in _ZERO_DIGIT_CURRENCIES else 2
    return f"{minor / 10**digits:.{digits}f}"


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class Occurrence:
    kind: str
    customer_id: str
    node_id: str = ""
    """The node it is about ('' with ``user_id``: the user's own)."""
    user_id: str = ""
    """For a kind about the user themselves (a sign-in): the one user told."""
    phone: str = ""
    """With ``user_id``: the user's number as the event tells it (a user notifications does not know is learned)."""
    actor_id: str = ""
    """Who made the change: not told of it."""
    params: dict[str, Any] = field(default_factory=dict)


def _decode(message_type: Any, event: Event) -> Any:
    try:
        return message_type.FromString(event.data)
    except ValueError as exc:  # DecodeError is a ValueError
        raise PermanentError(f"not a {event.subject} message") from exc


def read_event(event: Event) -> Occurrence | None:
    """What ``event`` is to notices, or None when it tells nobody anything."""
    subject = event.subject
    if subject == IdentitySubjects.SIGN_IN_RECORDED:
        signed = _decode(identity_pb2.SignInRecorded, event)
        if signed.result != SUCCEEDED_SIGN_IN or not signed.user_id or not signed.customer_id:
            return None  # a failure, or operator staff (identity tells them itself)
        return Occurrence(
            SIGN_IN,
            signed.customer_id,
            user_id=signed.user_id,
            phone=signed.phone,
            params={"when": _when(signed.occurred_at.ToDatetime()), "address": signed.client_address},
        )
    if subject == TicketingSubjects.TICKET_NOTE_ADDED:
        note = _decode(ticketing_pb2.TicketNoteAdded, event)
        if note.author_kind != "support":
            return None
        return Occurrence(TICKET_REPLY, note.customer_id, node_id=note.node_id, params={"number": note.number})
    if subject == TicketingSubjects.TICKET_STATE_CHANGED:
        moved = _decode(ticketing_pb2.TicketStateChanged, event)
        return Occurrence(
            TICKET_STATE_CHANGED,
            moved.customer_id,
            node_id=moved.node_id,
            actor_id=moved.actor_id if moved.actor_kind == "customer" else "",
            params={"number": moved.number, "state": moved.to_state},
        )
    if subject == InventorySubjects.OPERATION_FINISHED:
        op = _decode(inventory_pb2.OperationChanged, event)
        if op.state == "failed" or op.failed > 0:
            kind = OPERATION_FAILED
        elif op.type in TARIFF_OPERATIONS and op.state == "completed":
            kind = TARIFF_CHANGED
        else:
            kind = OPERATION_FINISHED
        return Occurrence(
            kind,
            op.customer_id,
            node_id=op.node_id,
            params={"type": op.type, "total": op.total, "succeeded": op.succeeded, "failed": op.failed},
        )
    if subject == BillingSubjects.LIMIT_REACHED:
        limit = _decode(billing_pb2.SpendingLimitReached, event)
        return Occurrence(
            LIMIT_REACHED,
            limit.customer_id,
            node_id=limit.node_id,
            params={
                "period": limit.period,
                "spent": money(limit.spent, limit.currency),
                "amount": money(limit.amount, limit.currency),
                "currency": limit.currency,
            },
        )
    if subject == BillingSubjects.ACCOUNT_EXHAUSTED:
        funds = _decode(billing_pb2.AccountFundsChanged, event)
        return Occurrence(
            BALANCE_LOW,
            funds.customer_id,
            node_id=funds.personal_account_id,
            params={"balance": money(funds.balance, funds.currency), "currency": funds.currency},
        )
    if subject == BillingSubjects.PAYMENT_RECEIVED:
        paid = _decode(billing_pb2.PaymentReceived, event)
        return Occurrence(
            PAYMENT_RECEIVED,
            paid.customer_id,
            node_id=paid.personal_account_id,
            params={
                "amount": money(paid.amount, paid.currency),
                "balance": money(paid.balance, paid.currency),
                "currency": paid.currency,
            },
        )
    return None


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: str
    channel: str
    address: str


class Intake:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        preferences: Preferences,
        paths: ProjectedNodePaths,
        access: AccessSource,
        on_accepted: Callable[[str], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._preferences = preferences
        self._paths = paths
        self._access = access
        self._on_accepted = on_accepted

    async def _candidates(self, session: AsyncSession, occurrence: Occurrence) -> list[str]:
        if occurrence.user_id:
            return [occurrence.user_id]
        users = await self._preferences.choosing(session, occurrence.customer_id, occurrence.kind)
        return [u for u in users if u != occurrence.actor_id]

    async def before(self, event: Event) -> None:
        """Ask identity for the candidates' access outside the transaction (the handler reuses the answers)."""
        occurrence = read_event(event)
        if occurrence is None or occurrence.user_id or not occurrence.customer_id:
            return
        async with self._db.sessions() as session:
            candidates = await self._candidates(session, occurrence)
        for user_id in candidates:
            await self._access.access(occurrence.customer_id, user_id)

    async def recipients(self, session: AsyncSession, occurrence: Occurrence) -> list[Recipient]:
        if not occurrence.customer_id and not occurrence.user_id:
            return []
        candidates = await self._candidates(session, occurrence)
        if not candidates:
            return []
        if occurrence.user_id and occurrence.phone:
            await Directory.learn(
                session,
                user_id=occurrence.user_id,
                customer_id=occurrence.customer_id,
                phone=occurrence.phone,
                now=self._clock.now(),
            )
        users = await Directory.users(session, candidates)
        choices = await self._preferences.of_users(session, candidates)
        permission = KINDS[occurrence.kind].permission
        path: tuple[str, ...] = ()
        if permission is not None:
            found = await self._paths.paths(occurrence.customer_id, [occurrence.node_id], session=session)
            path = found.get(occurrence.node_id, ())
            if not path:
                return []  # a node notifications does not know (yet, or any more): nobody can be shown to see it
        chosen: list[Recipient] = []
        for user_id in candidates:
            user = users.get(user_id)
            if user is None or not user.active:
                continue
            if occurrence.customer_id and user.customer_id != occurrence.customer_id:
                continue
            if permission is not None:
                access = await self._access.access(occurrence.customer_id, user_id)
                if not access.may(permission, path):
                    continue
            for channel in choices[user_id].wants(occurrence.kind):
                address = _address(user, channel)
                if address:
                    chosen.append(Recipient(user_id, channel, address))
        return chosen

    async def handle(self, session: AsyncSession, event: Event) -> None:
        occurrence = read_event(event)
        if occurrence is None:
            return
        recipients = await self.recipients(session, occurrence)
        now = self._clock.now()
        accepted = 0
        for recipient in recipients:
            written = await session.execute(
                insert_ignoring_conflicts(session, NoticeEvent.__table__),  # type: ignore[arg-type]
                {
                    "event_id": event.id,
                    "user_id": recipient.user_id,
                    "channel": recipient.channel,
                    "kind": occurrence.kind,
                    "customer_id": occurrence.customer_id,
                    "params": occurrence.params,
                    "created_at": now,
                    "notice_id": None,
                },
            )
            fresh = written.rowcount == 1  # type: ignore[attr-defined]
            accepted += fresh
            metrics.EVENTS.labels(occurrence.kind, "accepted" if fresh else "duplicate").inc()
        if accepted and self._on_accepted is not None:
            after_commit(session, functools.partial(self._on_accepted, occurrence.kind))

    async def handle_group(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Several events in one transaction, each as :meth:`handle` takes it."""
        for event in events:
            await self.handle(session, event)


def _address(user: User, channel: str) -> str:
    if channel == SMS:
        return user.phone
    if channel == EMAIL:
        return user.email
    return ""
