"""Tickets on the running platform (TK-1, TK-2): a manager files one over ticketing's gRPC API under a node
ticketing learnt from accounts' events, with identity's token; support answers and resolves it with the operator
key; the manager confirms; the commands reach the action history. Then the customer's side through the gateway's
/v1/tickets: problems for bad input and refused moves, idempotent filing, filters, notes, cancelling."""

from __future__ import annotations

import io
from collections.abc import Iterator

import grpc
import httpx
import pdfplumber
import pytest

from simfleet.ticketing.v1 import support_pb2, support_pb2_grpc, tickets_pb2, tickets_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from tests.e2e.test_audit import history, sign_in
from tests.helpers import problem

pytestmark = pytest.mark.e2e


@pytest.fixture
def channel(platform: Platform) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(platform.ticketing_target) as opened:
        yield opened


def test_a_manager_files_support_answers_and_the_manager_closes(
    platform: Platform, api: httpx.Client, channel: grpc.Channel
) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    bearer = (("authorization", manager["Authorization"]),)
    operator = ((OPERATOR_KEY, platform.config.operator_key),)
    nodes = {n["name"]: n for n in api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]}
    tickets = tickets_pb2_grpc.TicketServiceStub(channel)
    desk = support_pb2_grpc.SupportServiceStub(channel)
    request = tickets_pb2.CreateTicketRequest(
        node_id=nodes["Regions"]["id"],
        type="complaint",
        topic="Slow answers from the hotline",
        description="We waited 40 minutes on the line yesterday.",
        contact_msisdn=DEMO_MANAGER.phone,
        idempotency_key="e2e-complaint-1",
    )

    def filed() -> tickets_pb2.CreateTicketResponse | None:
        try:  # ticketing knows the demo tree once its consumer of accounts' node events has caught up
            answer: tickets_pb2.CreateTicketResponse = tickets.CreateTicket(request, metadata=bearer, timeout=5)
            return answer
        except grpc.RpcError as refused:
            if refused.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    ticket = wait_until(filed, 20, "the ticket filed", interval=0.2).ticket
    assert ticket.number.startswith("T-") and ticket.state == "acknowledged"

    answered = desk.Answer(
        support_pb2.AnswerRequest(ticket_id=ticket.id, body="Sorry: more staff from Monday.", to_state="resolved"),
        metadata=operator,
        timeout=5,
    )
    assert answered.ticket.state == "resolved"
    closed = tickets.ConfirmResolution(
        tickets_pb2.ConfirmResolutionRequest(ticket_id=ticket.id), metadata=bearer, timeout=5
    ).ticket
    assert closed.state == "closed"
    listed = tickets.ListTickets(tickets_pb2.ListTicketsRequest(types=["complaint"]), metadata=bearer, timeout=5)
    assert ticket.id in [t.id for t in listed.tickets]

    # The customer's own commands and support's answer are in the customer's action history.
    recorded = wait_until(
        lambda: (
            {e["action"] for e in history(api, manager, object_id=ticket.id) if e["service"] == "ticketing"}
            >= {"tickets.create", "tickets.support.answer", "tickets.confirm_resolution"}
        ),
        20,
        "the ticket's commands in the action history",
        interval=0.2,
    )
    assert recorded


