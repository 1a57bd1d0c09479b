"""The support desk through the gateway (/v1/admin/tickets): the demo support staff member finds a manager's ticket
in the queue, takes it, moves it, answers it; a refused move is a 409 problem. Nobody else works the desk: a
customer's user is refused on every route of it (enumerated from the OpenAPI, so a new route cannot be missed),
the back-office's onboarding staff too, and support staff are refused on the customer's /v1/tickets."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_OPERATOR, DEMO_SUPPORT
from simfleet_runtime.testing import wait_until
from tests.e2e.test_audit import sign_in
from tests.helpers import problem

pytestmark = pytest.mark.e2e
DESK = "/v1/admin/tickets"
SOME_TICKET = "01JA5F6G7H8J9K0M1N2P3Q4R5S"


def user_id(auth: dict[str, str]) -> str:
    payload = auth["Authorization"].split()[1].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


def file_ticket(api: httpx.Client, manager: dict[str, str], **changes: object) -> dict[str, object]:
    nodes = {n["name"]: n for n in api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]}
    body = {
        "node_id": nodes["Regions"]["id"],
        "type": "fault",
        "topic": "Desk e2e: no data in Kazan",
        "description": "Three lines in Kazan have had no data since 9:00.",
        "severity": "critical",
        **changes,
    }

    def filed() -> httpx.Response | None:
        answer = api.post("/v1/tickets", json=body, headers=manager)
        return None if answer.status_code == 404 else answer  # until ticketing knows the demo tree

    created = wait_until(filed, 20, "the ticket filed", interval=0.2)
    assert created.status_code == 201, created.text
    ticket: dict[str, object] = created.json()
    return ticket


def test_support_takes_moves_and_answers_a_managers_ticket(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    ticket = file_ticket(api, manager)
    support = sign_in(api, DEMO_SUPPORT.phone, DEMO_SUPPORT.password)
    me = user_id(support)

    queue = api.get(
        DESK,
        params={"q": "Desk e2e", "state": "acknowledged", "severity": "critical", "unassigned": "true"},
        headers=support,
    )
    assert queue.status_code == 200, queue.text
    found = [t for t in queue.json()["items"] if t["id"] == ticket["id"]]
    assert len(found) == 1
    customer_id = found[0]["customer_id"]
    assert found[0]["assignee_id"] is None and found[0]["service_level"]["response_due_at"]
    only_theirs = api.get(DESK, params={"customer_id": customer_id, "q": "Desk e2e"}, headers=support).json()
    assert ticket["id"] in [t["id"] for t in only_theirs["items"]]
    others = api.get(DESK, params={"customer_id": "01NOBODY0000000000000000000", "q": "Desk e2e"}, headers=support)
    assert others.status_code == 200 and others.json()["items"] == []

    taken = api.post(f"{DESK}/{ticket['id']}/assign", json={"assignee_id": me}, headers=support)
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignee_id"] == me
    mine = api.get(DESK, params={"assignee_id": me}, headers=support).json()["items"]
    assert ticket["id"] in [t["id"] for t in mine]

    moved = api.post(f"{DESK}/{ticket['id']}/transition", json={"to_state": "inProgress"}, headers=support)
    assert moved.status_code == 200 and moved.json()["state"] == "inProgress", moved.text
    # Closing is the customer's (or the clock's) move, never support's: refused, and nothing changes.
    refused = problem(api.post(f"{DESK}/{ticket['id']}/transition", json={"to_state": "closed"}, headers=support), 409)
    assert refused["reason"] == "TRANSITION_NOT_ALLOWED"
    assert problem(
        api.post(f"{DESK}/{ticket['id']}/transition", json={"to_state": "held"}, headers=support), 422
    )  # no reason given

    answered = api.post(
        f"{DESK}/{ticket['id']}/answers",
        json={"body": "A cell in Kazan is down; fixed within the hour.", "to_state": "resolved"},
        headers=support,
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["ticket"]["state"] == "resolved"

    details = api.get(f"{DESK}/{ticket['id']}", headers=support)
    assert details.status_code == 200, details.text
    shown = details.json()
    assert shown["ticket"]["service_level"]["responded_at"] is not None
    assert shown["ticket"]["service_level"]["response_overdue"] is False
    assert [(n["author_kind"], n["author_id"]) for n in shown["notes"]] == [("support", me)]
    assert [(h["action"], h["to_state"], h["actor_kind"]) for h in shown["history"]] == [
        ("created", "acknowledged", "customer"),
        ("assigned", "acknowledged", "support"),
        ("state_changed", "inProgress", "support"),
        ("state_changed", "resolved", "support"),
    ]
    # The manager sees the answer and confirms the resolution.
    assert api.get(f"/v1/tickets/{ticket['id']}", headers=manager).json()["notes"][0]["author_kind"] == "support"
    closed = api.post(f"/v1/tickets/{ticket['id']}/confirm-resolution", headers=manager)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    problem(api.get(f"{DESK}/{SOME_TICKET}", headers=support), 404)


def test_only_support_staff_work_the_desk(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    ticket = file_ticket(api, manager, topic="Desk e2e: who may answer", severity="low")
    back_office = sign_in(api, DEMO_OPERATOR.phone, DEMO_OPERATOR.password)
    support = sign_in(api, DEMO_SUPPORT.phone, DEMO_SUPPORT.password)
    document = api.get("/openapi.json").json()
    routes = [
        (method, path)
        for path, operations in document["paths"].items()
        if path.startswith(DESK)
        for method in operations
    ]
    assert len(routes) >= 7
    bodies = {
        "assign": {"assignee_id": "someone"},
        "transition": {"to_state": "inProgress"},
        "answers": {"body": "Not from you."},
    }
    for method, template in routes:
        path = template.replace("{ticket_id}", str(ticket["id"])).replace("{attachment_id}", SOME_TICKET)
        last = path.rsplit("/", 1)[-1]
        send: dict[str, object] = {"json": bodies.get(last)}
        if method == "post" and last == "attachments":  # a file: its raw bytes, its name in the query
            send = {"content": b"a file\n", "params": {"filename": "note.txt"}}
        for who, reason in ((manager, "OPERATOR_ONLY"), (back_office, "PERMISSION_MISSING")):
            answer = api.request(method.upper(), path, headers=who, **send)  # type: ignore[arg-type]
            assert problem(answer, 403)["reason"] == reason, (method, path)
        assert problem(api.request(method.upper(), path, **send), 401)  # type: ignore[arg-type]
    # None of those calls changed anything.
    untouched = api.get(f"/v1/tickets/{ticket['id']}", headers=manager).json()
    assert untouched["ticket"]["state"] == "acknowledged" and untouched["notes"] == []
    assert [h["action"] for h in untouched["history"]] == ["created"]

    # Support staff are no customer's users: the customer's routes refuse them.
    for method, path, body in (
        ("GET", "/v1/tickets", None),
        ("GET", f"/v1/tickets/{ticket['id']}", None),
        ("POST", f"/v1/tickets/{ticket['id']}/notes", {"body": "From the wrong door."}),
        ("POST", f"/v1/tickets/{ticket['id']}/cancel", None),
    ):
        assert problem(api.request(method, path, json=body, headers=support), 403)["reason"] == "OPERATOR_TOKEN"
