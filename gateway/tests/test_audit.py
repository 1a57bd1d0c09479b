"""/v1/audit-events on a scripted accounts: filters and times as asked, events as answered, refusals as problems.

Which events a caller sees is accounts' decision; that every command lands there is proven end to end
(tests/e2e).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simfleet.accounts.v1 import audit_pb2 as pb
from simfleet_runtime.errors import InvalidArgument, PermissionDenied

from .conftest import _ts

BEARER = {"Authorization": "Bearer access.token.1"}
USER_ID = "01J9Z3K8Q4W7N2M5X6Y8B0C1D2"
NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"


def event(**changes: object) -> pb.AuditEvent:
    fields: dict[str, object] = {
        "id": "01JA1B2C3D4E5F6G7H8J9K0M1N",
        "occurred_at": _ts(1_768_469_400),
        "actor_id": USER_ID,
        "actor_kind": "user",
        "service": "accounts",
        "action": "hierarchy.node.move",
        "result": "succeeded",
        "objects": [pb.AuditObjectRef(kind="node", id=NODE, node_id=NODE)],
        "client_address": "203.0.113.10",
        "request_id": "r-1",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    }
    fields.update(changes)
    return pb.AuditEvent(**fields)  # type: ignore[arg-type]


async def test_the_history_is_asked_for_with_every_filter_and_not_cached(accounts_client, accounts):
    accounts.script("ListAuditEvents", pb.ListAuditEventsResponse(events=[event()], next_page_token="e2"))

    response = await accounts_client.get(
        "/v1/audit-events",
        params={
            "since": "2026-01-15T12:30:00+03:00",
            "until": "2026-01-16T00:00:00Z",
            "actor_id": USER_ID,
            "action": "hierarchy",
            "object_id": NODE,
            "node_id": NODE,
            "sort": "occurred_at",
            "limit": 5,
            "cursor": "e1",
        },
        headers=BEARER,
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["next_cursor"] == "e2"
    call = accounts.last("ListAuditEvents")
    assert call.metadata["authorization"] == "Bearer access.token.1"
    request = call.request
    # Times with any zone are sent as the instant they name.
    assert request.since.ToDatetime(tzinfo=UTC) == datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    assert request.until.ToDatetime(tzinfo=UTC) == datetime(2026, 1, 16, tzinfo=UTC)
    assert (request.actor_id, request.action, request.object_id, request.node_id) == (USER_ID, "hierarchy", NODE, NODE)
    assert (request.order_by, request.page_size, request.page_token) == ("occurred_at", 5, "e1")


async def test_without_filters_the_newest_come_first_and_no_time_bound_is_sent(accounts_client, accounts):
    response = await accounts_client.get("/v1/audit-events", headers=BEARER)

    assert response.json() == {"items": [], "next_cursor": None}
    request = accounts.last("ListAuditEvents").request
    assert not request.HasField("since") and not request.HasField("until")
    assert (request.actor_id, request.action, request.object_id, request.node_id) == ("", "", "", "")
    assert (request.order_by, request.page_size, request.page_token) == ("-occurred_at", 100, "")


async def test_an_event_is_answered_with_empty_fields_as_null(accounts_client, accounts):
    bare = event(
        reason="", client_address="", request_id="", trace_id="", objects=[pb.AuditObjectRef(kind="user", id=USER_ID)]
    )
    failed = event(id="01JA1B2C3D4E5F6G7H8J9K0M1P", result="failed", reason="NODE_NOT_EMPTY")
    accounts.script("ListAuditEvents", pb.ListAuditEventsResponse(events=[bare, failed]))

    items = (await accounts_client.get("/v1/audit-events", headers=BEARER)).json()["items"]

    assert items[0] == {
        "id": "01JA1B2C3D4E5F6G7H8J9K0M1N",
        "occurred_at": "2026-01-15T09:30:00Z",
        "actor_id": USER_ID,
        "actor_kind": "user",
        "service": "accounts",
        "action": "hierarchy.node.move",
        "result": "succeeded",
        "reason": None,
        "objects": [{"kind": "user", "id": USER_ID, "node_id": None}],
        "client_address": None,
        "request_id": None,
        "trace_id": None,
    }
    assert (items[1]["result"], items[1]["reason"], items[1]["objects"][0]["node_id"]) == (
        "failed",
        "NODE_NOT_EMPTY",
        NODE,
    )


@pytest.mark.parametrize("field", ["since", "until"])
async def test_a_time_without_a_zone_is_refused_before_accounts_is_asked(accounts_client, accounts, problem, field):
    response = await accounts_client.get("/v1/audit-events", params={field: "2026-01-15T09:30:00"}, headers=BEARER)

    body = problem(response, 422, "INVALID_TIME")
    assert field in body["detail"]
    assert accounts.calls == []


@pytest.mark.parametrize(
    "params",
    [{"since": "yesterday"}, {"sort": "actor_id"}, {"limit": 0}, {"limit": 1001}, {"action": "x" * 101}],
)
async def test_a_bad_query_is_refused_before_accounts_is_asked(accounts_client, accounts, problem, params):
    response = await accounts_client.get("/v1/audit-events", params=params, headers=BEARER)

    body = problem(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in body["errors"]] == list(params)
    assert accounts.calls == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PermissionDenied("reading the history needs audit:read", reason="PERMISSION_DENIED"), 403),
        (
            InvalidArgument(
                "the cursor is not valid", reason="INVALID_PAGE_TOKEN", field_violations={"page_token": "x"}
            ),
            422,
        ),
    ],
)
async def test_accounts_refusal_is_a_problem_naming_the_callers_fields(
    accounts_client, accounts, problem, error, status
):
    accounts.script("ListAuditEvents", error)

    response = await accounts_client.get("/v1/audit-events", params={"cursor": "bad"}, headers=BEARER)

    body = problem(response, status, error.reason)
    assert [e["field"] for e in body.get("errors", [])] == (["cursor"] if status == 422 else [])


async def test_the_history_needs_a_bearer_before_accounts_is_asked(accounts_client, accounts, problem):
    problem(await accounts_client.get("/v1/audit-events"), 401, "UNAUTHENTICATED")
    assert accounts.calls == []
