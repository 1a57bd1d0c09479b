"""TicketService and SupportService over a real channel: filing, reading, lists, the conversation, the customer's
and support's moves, scope, bad input, idempotency, events and the action history."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp

from simfleet.events.v1 import audit_pb2
from simfleet.events.v1 import ticketing_pb2 as ev
from simfleet.ticketing.v1 import support_pb2, tickets_pb2
from simfleet_runtime.authz import Grant
from simfleet_runtime.context import OPERATOR_KEY as KEY_HEADER
from simfleet_runtime.ids import new_id
from simfleet_subjects import TicketingSubjects, audit_recorded
from ticketing.tickets.models import Ticket

from .conftest import OPERATOR_KEY, READER, WRITER, Running, failure, published  # type: ignore[import-not-found]

DAY = 86_400.0


async def stored_tickets(running: Running) -> int:
    async with running.db.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Ticket)) or 0)


async def test_a_customer_files_a_ticket_and_reads_it_with_its_history(running: Running) -> None:
    ticket = await running.file(
        related=tickets_pb2.RelatedEntities(
            msisdns=["+79160000001", "+79160000002"], operation_id="op-1", bill_id="b-7"
        )
    )
    assert ticket.number.startswith("T-") and len(ticket.number) == len("T-2026-000001")
    assert (ticket.state, ticket.type, ticket.severity, ticket.priority) == ("acknowledged", "fault", "high", "normal")
    assert (ticket.created_by, ticket.node_id, ticket.customer_id) == ("user-1", running.branch, running.customer_id)
    assert list(ticket.related.msisdns) == ["+79160000001", "+79160000002"]
    assert (ticket.related.operation_id, ticket.related.bill_id, ticket.contact_msisdn) == (
        "op-1",
        "b-7",
        "+79161234567",
    )
    level = ticket.service_level
    # High severity: the first answer within 4 hours, the resolution within 3 days (the settings' defaults).
    assert level.response_due_at.ToDatetime() - ticket.created_at.ToDatetime() == timedelta(hours=4)
    assert level.resolution_due_at.ToDatetime() - ticket.created_at.ToDatetime() == timedelta(days=3)
    assert not level.response_overdue and not level.resolution_overdue

    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=ticket.id), metadata=running.manager())
    assert got.ticket == ticket
    assert [(h.action, h.from_state, h.to_state, h.actor_id, h.actor_kind) for h in got.history] == [
        ("created", "", "acknowledged", "user-1", "customer")
    ]
    (created,) = [ev.TicketCreated.FromString(p) for p in await published(running, TicketingSubjects.TICKET_CREATED)]
    assert (created.ticket_id, created.number, created.customer_id, created.contact_msisdn) == (
        ticket.id,
        ticket.number,
        running.customer_id,
        "+79161234567",
    )
    (audit,) = [audit_pb2.AuditRecorded.FromString(p) for p in await published(running, audit_recorded("ticketing"))]
    assert (audit.action, audit.actor_id, audit.result, [o.id for o in audit.objects]) == (
        "tickets.create",
        "user-1",
        "succeeded",
        [ticket.id],
    )


async def test_bad_input_is_refused_with_its_fields_and_stores_nothing(running: Running) -> None:
    cases = [
        ({"type": "praise"}, {"type"}),
        ({"description": ""}, {"description"}),
        ({"description": "   "}, {"description"}),
        ({"description": "x" * 10_001}, {"description"}),
        ({"description": "x" * 1_000_000}, {"description"}),
        ({"topic": ""}, {"topic"}),
        ({"topic": "two\nlines"}, {"topic"}),
        ({"severity": "blocker"}, {"severity"}),
        ({"priority": "asap"}, {"priority"}),
        ({"contact_msisdn": "12345"}, {"contact_msisdn"}),
        ({"related": tickets_pb2.RelatedEntities(msisdns=["+7916", "+79160000001"])}, {"related.msisdns[0]"}),
        ({"related": tickets_pb2.RelatedEntities(operation_id="../../etc")}, {"related.operation_id"}),
        ({"related": tickets_pb2.RelatedEntities(bill_id="b 1")}, {"related.bill_id"}),
        ({"node_id": ""}, {"node_id"}),
        ({"type": "", "description": "", "topic": ""}, {"type", "description", "topic"}),
    ]
    for fields, named in cases:
        code, reason, violations, _ = await failure(running.file(**fields))
        assert (code, reason, set(violations)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_TICKET", named), fields
    assert await stored_tickets(running) == 0
    # The longest description is taken.
    assert len((await running.file(description="x" * 10_000)).description) == 10_000


async def test_scope_decides_what_a_user_sees_and_may_do(running: Running) -> None:
    mine = await running.file()
    theirs = await running.file(node_id=running.other_branch, topic="Another branch's question")
    branch_writer = running.bearer(Grant(running.branch, WRITER), user="user-2")
    branch_reader = running.bearer(Grant(running.branch, READER), user="user-3")
    stranger = running.bearer(Grant(running.company, WRITER), user="user-9", customer_id=new_id())

    listed = await running.tickets.ListTickets(tickets_pb2.ListTicketsRequest(), metadata=branch_writer)
    assert [t.id for t in listed.tickets] == [mine.id]
    listed = await running.tickets.ListTickets(tickets_pb2.ListTicketsRequest(), metadata=running.manager())
    assert {t.id for t in listed.tickets} == {mine.id, theirs.id}
    # Outside the scope, or another customer's: as if it did not exist.
    for who, ticket_id in ((branch_writer, theirs.id), (stranger, mine.id), (branch_writer, new_id())):
        code, reason, _, _ = await failure(
            running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=ticket_id), metadata=who)
        )
        assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "TICKET_NOT_FOUND")
    # Filing under a node outside the scope is the same.
    code, reason, _, _ = await failure(running.file(branch_writer, node_id=running.other_branch))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "NODE_NOT_FOUND")
    # Reading without writing.
    await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=mine.id), metadata=branch_reader)
    for call in (
        running.tickets.AddNote(tickets_pb2.AddNoteRequest(ticket_id=mine.id, body="hello"), metadata=branch_reader),
        running.tickets.CancelTicket(tickets_pb2.CancelTicketRequest(ticket_id=mine.id), metadata=branch_reader),
        running.file(branch_reader),
    ):
        code, reason, _, details = await failure(call)
        assert (code, reason, details) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_MISSING",
            {"permission": "tickets:write"},
        )
    # A list under a node narrows to it; a node outside the scope is not found.
    listed = await running.tickets.ListTickets(
        tickets_pb2.ListTicketsRequest(node_id=running.other_branch), metadata=running.manager()
    )
    assert [t.id for t in listed.tickets] == [theirs.id]
    code, _, _, _ = await failure(
        running.tickets.ListTickets(
            tickets_pb2.ListTicketsRequest(node_id=running.other_branch), metadata=branch_writer
        )
    )
    assert code == grpc.StatusCode.NOT_FOUND
    # Operator staff use the support desk, not the customers' service.
    code, reason, _, _ = await failure(
        running.tickets.ListTickets(tickets_pb2.ListTicketsRequest(), metadata=running.support())
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "OPERATOR_TOKEN")


async def test_filters_sorting_and_pages(running: Running) -> None:
    filed = []
    for i, (kind, topic) in enumerate(
        [
            ("fault", "Roaming does not work"),
            ("complaint", "Rude answer"),
            ("suggestion", "Dark mode"),
            ("fault", "SMS"),
        ]
    ):
        running.move_clock(i * 60.0)
        filed.append(await running.file(type=kind, topic=topic))
    manager = running.manager()
    await running.tickets.CancelTicket(tickets_pb2.CancelTicketRequest(ticket_id=filed[3].id), metadata=manager)

    async def listed(**fields: object) -> list[str]:
        answer = await running.tickets.ListTickets(tickets_pb2.ListTicketsRequest(**fields), metadata=manager)  # type: ignore[arg-type]
        return [t.topic for t in answer.tickets]

    assert await listed() == ["SMS", "Dark mode", "Rude answer", "Roaming does not work"]  # newest first
    assert await listed(order_by="created_at") == ["Roaming does not work", "Rude answer", "Dark mode", "SMS"]
    assert await listed(order_by="number") == ["Roaming does not work", "Rude answer", "Dark mode", "SMS"]
    assert await listed(types=["fault"]) == ["SMS", "Roaming does not work"]
    assert await listed(types=["complaint", "suggestion"]) == ["Dark mode", "Rude answer"]
    assert await listed(states=["cancelled"]) == ["SMS"]
    assert await listed(text="ROAMING") == ["Roaming does not work"]
    assert await listed(text=filed[1].number) == ["Rude answer"]
    assert await listed(text="100%_") == []
    since = Timestamp()
    since.FromDatetime(filed[1].created_at.ToDatetime())
    until = Timestamp()
    until.FromDatetime(filed[3].created_at.ToDatetime())
    assert await listed(created_from=since, created_until=until) == ["Dark mode", "Rude answer"]

    pages, token = [], ""
    while True:
        answer = await running.tickets.ListTickets(
            tickets_pb2.ListTicketsRequest(page_size=3, page_token=token, order_by="created_at"), metadata=manager
        )
        pages.append([t.topic for t in answer.tickets])
        token = answer.next_page_token
        if not token:
            break
    assert pages == [["Roaming does not work", "Rude answer", "Dark mode"], ["SMS"]]

    for fields, field in (
        ({"types": ["praise"]}, "types"),
        ({"states": ["open"]}, "states"),
        ({"order_by": "severity"}, "order_by"),
        ({"page_token": "forged.token"}, "page_token"),
        ({"text": "x" * 201}, "text"),
        ({"created_from": until, "created_until": since}, "created_until"),
    ):
        code, _, violations, _ = await failure(
            running.tickets.ListTickets(tickets_pb2.ListTicketsRequest(**fields), metadata=manager)  # type: ignore[arg-type]
        )
        assert (code, list(violations)) == (grpc.StatusCode.INVALID_ARGUMENT, [field]), fields


async def test_idempotent_creation(running: Running) -> None:
    first = await running.tickets.CreateTicket(
        tickets_pb2.CreateTicketRequest(
            node_id=running.branch, type="question", topic="Invoices", description="Where?", idempotency_key="k-1"
        ),
        metadata=running.manager(),
    )
    again = await running.tickets.CreateTicket(
        tickets_pb2.CreateTicketRequest(
            node_id=running.branch, type="question", topic="Invoices", description="Where?", idempotency_key="k-1"
        ),
        metadata=running.manager(),
    )
    assert (again.replayed, again.ticket.id, again.ticket.number) == (True, first.ticket.id, first.ticket.number)
    code, reason, violations, _ = await failure(
        running.tickets.CreateTicket(
            tickets_pb2.CreateTicketRequest(
                node_id=running.branch, type="question", topic="Invoices", description="Other", idempotency_key="k-1"
            ),
            metadata=running.manager(),
        )
    )
    assert (code, reason, list(violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "IDEMPOTENCY_KEY_REUSED",
        ["idempotency_key"],
    )
    # Another user's key is theirs.
    other = await running.tickets.CreateTicket(
        tickets_pb2.CreateTicketRequest(
            node_id=running.branch, type="question", topic="Invoices", description="Where?", idempotency_key="k-1"
        ),
        metadata=running.manager(user="user-2"),
    )
    assert not other.replayed and other.ticket.id != first.ticket.id
    assert await stored_tickets(running) == 2


async def test_the_conversation_and_the_whole_way_to_closed(running: Running) -> None:
    ticket = await running.file()
    manager, agent = running.manager(), running.support(user="agent-7")
    assigned = await running.desk.Assign(
        support_pb2.AssignRequest(ticket_id=ticket.id, assignee_id="agent-7"), metadata=agent
    )
    assert assigned.ticket.assignee_id == "agent-7"
    moved = await running.desk.Transition(
        support_pb2.TransitionRequest(ticket_id=ticket.id, to_state="inProgress"), metadata=agent
    )
    assert moved.ticket.state == "inProgress"
    answered = await running.desk.Answer(
        support_pb2.AnswerRequest(ticket_id=ticket.id, body="Which handsets?", to_state="pending"), metadata=agent
    )
    assert answered.ticket.state == "pending" and answered.note.author_kind == "support"
    assert answered.ticket.service_level.HasField("responded_at")
    # The customer answers: the ticket is back in progress.
    noted = await running.tickets.AddNote(
        tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="iPhones, both of them."), metadata=manager
    )
    assert noted.ticket.state == "inProgress" and noted.ticket.note_count == 2
    resolved = await running.desk.Answer(
        support_pb2.AnswerRequest(ticket_id=ticket.id, body="APN fixed.", to_state="resolved"), metadata=agent
    )
    assert resolved.ticket.state == "resolved" and resolved.ticket.HasField("auto_close_at")
    reopened = await running.tickets.ReopenTicket(
        tickets_pb2.ReopenTicketRequest(ticket_id=ticket.id, reason="Still no data on one"), metadata=manager
    )
    assert reopened.ticket.state == "inProgress" and not reopened.ticket.HasField("auto_close_at")
    await running.desk.Transition(
        support_pb2.TransitionRequest(ticket_id=ticket.id, to_state="resolved"), metadata=agent
    )
    closed = await running.tickets.ConfirmResolution(
        tickets_pb2.ConfirmResolutionRequest(ticket_id=ticket.id), metadata=manager
    )
    assert closed.ticket.state == "closed"
    code, reason, _, _ = await failure(
        running.tickets.AddNote(tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="thanks"), metadata=manager)
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TICKET_ENDED")

    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=ticket.id), metadata=manager)
    assert [(n.author_kind, n.author_id, n.body) for n in got.notes] == [
        ("support", "agent-7", "Which handsets?"),
        ("customer", "user-1", "iPhones, both of them."),
        ("support", "agent-7", "APN fixed."),
    ]
    history = await running.tickets.TicketHistory(
        tickets_pb2.TicketHistoryRequest(ticket_id=ticket.id), metadata=manager
    )
    assert [(h.action, h.from_state, h.to_state, h.actor_kind, h.reason) for h in history.history] == [
        ("created", "", "acknowledged", "customer", ""),
        ("assigned", "acknowledged", "acknowledged", "support", ""),
        ("state_changed", "acknowledged", "inProgress", "support", ""),
        ("state_changed", "inProgress", "pending", "support", ""),
        ("state_changed", "pending", "inProgress", "system", "the customer answered"),
        ("state_changed", "inProgress", "resolved", "support", ""),
        ("state_changed", "resolved", "inProgress", "customer", "Still no data on one"),
        ("state_changed", "inProgress", "resolved", "support", ""),
        ("state_changed", "resolved", "closed", "customer", ""),
    ]
    assert history.history[1].assignee_id == "agent-7"
    changes = [
        ev.TicketStateChanged.FromString(p) for p in await published(running, TicketingSubjects.TICKET_STATE_CHANGED)
    ]
    assert [(c.from_state, c.to_state) for c in changes] == [
        (h.from_state, h.to_state) for h in history.history if h.action == "state_changed"
    ]
    notes = [ev.TicketNoteAdded.FromString(p) for p in await published(running, TicketingSubjects.TICKET_NOTE_ADDED)]
    assert [n.author_kind for n in notes] == ["support", "customer", "support"]
    actions = [audit_pb2.AuditRecorded.FromString(p) for p in await published(running, audit_recorded("ticketing"))]
    recorded = [(a.action, a.actor_kind, a.customer_id, a.result) for a in actions if a.result == "succeeded"]
    assert ("tickets.support.answer", "operator", running.customer_id, "succeeded") in recorded
    assert ("tickets.confirm_resolution", "user", running.customer_id, "succeeded") in recorded


async def test_a_resolved_ticket_closes_itself_unless_reopened(running: Running) -> None:
    agent, manager = running.support(), running.manager()
    stays, reopened = await running.file(topic="Closes"), await running.file(topic="Reopened")
    for ticket in (stays, reopened):
        await running.desk.Transition(
            support_pb2.TransitionRequest(ticket_id=ticket.id, to_state="resolved"), metadata=agent
        )
    sweeper = running.ticketing.sweeper
    assert await sweeper.once() == 0  # not yet
    running.move_clock(3 * DAY)
    await running.tickets.ReopenTicket(
        tickets_pb2.ReopenTicketRequest(ticket_id=reopened.id), metadata=running.manager()
    )
    running.move_clock(7 * DAY + 60)
    manager = running.manager()
    assert await sweeper.once() == 1
    assert await sweeper.once() == 0
    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=stays.id), metadata=manager)
    assert got.ticket.state == "closed"
    assert (got.history[-1].actor_kind, got.history[-1].to_state) == ("system", "closed")
    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=reopened.id), metadata=manager)
    assert got.ticket.state == "inProgress"


async def test_the_support_desk_queue_and_overdue_tickets(running: Running) -> None:
    agent = running.support()
    critical = await running.file(severity="critical", topic="All lines down")
    low = await running.file(severity="low", topic="A question", type="question")
    running.move_clock(2 * 3600.0)  # past the critical one's response target (1 hour), not the low one's (3 days)
    agent = running.support()
    queue = await running.desk.ListQueue(support_pb2.ListQueueRequest(overdue=True), metadata=agent)
    assert [t.id for t in queue.tickets] == [critical.id]
    assert queue.tickets[0].service_level.response_overdue
    queue = await running.desk.ListQueue(support_pb2.ListQueueRequest(severities=["low"]), metadata=agent)
    assert [t.id for t in queue.tickets] == [low.id]
    queue = await running.desk.ListQueue(
        support_pb2.ListQueueRequest(customer_id=running.customer_id, unassigned=True), metadata=agent
    )
    assert [t.id for t in queue.tickets] == [critical.id, low.id]  # oldest first
    await running.desk.Answer(support_pb2.AnswerRequest(ticket_id=critical.id, body="Looking into it."), metadata=agent)
    shown = await running.desk.ShowTicket(support_pb2.ShowTicketRequest(ticket_id=critical.id), metadata=agent)
    # Answered late: it stays flagged for its response, and is still due to be resolved.
    assert shown.ticket.service_level.response_overdue and not shown.ticket.service_level.resolution_overdue
    assert [n.body for n in shown.notes] == ["Looking into it."]
    by_state, overdue = await running.ticketing.tickets.figures()
    assert by_state["acknowledged"] == 2 and overdue == {"response": 0, "resolution": 0}
    running.move_clock(2 * DAY)
    by_state, overdue = await running.ticketing.tickets.figures()
    assert overdue == {"response": 0, "resolution": 1}

    # Only operator staff with tickets:support, or the operator key; never a customer's token, nor the
    # back-office's onboarding staff (customers:read alone reads customers, not their tickets).
    for metadata, expected in (
        (running.support("customers:onboard", "customers:read"), grpc.StatusCode.PERMISSION_DENIED),
        (running.manager(), grpc.StatusCode.PERMISSION_DENIED),
        ((), grpc.StatusCode.UNAUTHENTICATED),
        (((KEY_HEADER, "wrong"),), grpc.StatusCode.PERMISSION_DENIED),
    ):
        code, _, _, _ = await failure(running.desk.ListQueue(support_pb2.ListQueueRequest(), metadata=metadata))
        assert code == expected, metadata
    queue = await running.desk.ListQueue(support_pb2.ListQueueRequest(), metadata=((KEY_HEADER, OPERATOR_KEY),))
    assert len(queue.tickets) == 2


@pytest.mark.parametrize("body", ["", " ", "x" * 10_001])
async def test_an_empty_or_overlong_note_is_refused(running: Running, body: str) -> None:
    ticket = await running.file()
    code, _, violations, _ = await failure(
        running.tickets.AddNote(tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body=body), metadata=running.manager())
    )
    assert (code, list(violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["body"])
    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=ticket.id), metadata=running.manager())
    assert got.ticket.note_count == 0 and not got.notes
