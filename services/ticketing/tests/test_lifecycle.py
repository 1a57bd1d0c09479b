"""The transition matrix, walked whole over gRPC: every allowed move passes, every other one is refused with
FAILED_PRECONDITION TRANSITION_NOT_ALLOWED and its details, and changes nothing."""

from __future__ import annotations

from itertools import product
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from simfleet.ticketing.v1 import support_pb2, tickets_pb2
from simfleet_runtime.errors import FailedPrecondition
from simfleet_subjects import TicketingSubjects
from ticketing.models import BUS
from ticketing.tickets import lifecycle as lc
from ticketing.tickets.models import Ticket, TicketHistory, TicketNote

from .conftest import Running, failure  # type: ignore[import-not-found]

CUSTOMER_COMMANDS = {
    lc.CANCELLED: ("CancelTicket", tickets_pb2.CancelTicketRequest),
    lc.IN_PROGRESS: ("ReopenTicket", tickets_pb2.ReopenTicketRequest),
    lc.CLOSED: ("ConfirmResolution", tickets_pb2.ConfirmResolutionRequest),
}
"""The customer's three moves, each by its own command."""


def test_the_matrix_is_whole_and_ends_where_it_should() -> None:
    assert set(lc.MOVES) == set(lc.STATES)
    for from_state, moves in lc.MOVES.items():
        assert set(moves) <= set(lc.STATES) - {from_state}
        assert all(who and who <= set(lc.ACTORS) for who in moves.values())
    assert all(not lc.MOVES[s] for s in lc.FINAL)
    # The customer cancels any open ticket, reopens and confirms only a resolved one.
    assert {f for f, t in product(lc.STATES, lc.STATES) if lc.allowed(f, t, lc.CUSTOMER) and t == lc.CANCELLED} == set(
        lc.OPEN
    )
    assert {
        (f, t) for f, t in product(lc.STATES, lc.STATES) if lc.allowed(f, t, lc.CUSTOMER) and t != lc.CANCELLED
    } == {
        (lc.RESOLVED, lc.IN_PROGRESS),
        (lc.RESOLVED, lc.CLOSED),
    }
    # Support never cancels for the customer nor closes in their place.
    assert not any(lc.allowed(f, t, lc.SUPPORT) for f in lc.STATES for t in (lc.CANCELLED, lc.CLOSED))


async def _put(running: Running, ticket_id: str, state: str) -> None:
    """The ticket as it would stand in ``state`` (set directly: the matrix test starts from every state)."""
    async with running.db.transaction() as session:
        await session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(state=state))


async def _snapshot(running: Running, ticket_id: str) -> tuple[Any, ...]:
    async with running.db.sessions() as session:
        row = (await session.execute(sa.select(Ticket.__table__).where(Ticket.id == ticket_id))).one()
        history = await session.scalar(
            sa.select(sa.func.count()).select_from(TicketHistory).where(TicketHistory.ticket_id == ticket_id)
        )
        notes = await session.scalar(
            sa.select(sa.func.count()).select_from(TicketNote).where(TicketNote.ticket_id == ticket_id)
        )
        # The ticket's own events (a refusal is recorded for the action history, and that is all).
        events = await session.scalar(
            sa.select(sa.func.count())
            .select_from(BUS.outbox)
            .where(BUS.outbox.c.subject.startswith(TicketingSubjects.TICKET_EVENTS[:-1]))
        )
    return tuple(row), history, notes, events


async def test_every_move_of_the_matrix_over_grpc(running: Running) -> None:
    ticket = await running.file()
    manager, agent = running.manager(), running.support()
    allowed = refused = 0
    for from_state, to_state in product(lc.STATES, lc.STATES):
        # Support: Transition to any state (with a reason, so that only the matrix decides).
        await _put(running, ticket.id, from_state)
        before = await _snapshot(running, ticket.id)
        request = support_pb2.TransitionRequest(ticket_id=ticket.id, to_state=to_state, reason="checked")
        if lc.allowed(from_state, to_state, lc.SUPPORT):
            moved = await running.desk.Transition(request, metadata=agent)
            assert moved.ticket.state == to_state
            allowed += 1
        else:
            code, reason, _, details = await failure(running.desk.Transition(request, metadata=agent))
            assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TRANSITION_NOT_ALLOWED"), (
                from_state,
                to_state,
            )
            assert details == {"from": from_state, "to": to_state, "by": lc.SUPPORT}
            assert await _snapshot(running, ticket.id) == before, (from_state, to_state)
            refused += 1
        # The customer: the command whose move this is.
        if to_state not in CUSTOMER_COMMANDS:
            continue
        await _put(running, ticket.id, from_state)
        before = await _snapshot(running, ticket.id)
        method, message = CUSTOMER_COMMANDS[to_state]
        call = getattr(running.tickets, method)(message(ticket_id=ticket.id, reason="checked"), metadata=manager)
        if lc.allowed(from_state, to_state, lc.CUSTOMER):
            assert (await call).ticket.state == to_state
            allowed += 1
        else:
            code, reason, _, details = await failure(call)
            assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TRANSITION_NOT_ALLOWED"), (
                method,
                from_state,
            )
            assert details == {"from": from_state, "to": to_state, "by": lc.CUSTOMER}
            assert await _snapshot(running, ticket.id) == before, (method, from_state)
            refused += 1
    assert allowed == sum(
        lc.allowed(f, t, lc.SUPPORT) + (t in CUSTOMER_COMMANDS and lc.allowed(f, t, lc.CUSTOMER))
        for f, t in product(lc.STATES, lc.STATES)
    )
    assert allowed + refused == len(lc.STATES) ** 2 + len(lc.STATES) * len(CUSTOMER_COMMANDS)


def test_every_forbidden_move_is_refused_by_the_one_check() -> None:
    for from_state, to_state, actor in product(lc.STATES, lc.STATES, lc.ACTORS):
        if lc.allowed(from_state, to_state, actor):
            lc.check_move(from_state, to_state, actor)
            continue
        with pytest.raises(FailedPrecondition) as refused:
            lc.check_move(from_state, to_state, actor)
        assert refused.value.reason == "TRANSITION_NOT_ALLOWED"
        assert refused.value.metadata == {"from": from_state, "to": to_state, "by": actor}
        assert refused.value.message


async def test_an_unknown_state_is_a_bad_argument(running: Running) -> None:
    ticket = await running.file()
    before = await _snapshot(running, ticket.id)
    code, reason, fields, _ = await failure(
        running.desk.Transition(
            support_pb2.TransitionRequest(ticket_id=ticket.id, to_state="in_progress"), metadata=running.support()
        )
    )
    assert (code, reason, list(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_STATE", ["to_state"])
    code, reason, fields, _ = await failure(
        running.desk.Transition(
            support_pb2.TransitionRequest(ticket_id=ticket.id, to_state=lc.REJECTED), metadata=running.support()
        )
    )
    assert (code, list(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, ["reason"])  # a rejection says why
    assert await _snapshot(running, ticket.id) == before