def test_the_customer_side_through_the_gateway(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    nodes = {n["name"]: n for n in api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]}
    body = {
        "node_id": nodes["Finance"]["id"],
        "type": "billing_dispute",
        "topic": "A charge we do not recognise",
        "description": "December's bill has a roaming charge for a line that never left Moscow.",
        "severity": "medium",
        "related": {"lines": ["+79990000001"], "bill_id": "B-2026-12-0001"},
    }
    # Bad input is a problem naming the field, and files nothing.
    refused = problem(api.post("/v1/tickets", json={**body, "type": "praise"}, headers=manager), 422)
    assert "type" in {e["field"] for e in refused["errors"]}
    refused = problem(api.post("/v1/tickets", json={**body, "description": "a \u202e b"}, headers=manager), 422)
    assert "description" in {e["field"] for e in refused["errors"]}
    refused = problem(api.post("/v1/tickets", json={**body, "description": "x" * 10_001}, headers=manager), 422)
    assert "description" in {e["field"] for e in refused["errors"]}

    def filed() -> httpx.Response | None:
        answer = api.post("/v1/tickets", json=body, headers={**manager, "Idempotency-Key": "e2e-dispute-1"})
        return None if answer.status_code == 404 else answer  # until ticketing knows the demo tree

    created = wait_until(filed, 20, "the ticket filed", interval=0.2)
    assert created.status_code in (200, 201), created.text
    ticket = created.json()
    assert ticket["number"].startswith("T-") and ticket["state"] == "acknowledged"
    assert ticket["related"] == {"lines": ["+79990000001"], "operation_id": None, "bill_id": "B-2026-12-0001"}
    again = api.post("/v1/tickets", json=body, headers={**manager, "Idempotency-Key": "e2e-dispute-1"})
    assert again.status_code == 200 and again.json()["id"] == ticket["id"]

    listed = api.get("/v1/tickets", params={"type": "billing_dispute", "q": "roaming charge"}, headers=manager)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == [ticket["id"]]  # the refused ones stored nothing
    # Only a resolved ticket is confirmed: a 409 with the move refused, and nothing changes.
    refused = problem(api.post(f"/v1/tickets/{ticket['id']}/confirm-resolution", headers=manager), 409)
    assert refused["reason"] == "TRANSITION_NOT_ALLOWED"
    noted = api.post(f"/v1/tickets/{ticket['id']}/notes", json={"body": "The line is +79990000001."}, headers=manager)
    assert noted.status_code == 201 and noted.json()["ticket"]["note_count"] == 1
    cancelled = api.post(
        f"/v1/tickets/{ticket['id']}/cancel", json={"reason": "Found it: a test SIM."}, headers=manager
    )
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    details = api.get(f"/v1/tickets/{ticket['id']}", headers=manager).json()
    assert [(h["to_state"], h["actor_kind"], h["reason"]) for h in details["history"]] == [
        ("acknowledged", "customer", None),
        ("cancelled", "customer", "Found it: a test SIM."),
    ]
    assert [n["body"] for n in details["notes"]] == ["The line is +79990000001."]
    problem(api.get("/v1/tickets/01JA5F6G7H8J9K0M1N2P3Q4R5S", headers=manager), 404)


def test_a_manager_downloads_a_form_filled_in_with_the_company_the_account_and_themselves(
    api: httpx.Client,
) -> None:
    """TK-3 through the gateway: ticketing fills the form in from accounts (names) and identity (the applicant),
    both asked with the manager's own token; a form for a node outside the caller's scope is a 404."""
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    catalogue = api.get("/v1/forms", params={"language": "ru"}, headers=manager)
    assert catalogue.status_code == 200, catalogue.text
    assert {"sim_replacement", "number_transfer", "contract_details_change"} <= {
        f["code"] for f in catalogue.json()["items"]
    }
    account = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 1}, headers=manager).json()["items"][0]
    line = api.get("/v1/lines", params={"limit": 1}, headers=manager).json()["items"][0]["msisdn"]

    def filled() -> httpx.Response | None:
        answer = api.post(
            "/v1/forms/sim_replacement/fill",
            json={"node_id": account["id"], "lines": [line], "fields": {"reason": "damaged"}, "language": "ru"},
            headers=manager,
        )
        # ticketing knows the demo tree once its consumer of accounts' node events has caught up
        return None if answer.status_code == 404 else answer

    answer = wait_until(filled, 20, "the form filled in", interval=0.2)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith('attachment; filename="sim_replacement-')
    with pdfplumber.open(io.BytesIO(answer.content)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    for expected in (
        "Заявление на замену SIM-карты",
        "Demo Logistics LLC",
        account["name"],
        account["account_number"],
        line,
        "повреждена",
        DEMO_MANAGER.display_name,
        DEMO_MANAGER.phone,
    ):
        assert expected in text, expected

    refused = api.post(
        "/v1/forms/sim_replacement/fill",
        json={"node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B", "lines": [line]},
        headers=manager,
    )
    problem(refused, 404)
