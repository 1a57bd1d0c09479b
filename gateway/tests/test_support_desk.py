"""/v1/admin/tickets on a scripted ticketing: the queue's filters as asked, tickets as support sees them, assign,
moves and answers sent as given, refusals as problems.

Who may work the desk and which moves are allowed is ticketing's decision (services/ticketing/tests); the routes
end to end, with a customer's user refused on each, are in tests/e2e/test_support_desk.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.main import create_app
from gateway.upstream.identity import open_identity_channel
from gateway.upstream.ticketing import open_ticketing_channel
from simfleet.ticketing.v1 import support_pb2 as spb
from simfleet.ticketing.v1 import tickets_pb2 as pb
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, _ts, make_settings
from .scripted import ScriptedServices
from .test_tickets import TICKET, ticket

BEARER = {"Authorization": "Bearer access.token.1"}
AGENT = "01JA0A1B2C3D4E5F6G7H8J9K0M"


@pytest.fixture(scope="module")
async def ticketing_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices(
        "ticketing",
        pb.DESCRIPTOR.services_by_name["TicketService"],
        spb.DESCRIPTOR.services_by_name["SupportService"],
    )
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


async def test_the_queue_sends_every_filter_and_shows_whose_ticket_it_is(client, ticketing):
    ticketing.script(
        "ListQueue",
        spb.ListQueueResponse(tickets=[ticket(assignee_id=AGENT, customer_id="c-7")], next_page_token="page-2"),
    )
    response = await client.get(
        "/v1/admin/tickets",
        params=[
            ("state", "acknowledged"),
            ("state", "inProgress"),
            ("type", "fault"),
            ("severity", "critical"),
            ("severity", "high"),
            ("assignee_id", AGENT),
            ("customer_id", "c-7"),
            ("overdue", "true"),
            ("q", "no data"),
            ("created_from", "2026-01-01T00:00:00Z"),
            ("sort", "-updated_at"),
            ("limit", "20"),
            ("cursor", "page-1"),
        ],
        headers=BEARER,
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    page = response.json()
    assert page["next_cursor"] == "page-2"
    (item,) = page["items"]
    assert (item["id"], item["customer_id"], item["assignee_id"], item["assigned"]) == (TICKET, "c-7", AGENT, True)
    assert item["service_level"]["response_overdue"] is True
    call = ticketing.last("ListQueue")
    assert call.metadata["authorization"] == "Bearer access.token.1"
    request = call.request
    assert (list(request.states), list(request.types), list(request.severities)) == (
        ["acknowledged", "inProgress"],
        ["fault"],
        ["critical", "high"],
    )
    assert (request.assignee_id, request.customer_id, request.overdue, request.unassigned) == (
        AGENT,
        "c-7",
        True,
        False,
    )
    assert (request.text, request.order_by, request.page_size, request.page_token) == (
        "no data",
        "-updated_at",
        20,
        "page-1",
    )
    assert request.created_from.seconds == 1_767_225_600 and not request.HasField("created_until")


async def test_the_queue_is_oldest_first_by_default_and_unassigned_on_request(client, ticketing):
    response = await client.get("/v1/admin/tickets", params={"unassigned": "true"}, headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}
    request = ticketing.last("ListQueue").request
    assert (request.order_by, request.unassigned, request.assignee_id, request.overdue) == (
        "created_at",
        True,
        "",
        False,
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "open"}, "state"),
        ({"severity": "urgent"}, "severity"),
        ({"type": "praise"}, "type"),
        ({"sort": "severity"}, "sort"),
        ({"assignee_id": "a b"}, "assignee_id"),
        ({"customer_id": ""}, "customer_id"),
        ({"q": "x" * 201}, "q"),
        ({"limit": "0"}, "limit"),
        ({"created_from": "2026-01-01T00:00:00"}, None),  # no time zone
        ({"assignee_id": AGENT, "unassigned": "true"}, None),  # they exclude each other
    ],
)
async def test_bad_filters_are_problems_that_ask_ticketing_nothing(client, ticketing, params, field):
    response = await client.get("/v1/admin/tickets", params=params, headers=BEARER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in {e["field"].split(".")[0] for e in response.json()["errors"]}
    assert ticketing.count("ListQueue") == 0


async def test_ticketings_refusal_of_a_filter_names_the_parameter(client, ticketing):
    ticketing.script(
        "ListQueue",
        InvalidArgument("bad", reason="INVALID_FILTER", field_violations={"text": "at most 200 characters"}),
    )
    response = await client.get("/v1/admin/tickets", params={"q": "x"}, headers=BEARER)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["q"]


async def test_a_ticket_with_its_notes_history_and_due_times(client, ticketing):
    ticketing.script(
        "ShowTicket",
        spb.ShowTicketResponse(
            ticket=ticket(state="inProgress", customer_id="c-7"),
            notes=[
                pb.Note(id="n-1", author_id=AGENT, author_kind="support", body="Which handsets?", created_at=_ts(1))
            ],
            history=[
                pb.HistoryEntry(action="created", to_state="acknowledged", actor_id="u-1", actor_kind="customer"),
                pb.HistoryEntry(
                    action="assigned",
                    from_state="acknowledged",
                    to_state="acknowledged",
                    actor_id=AGENT,
                    actor_kind="support",
                    assignee_id=AGENT,
                ),
            ],
        ),
    )
    response = await client.get(f"/v1/admin/tickets/{TICKET}", headers=BEARER)
    assert response.status_code == 200, response.text
    details = response.json()
    assert (details["ticket"]["customer_id"], details["ticket"]["assignee_id"]) == ("c-7", None)
    level = details["ticket"]["service_level"]
    assert (level["response_due_at"], level["response_overdue"], level["resolution_overdue"]) == (
        "2026-01-15T13:30:00Z",
        True,
        False,
    )
    assert [n["author_kind"] for n in details["notes"]] == ["support"]
    assert [h["action"] for h in details["history"]] == ["created", "assigned"]
    assert ticketing.last("ShowTicket").request.ticket_id == TICKET


async def test_assign_to_someone_and_to_nobody(client, ticketing):
    ticketing.script(
        "Assign", spb.AssignResponse(ticket=ticket(assignee_id=AGENT)), spb.AssignResponse(ticket=ticket())
    )
    given = await client.post(f"/v1/admin/tickets/{TICKET}/assign", json={"assignee_id": AGENT}, headers=BEARER)
    assert given.status_code == 200, given.text
    assert given.json()["assignee_id"] == AGENT
    assert ticketing.last("Assign").request.assignee_id == AGENT
    taken_back = await client.post(f"/v1/admin/tickets/{TICKET}/assign", json={"assignee_id": None}, headers=BEARER)
    assert taken_back.status_code == 200 and taken_back.json()["assignee_id"] is None
    assert ticketing.last("Assign").request.assignee_id == ""
    refused = await client.post(f"/v1/admin/tickets/{TICKET}/assign", json={"assignee_id": "a\nb"}, headers=BEARER)
    assert refused.status_code == 422 and ticketing.count("Assign") == 2


async def test_a_move_is_sent_with_its_reason_and_a_refused_one_is_a_409(client, ticketing):
    ticketing.script(
        "Transition",
        spb.TransitionResponse(ticket=ticket(state="pending")),
        FailedPrecondition(
            "support may not move a ticket from closed to inProgress",
            reason="TRANSITION_NOT_ALLOWED",
            metadata={"from": "closed", "to": "inProgress", "by": "support"},
        ),
    )
    moved = await client.post(
        f"/v1/admin/tickets/{TICKET}/transition",
        json={"to_state": "pending", "reason": "Waiting for the models."},
        headers=BEARER,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "pending"
    request = ticketing.last("Transition").request
    assert (request.ticket_id, request.to_state, request.reason) == (TICKET, "pending", "Waiting for the models.")

    refused = await client.post(
        f"/v1/admin/tickets/{TICKET}/transition", json={"to_state": "inProgress"}, headers=BEARER
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "TRANSITION_NOT_ALLOWED"

    for body in ({"to_state": "open"}, {"to_state": "held", "reason": "x" * 1_001}, {}, {"to_state": "held", "x": 1}):
        bad = await client.post(f"/v1/admin/tickets/{TICKET}/transition", json=body, headers=BEARER)
        assert bad.status_code == 422, body
    assert ticketing.count("Transition") == 2


async def test_an_answer_is_a_support_note_and_may_move_the_ticket(client, ticketing):
    note = pb.Note(id="n-2", ticket_id=TICKET, author_id=AGENT, author_kind="support", body="Fixed.", created_at=_ts(5))
    ticketing.script("Answer", spb.AnswerResponse(note=note, ticket=ticket(state="resolved")))
    answered = await client.post(
        f"/v1/admin/tickets/{TICKET}/answers", json={"body": "Fixed.", "to_state": "resolved"}, headers=BEARER
    )
    assert answered.status_code == 201, answered.text
    assert answered.headers["location"] == f"/v1/admin/tickets/{TICKET}"
    assert (answered.json()["note"]["author_kind"], answered.json()["ticket"]["state"]) == ("support", "resolved")
    request = ticketing.last("Answer").request
    assert (request.body, request.to_state) == ("Fixed.", "resolved")
    for body in ({"body": ""}, {"body": "x" * 10_001}, {"body": "a \u202e b"}, {"body": "ok", "to_state": "open"}):
        bad = await client.post(f"/v1/admin/tickets/{TICKET}/answers", json=body, headers=BEARER)
        assert bad.status_code == 422, body
    assert ticketing.count("Answer") == 1


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (PermissionDenied("this is for operator staff only", reason="OPERATOR_ONLY"), 403, "OPERATOR_ONLY"),
        (NotFound("the ticket does not exist", reason="TICKET_NOT_FOUND"), 404, "TICKET_NOT_FOUND"),
        (FailedPrecondition("ended", reason="TICKET_ENDED", metadata={"state": "closed"}), 409, "TICKET_ENDED"),
    ],
)
async def test_ticketings_refusals_are_problems(client, ticketing, error, status, reason):
    ticketing.script("Assign", error)
    response = await client.post(f"/v1/admin/tickets/{TICKET}/assign", json={"assignee_id": AGENT}, headers=BEARER)
    assert response.status_code == status
    assert response.json()["reason"] == reason


async def test_no_token_is_a_401_before_ticketing_is_asked(client, ticketing):
    response = await client.get("/v1/admin/tickets")
    assert response.status_code == 401
    assert ticketing.calls == []
