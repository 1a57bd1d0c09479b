"""/v1/tickets on a scripted ticketing: bodies and filters as asked, tickets as answered, refusals as problems.

Which tickets a caller sees and which moves are allowed is ticketing's decision (services/ticketing/tests);
the routes end to end are in tests/e2e.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.main import create_app
from gateway.upstream.identity import open_identity_channel
from gateway.upstream.ticketing import open_ticketing_channel
from simfleet.ticketing.v1 import tickets_pb2 as pb
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, _ts, make_settings
from .scripted import ScriptedServices

BEARER = {"Authorization": "Bearer access.token.1"}
TICKET = "01JA5F6G7H8J9K0M1N2P3Q4R5S"
NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"


def ticket(**changes: object) -> pb.Ticket:
    fields: dict[str, object] = {
        "id": TICKET,
        "number": "T-2026-000123",
        "customer_id": "c-1",
        "node_id": NODE,
        "type": "fault",
        "topic": "No data",
        "description": "Two lines have no data.",
        "severity": "high",
        "priority": "normal",
        "state": "acknowledged",
        "related": pb.RelatedEntities(msisdns=["+79160000001"], operation_id="op-1"),
        "created_by": "u-1",
        "contact_msisdn": "+79161234567",
        "created_at": _ts(1_768_469_400),
        "updated_at": _ts(1_768_469_400),
        "service_level": pb.ServiceLevel(
            response_due_at=_ts(1_768_483_800), resolution_due_at=_ts(1_768_728_600), response_overdue=True
        ),
    }
    fields.update(changes)
    return pb.Ticket(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def ticketing_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices("ticketing", pb.DESCRIPTOR.services_by_name["TicketService"])
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def ticketing(ticketing_server: ScriptedServices) -> AsyncIterator[ScriptedServices]:
    ticketing_server.reset()
    yield ticketing_server
    ticketing_server.reset()


@pytest.fixture
async def client(identity: ScriptedIdentity, ticketing: ScriptedServices) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(identity.target, ticketing_target=ticketing.target)
    identity_channel, ticketing_channel = open_identity_channel(settings), open_ticketing_channel(settings)
    app = create_app(settings, identity_channel=identity_channel, ticketing_channel=ticketing_channel)
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client
    await identity_channel.close()
    await ticketing_channel.close()


async def test_filing_sends_the_body_and_the_key_and_answers_201_with_its_place(client, ticketing):
    ticketing.script("CreateTicket", pb.CreateTicketResponse(ticket=ticket()))
    body = {
        "node_id": NODE,
        "type": "fault",
        "topic": "No data",
        "description": "Two lines have no data.",
        "severity": "high",
        "related": {"lines": ["+79160000001"], "operation_id": "op-1"},
        "contact_msisdn": "+79161234567",
    }
    response = await client.post("/v1/tickets", json=body, headers={**BEARER, "Idempotency-Key": "k-1"})

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/tickets/{TICKET}"
    answer = response.json()
    assert (answer["number"], answer["state"], answer["assigned"]) == ("T-2026-000123", "acknowledged", False)
    assert answer["related"] == {"lines": ["+79160000001"], "operation_id": "op-1", "bill_id": None}
    assert answer["service_level"]["response_overdue"] is True
    call = ticketing.last("CreateTicket")
    assert call.metadata["authorization"] == "Bearer access.token.1"
    request = call.request
    assert (request.node_id, request.type, request.severity, request.priority) == (NODE, "fault", "high", "normal")
    assert (list(request.related.msisdns), request.related.operation_id, request.related.bill_id) == (
        ["+79160000001"],
        "op-1",
        "",
    )
    assert (request.contact_msisdn, request.idempotency_key) == ("+79161234567", "k-1")

    ticketing.script("CreateTicket", pb.CreateTicketResponse(ticket=ticket(), replayed=True))
    again = await client.post("/v1/tickets", json=body, headers={**BEARER, "Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "praise"}, "type"),
        ({"description": ""}, "description"),
        ({"description": "x" * 10_001}, "description"),
        ({"topic": ""}, "topic"),
        ({"topic": "two\nlines"}, "topic"),
        ({"description": "evil \u202e txt.exe"}, "description"),
        ({"severity": "blocker"}, "severity"),
        ({"contact_msisdn": "12345"}, "contact_msisdn"),
        ({"related": {"lines": ["+7916"]}}, "related.lines.0"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_a_bad_body_is_a_422_naming_the_field_and_ticketing_is_not_asked(
    client, ticketing, problem, changes, field
):
    body = {"node_id": NODE, "type": "fault", "topic": "No data", "description": "Two lines.", **changes}
    refused = problem(await client.post("/v1/tickets", json=body, headers=BEARER), 422, "VALIDATION_FAILED")
    assert field in {e["field"] for e in refused["errors"]}, refused
    assert ticketing.count("CreateTicket") == 0


async def test_ticketings_refusals_are_problems_with_their_reasons(client, ticketing, problem):
    ticketing.script(
        "CreateTicket",
        InvalidArgument("bad", reason="INVALID_TICKET", field_violations={"description": "control characters"}),
    )
    body = {"node_id": NODE, "type": "fault", "topic": "No data", "description": "Two lines."}
    refused = problem(await client.post("/v1/tickets", json=body, headers=BEARER), 422, "INVALID_TICKET")
    assert [e["field"] for e in refused["errors"]] == ["description"]
    ticketing.script("GetTicket", NotFound("the ticket does not exist", reason="TICKET_NOT_FOUND"))
    problem(await client.get(f"/v1/tickets/{TICKET}", headers=BEARER), 404, "TICKET_NOT_FOUND")
    ticketing.script("AddNote", PermissionDenied("no", reason="PERMISSION_MISSING"))
    problem(
        await client.post(f"/v1/tickets/{TICKET}/notes", json={"body": "hi"}, headers=BEARER), 403, "PERMISSION_MISSING"
    )
    ticketing.script(
        "ConfirmResolution",
        FailedPrecondition(
            "a ticket does not move", reason="TRANSITION_NOT_ALLOWED", metadata={"from": "acknowledged", "to": "closed"}
        ),
    )
    problem(
        await client.post(f"/v1/tickets/{TICKET}/confirm-resolution", headers=BEARER), 409, "TRANSITION_NOT_ALLOWED"
    )
    problem(await client.get("/v1/tickets", headers={}), 401, "UNAUTHENTICATED")


async def test_the_list_sends_every_filter_and_is_not_cached(client, ticketing):
    ticketing.script("ListTickets", pb.ListTicketsResponse(tickets=[ticket()], next_page_token="t2"))
    response = await client.get(
        "/v1/tickets",
        params=[
            ("state", "acknowledged"),
            ("state", "inProgress"),
            ("type", "complaint"),
            ("created_from", "2026-01-15T12:30:00+03:00"),
            ("created_until", "2026-01-16T00:00:00Z"),
            ("q", "roaming"),
            ("node_id", NODE),
            ("sort", "number"),
            ("limit", "5"),
            ("cursor", "t1"),
        ],
        headers=BEARER,
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["next_cursor"] == "t2" and response.json()["items"][0]["id"] == TICKET
    request = ticketing.last("ListTickets").request
    assert (list(request.states), list(request.types), request.text, request.node_id) == (
        ["acknowledged", "inProgress"],
        ["complaint"],
        "roaming",
        NODE,
    )
    assert request.created_from.seconds == 1_768_469_400
    assert (request.order_by, request.page_size, request.page_token) == ("number", 5, "t1")

    await client.get("/v1/tickets", headers=BEARER)
    request = ticketing.last("ListTickets").request
    assert (request.order_by, request.page_size) == ("-created_at", 100)
    assert not request.HasField("created_from") and not request.states


async def test_a_ticket_with_its_conversation_and_history_and_the_moves(client, ticketing):
    ticketing.script(
        "GetTicket",
        pb.GetTicketResponse(
            ticket=ticket(state="pending", assignee_id="agent-7"),
            notes=[pb.Note(id="n-1", author_id="agent-7", author_kind="support", body="Which?", created_at=_ts(1))],
            history=[
                pb.HistoryEntry(action="created", to_state="acknowledged", actor_id="u-1", actor_kind="customer"),
                pb.HistoryEntry(
                    action="state_changed",
                    from_state="acknowledged",
                    to_state="pending",
                    actor_id="agent-7",
                    actor_kind="support",
                    reason="which handsets?",
                ),
            ],
        ),
    )
    got = (await client.get(f"/v1/tickets/{TICKET}", headers=BEARER)).json()
    assert got["ticket"]["assigned"] is True and got["ticket"]["state"] == "pending"
    assert [(n["author_kind"], n["body"]) for n in got["notes"]] == [("support", "Which?")]
    assert [(h["from_state"], h["to_state"], h["reason"]) for h in got["history"]] == [
        (None, "acknowledged", None),
        ("acknowledged", "pending", "which handsets?"),
    ]
    ticketing.script(
        "AddNote",
        pb.AddNoteResponse(
            note=pb.Note(id="n-2", author_kind="customer", body="iPhones"), ticket=ticket(state="inProgress")
        ),
    )
    noted = await client.post(f"/v1/tickets/{TICKET}/notes", json={"body": "iPhones"}, headers=BEARER)
    assert noted.status_code == 201 and noted.json()["ticket"]["state"] == "inProgress"
    assert ticketing.last("AddNote").request.body == "iPhones"
    for path, method, state in (
        ("cancel", "CancelTicket", "cancelled"),
        ("reopen", "ReopenTicket", "inProgress"),
        ("confirm-resolution", "ConfirmResolution", "closed"),
    ):
        ticketing.script(method, getattr(pb, f"{method}Response")(ticket=ticket(state=state)))
        moved = await client.post(f"/v1/tickets/{TICKET}/{path}", json={"reason": "because"}, headers=BEARER)
        assert moved.status_code == 200 and moved.json()["state"] == state
        assert ticketing.last(method).request.reason == "because"
    ticketing.script(
        "TicketHistory",
        pb.TicketHistoryResponse(
            history=[pb.HistoryEntry(action="created", to_state="acknowledged", actor_kind="customer")]
        ),
    )
    history = (await client.get(f"/v1/tickets/{TICKET}/history", headers=BEARER)).json()
    assert [h["action"] for h in history["items"]] == ["created"]
