"""A ticket whose node accounts deletes moves up to the nearest node ticketing still knows (the parent), with a
history entry: those who saw it through the parent still do, the list by the parent's node_id shows it."""

from __future__ import annotations

import grpc

from simfleet.events.v1 import accounts_pb2 as accounts_ev
from simfleet.ticketing.v1 import support_pb2, tickets_pb2
from simfleet_runtime import nodepaths
from simfleet_runtime.authz import Grant
from simfleet_runtime.bus.consumer import Event
from simfleet_runtime.ids import new_id
from ticketing.tickets.nodes import node_events

from .conftest import READER, Running, failure  # type: ignore[import-not-found]


async def deliver_deletion(running: Running, node_id: str, path: str) -> None:
    """accounts' node.deleted, applied as ticketing's consumer applies it (one transaction)."""
    handle = node_events(running.ticketing.paths, running.ticketing.runtime.clock)
    data = accounts_ev.NodeDeleted(node_id=node_id, customer_id=running.customer_id, path=path).SerializeToString()
    event = Event(
        id=new_id(), subject=nodepaths.DELETED, data=data, headers={}, tenant=running.customer_id, deliveries=1
    )
    async with running.db.transaction() as session:
        await handle(session, event)


async def test_a_deleted_nodes_tickets_move_to_its_parent_and_stay_visible_there(running: Running) -> None:
    moved = await running.file(topic="At the branch")
    stays = await running.file(node_id=running.other_branch, topic="At the other branch")
    company_reader = running.bearer(Grant(running.company, READER), user="user-5")
    branch_reader = running.bearer(Grant(running.branch, READER), user="user-6")

    await deliver_deletion(running, running.branch, f"/{running.company}/{running.branch}/")

    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=moved.id), metadata=company_reader)
    assert got.ticket.node_id == running.company
    assert [(h.action, h.actor_kind, h.to_state) for h in got.history] == [
        ("created", "customer", "acknowledged"),
        ("node_changed", "system", "acknowledged"),
    ]
    assert running.branch in got.history[1].reason and running.company in got.history[1].reason
    under_company = await running.tickets.ListTickets(
        tickets_pb2.ListTicketsRequest(node_id=running.company), metadata=company_reader
    )
    assert {t.id for t in under_company.tickets} == {moved.id, stays.id}
    # The ticket at the other branch did not move.
    other = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=stays.id), metadata=company_reader)
    assert other.ticket.node_id == running.other_branch and len(other.history) == 1
    # A grant over the deleted node itself reaches nothing any more (identity removes such grants too).
    code, _, _, _ = await failure(
        running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=moved.id), metadata=branch_reader)
    )
    assert code == grpc.StatusCode.NOT_FOUND
    # The support desk sees where it went.
    shown = await running.desk.ListQueue(support_pb2.ListQueueRequest(), metadata=running.support())
    assert {t.node_id for t in shown.tickets if t.id == moved.id} == {running.company}


async def test_a_deleted_node_without_tickets_changes_no_ticket(running: Running) -> None:
    ticket = await running.file()
    await deliver_deletion(running, running.other_branch, f"/{running.company}/{running.other_branch}/")
    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=ticket.id), metadata=running.manager())
    assert got.ticket.node_id == running.branch and len(got.history) == 1
