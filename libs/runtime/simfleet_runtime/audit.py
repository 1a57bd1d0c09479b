"""The action history (AU-1): every command a service answers becomes an audit event.

A service lists its commands (full gRPC method → :class:`Command`: the action's
name and how to read the objects it touched from the request and the answer)
and hands the :class:`AuditTrail` to its runtime. The server interceptor then
records each of those calls when it ends, accepted or refused, on the service's
own subject ``simfleet.<service>.audit.recorded`` through the outbox; accounts
keeps them as the customer's history.

Who asked is what the call's authorisation found: :func:`set_actor` is called
by :class:`~simfleet_runtime.authz.Authorizer` (and by identity and the
back-office checks); a call refused before anyone was identified concerns no
customer and is not recorded.

A command that changes something, and one whose answer must not leave the
service unrecorded (reading a PUK), is declared ``in_transaction``: it writes
its own success event with :meth:`AuditTrail.add` in the transaction that
changes or reads what it answers with, so the change and its event commit
together (a crash between them loses neither) and a failed write fails the
call; the interceptor then records only its refusals, never a second success.
An ``in_transaction`` command that answers without writing one (an idempotent
replay, which changes nothing) is recorded by the interceptor after its answer,
as other commands are.

Refusals have no transaction of theirs (nothing changed): the interceptor
records them after the answer, so a crash at that instant can lose a refusal's
event, never a change's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet.events.v1 import audit_pb2 as ev
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.context import current_call
from simfleet_runtime.db import Database, after_commit
from simfleet_runtime.errors import DomainError
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import audit_recorded

log = logging.getLogger(__name__)

USER = "user"
OPERATOR = "operator"
SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    customer_id: str
    kind: str = USER


_actor: ContextVar[Actor | None] = ContextVar("simfleet_audit_actor", default=None)
_written: ContextVar[list[str] | None] = ContextVar("simfleet_audit_written", default=None)
"""The actions the current call committed with its changes (:meth:`AuditTrail.add`); :meth:`AuditTrail.begin`."""


def set_actor(actor_id: str, customer_id: str, kind: str = USER) -> None:
    """Who the current call acts for (set once the call's caller is established)."""
    _actor.set(Actor(actor_id, customer_id, kind))


def current_actor() -> Actor | None:
    return _actor.get()


Objects = Callable[[Any, Any | None], Sequence[ev.AuditObject]]
"""(request, answer or None when refused) → the objects touched."""


@dataclass(frozen=True)
class Command:
    action: str
    objects: Objects = lambda _request, _answer: ()
    customer: Callable[[Any, Any | None], str] | None = None
    """The customer the event belongs to when the actor has none (the back-office)."""
    in_transaction: bool = False
    """The command writes its success event itself (:meth:`AuditTrail.add`); the interceptor records its refusals."""


def obj(kind: str, object_id: str, node_id: str = "") -> ev.AuditObject:
    return ev.AuditObject(kind=kind, id=object_id, node_id=node_id)


class AuditTrail:
    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        clock: Clock,
        service: str,
        commands: Mapping[str, Command],
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._clock = clock
        self.service = service
        self.subject = audit_recorded(service)
        self._commands = dict(commands)

    def records(self, full_method: str) -> bool:
        return full_method in self._commands

    def begin(self) -> None:
        """A recorded call starts (the interceptor, in the call's own context): nothing written yet."""
        _written.set([])

    async def record(self, full_method: str, request: Any, answer: Any | None, error: DomainError | None) -> None:
        """Write the event of a finished command (never raises: a failure is logged).

        The success of an ``in_transaction`` command is not written here: the command wrote it itself.
        """
        command = self._commands.get(full_method)
        actor = current_actor()
        if command is None or actor is None:
            return
        written = _written.get()
        if command.in_transaction and error is None and (written is None or command.action in written):
            return  # committed with the change (or, outside a recorded call, left to the command)
        try:
            customer = actor.customer_id or (command.customer(request, answer) if command.customer else "")
            if not customer:
                return
            event = self._event(
                actor,
                customer,
                command.action,
                list(command.objects(request, answer)),
                reason=error.reason if error is not None else "",
                failed=error is not None,
            )
            async with self._db.transaction() as session:
                await self._outbox.add(session, self.subject, event, tenant=customer, event_id=event.audit_id)
        except Exception:
            log.exception("recording the audit event of %s failed", full_method)

    async def add(
        self,
        session: AsyncSession,
        action: str,
        objects: Sequence[ev.AuditObject],
        *,
        actor: Actor,
        customer: str = "",
    ) -> ev.AuditRecorded:
        """Write the success event of ``action`` in the command's own transaction ``session``.

        ``customer`` is the customer the event belongs to when the actor has none (the back-office).
        Raises when it cannot (the caller's transaction fails with it, and so does the call): what the
        command changed or answers with is never committed or shown unrecorded.
        """
        customer = actor.customer_id or customer
        if not actor.id or not customer:
            raise ValueError("an audited command needs its actor and customer")
        event = self._event(actor, customer, action, list(objects), reason="", failed=False)
        await self._outbox.add(session, self.subject, event, tenant=customer, event_id=event.audit_id)
        written = _written.get()
        if written is not None:
            after_commit(session, partial(written.append, action))
        return event

    async def add_for_caller(
        self, session: AsyncSession, action: str, objects: Sequence[ev.AuditObject], *, customer: str = ""
    ) -> ev.AuditRecorded | None:
        """:meth:`add` for the current call's actor (:func:`set_actor`); nothing when no one was identified."""
        actor = current_actor()
        if actor is None or not (actor.customer_id or customer):
            return None  # like the interceptor: no one identified, or no customer concerned (the operator's stock)
        return await self.add(session, action, objects, actor=actor, customer=customer)

    def _event(
        self, actor: Actor, customer: str, action: str, objects: list[ev.AuditObject], *, reason: str, failed: bool
    ) -> ev.AuditRecorded:
        call = current_call()
        span = trace.get_current_span().get_span_context()
        return ev.AuditRecorded(
            audit_id=new_id(),
            customer_id=customer,
            actor_id=actor.id,
            actor_kind=actor.kind,
            service=self.service,
            action=action,
            objects=objects,
            result=FAILED if failed else SUCCEEDED,
            reason=reason,
            client_address=call.client_address,
            request_id=call.request_id,
            trace_id=format(span.trace_id, "032x") if span.is_valid else "",
            occurred_at=timestamp(self._clock.now()),
        )


__all__ = [
    "FAILED",
    "OPERATOR",
    "SUCCEEDED",
    "USER",
    "Actor",
    "AuditTrail",
    "Command",
    "current_actor",
    "obj",
    "set_actor",
]
