"""/v1/users: what the gateway asks identity for each call, how it answers, and identity's refusals as problems.

Who may see or change which user is identity's decision (services/identity/tests/test_directory.py);
here identity is scripted.
"""

from __future__ import annotations

import pytest

from simfleet.identity.v1 import common_pb2
from simfleet.identity.v1 import users_pb2 as pb
from simfleet_runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

from .conftest import _ts

BEARER = {"Authorization": "Bearer access.token.1"}
USER_ID = "01J9Z3K8Q4W7N2M5X6Y8B0C1D2"
NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"
GRANT_ID = "01JA0Z9Q2W3E4R5T6Y7U8I9O0P"
INVITE = {
    "phone": "+79990000002",
    "email": "head.of.sales@demo.example",
    "name": "Head of Sales",
    "grants": [{"role": "account_manager", "node_id": NODE}],
}


def user(**changes: object) -> common_pb2.User:
    fields: dict[str, object] = {
        "id": USER_ID,
        "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
        "phone": "+79990000002",
        "email": "head.of.sales@demo.example",
        "display_name": "Head of Sales",
        "status": common_pb2.USER_STATUS_ACTIVE,
        "created_at": _ts(1_768_469_400),
    }
    fields.update(changes)
    return common_pb2.User(**fields)  # type: ignore[arg-type]


def grant(**changes: object) -> pb.Grant:
    fields: dict[str, object] = {
        "id": GRANT_ID,
        "user_id": USER_ID,
        "role": "account_manager",
        "role_name": "Account manager",
        "node_id": NODE,
        "permissions": ["lines:read", "lines:block"],
        "created_at": _ts(1_768_469_400),
    }
    fields.update(changes)
    return pb.Grant(**fields)  # type: ignore[arg-type]


async def test_the_list_asks_identity_with_the_callers_filters_and_is_not_cached(client, identity):
    identity.script("ListUsers", pb.ListUsersResponse(users=[user()], next_page_token="page-2"))

    response = await client.get(
        "/v1/users",
        params={"node_id": NODE, "q": "sales", "status": "disabled", "sort": "-created_at", "limit": 7, "cursor": "c1"},
        headers=BEARER,
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["next_cursor"] == "page-2"
    assert [(u["id"], u["status"], u["has_password"]) for u in body["items"]] == [(USER_ID, "active", False)]
    call = identity.last("ListUsers")
    assert call.metadata["authorization"] == "Bearer access.token.1"
    assert (call.request.node_id, call.request.query, call.request.status) == (
        NODE,
        "sales",
        common_pb2.USER_STATUS_DISABLED,
    )
    assert (call.request.order_by, call.request.page_size, call.request.page_token) == ("-created_at", 7, "c1")


async def test_the_list_defaults_to_everyone_by_name_and_says_when_it_is_the_last_page(client, identity):
    response = await client.get("/v1/users", headers=BEARER)

    assert response.json() == {"items": [], "next_cursor": None}
    request = identity.last("ListUsers").request
    assert (request.node_id, request.query, request.status) == ("", "", common_pb2.USER_STATUS_UNSPECIFIED)
    assert (request.order_by, request.page_size, request.page_token) == ("display_name", 100, "")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "deleted"}, "status"),
        ({"sort": "phone"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
    ],
)
async def test_a_bad_list_query_is_refused_before_identity_is_asked(client, identity, problem, params, field):
    response = await client.get("/v1/users", params=params, headers=BEARER)

    body = problem(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in body["errors"]] == [field]
    assert identity.calls == []


async def test_an_invitation_creates_the_user_with_its_grants_under_the_idempotency_key(client, identity):
    identity.script("InviteUser", pb.InviteUserResponse(user=user(), grants=[grant()]))

    response = await client.post("/v1/users", headers={**BEARER, "Idempotency-Key": "invite-42"}, json=INVITE)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/users/{USER_ID}"
    body = response.json()
    assert body["user"]["display_name"] == "Head of Sales"
    assert body["grants"] == [
        {
            "id": GRANT_ID,
            "user_id": USER_ID,
            "role": "account_manager",
            "role_name": "Account manager",
            "node_id": NODE,
            "permissions": ["lines:read", "lines:block"],
            "created_at": "2026-01-15T09:30:00Z",
        }
    ]
    request = identity.last("InviteUser").request
    assert (request.phone, request.email, request.display_name, request.request_id) == (
        "+79990000002",
        "head.of.sales@demo.example",
        "Head of Sales",
        "invite-42",
    )
    assert [(g.role, g.node_id) for g in request.grants] == [("account_manager", NODE)]


async def test_an_invitation_without_a_key_sends_none(client, identity):
    await client.post("/v1/users", headers=BEARER, json=INVITE)

    assert identity.last("InviteUser").request.request_id == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"grants": []}, "grants"),
        ({"grants": [{"role": "viewer", "node_id": "not-a-node"}]}, "grants.0.node_id"),
        ({"name": ""}, "name"),
        ({"display_name": "Head of Sales"}, "display_name"),
    ],
)
async def test_a_bad_invitation_is_refused_before_identity_is_asked(client, identity, problem, change, field):
    response = await client.post("/v1/users", headers=BEARER, json={**INVITE, **change})

    body = problem(response, 422, "VALIDATION_FAILED")
    assert field in {e["field"] for e in body["errors"]}
    assert identity.calls == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (AlreadyExists("this phone number is already a user of the customer", reason="PHONE_TAKEN"), 409),
        (PermissionDenied("the grant holds more than yours", reason="GRANT_EXCEEDS_YOURS"), 403),
        (NotFound("the node does not exist", reason="NODE_NOT_FOUND"), 404),
    ],
)
async def test_identitys_refusal_of_an_invitation_is_a_problem(client, identity, problem, error, status):
    identity.script("InviteUser", error)

    response = await client.post("/v1/users", headers=BEARER, json=INVITE)

    body = problem(response, status, error.reason)
    assert body["detail"] == error.message
    assert "location" not in response.headers


async def test_identitys_field_findings_on_an_invitation_name_the_body_fields(client, identity, problem):
    identity.script(
        "InviteUser",
        InvalidArgument(
            "the grants are not valid", reason="INVALID_GRANTS", field_violations={"grants[0].role": "no such role"}
        ),
    )

    response = await client.post("/v1/users", headers=BEARER, json=INVITE)

    body = problem(response, 422, "INVALID_GRANTS")
    assert [(e["field"], e["message"]) for e in body["errors"]] == [("grants.0.role", "no such role")]


async def test_identitys_findings_on_the_name_and_the_key_name_them_as_the_request_gives_them(
    client, identity, problem
):
    identity.script(
        "InviteUser",
        InvalidArgument(
            "the request is not valid",
            reason="INVALID_USER",
            field_violations={"display_name": "1 to 200 characters", "request_id": "at most 160 characters"},
        ),
    )

    response = await client.post("/v1/users", headers={**BEARER, "Idempotency-Key": "k"}, json=INVITE)

    body = problem(response, 422, "INVALID_USER")
    assert [e["field"] for e in body["errors"]] == ["name", "Idempotency-Key"]  # the body's name, the header


async def test_one_user_is_asked_for_by_id_and_an_unknown_one_is_a_404(client, identity, problem):
    identity.script("GetUser", pb.GetUserResponse(user=user(email="")), NotFound("no", reason="USER_NOT_FOUND"))

    found = await client.get(f"/v1/users/{USER_ID}", headers=BEARER)
    missing = await client.get("/v1/users/01J9Z3K8Q4W7N2M5X6Y8B0ZZZZ", headers=BEARER)

    assert found.status_code == 200 and found.json()["email"] is None
    problem(missing, 404, "USER_NOT_FOUND")
    assert [c.request.user_id for c in identity.calls] == [USER_ID, "01J9Z3K8Q4W7N2M5X6Y8B0ZZZZ"]


@pytest.mark.parametrize(("action", "method"), [("disable", "DisableUser"), ("enable", "EnableUser")])
async def test_disabling_and_enabling_ask_identity_and_answer_the_user(client, identity, action, method):
    status = common_pb2.USER_STATUS_DISABLED if action == "disable" else common_pb2.USER_STATUS_ACTIVE
    response_class = pb.DisableUserResponse if action == "disable" else pb.EnableUserResponse
    identity.script(method, response_class(user=user(status=status)))

    response = await client.post(f"/v1/users/{USER_ID}/{action}", headers=BEARER)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == ("disabled" if action == "disable" else "active")
    assert [c.method for c in identity.calls] == [method]
    assert identity.last(method).request.user_id == USER_ID


async def test_disabling_oneself_is_identitys_conflict(client, identity, problem):
    identity.script("DisableUser", FailedPrecondition("you cannot disable yourself", reason="CANNOT_DISABLE_SELF"))

    problem(await client.post(f"/v1/users/{USER_ID}/disable", headers=BEARER), 409, "CANNOT_DISABLE_SELF")


async def test_a_users_grants_come_a_page_at_a_time(client, identity):
    identity.script("ListGrants", pb.ListGrantsResponse(grants=[grant()], next_page_token="g2"))

    response = await client.get(
        f"/v1/users/{USER_ID}/grants", params={"sort": "-created_at", "limit": 1, "cursor": "g1"}, headers=BEARER
    )

    assert response.status_code == 200, response.text
    assert [g["id"] for g in response.json()["items"]] == [GRANT_ID]
    assert response.json()["next_cursor"] == "g2"
    request = identity.last("ListGrants").request
    assert (request.user_id, request.order_by, request.page_size, request.page_token) == (
        USER_ID,
        "-created_at",
        1,
        "g1",
    )


async def test_a_grant_is_added_with_its_location(client, identity):
    identity.script("AddGrant", pb.AddGrantResponse(grant=grant(role="viewer")))

    response = await client.post(
        f"/v1/users/{USER_ID}/grants", headers=BEARER, json={"role": "viewer", "node_id": NODE}
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/users/{USER_ID}/grants/{GRANT_ID}"
    assert response.json()["role"] == "viewer"
    request = identity.last("AddGrant").request
    assert (request.user_id, request.grant.role, request.grant.node_id) == (USER_ID, "viewer", NODE)


async def test_a_grant_with_unknown_fields_is_refused_before_identity_is_asked(client, identity, problem):
    response = await client.post(
        f"/v1/users/{USER_ID}/grants", headers=BEARER, json={"role": "viewer", "node_id": NODE, "scope": "all"}
    )

    problem(response, 422, "VALIDATION_FAILED")
    assert identity.calls == []


async def test_removing_a_grant_answers_no_content(client, identity, problem):
    identity.script("RemoveGrant", pb.RemoveGrantResponse(), NotFound("no such grant", reason="GRANT_NOT_FOUND"))

    removed = await client.delete(f"/v1/users/{USER_ID}/grants/{GRANT_ID}", headers=BEARER)
    again = await client.delete(f"/v1/users/{USER_ID}/grants/{GRANT_ID}", headers=BEARER)

    assert removed.status_code == 204 and removed.content == b""
    problem(again, 404, "GRANT_NOT_FOUND")
    request = identity.last("RemoveGrant").request
    assert (request.user_id, request.grant_id) == (USER_ID, GRANT_ID)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users"),
        ("POST", "/v1/users"),
        ("GET", f"/v1/users/{USER_ID}"),
        ("POST", f"/v1/users/{USER_ID}/disable"),
        ("GET", f"/v1/users/{USER_ID}/grants"),
        ("DELETE", f"/v1/users/{USER_ID}/grants/{GRANT_ID}"),
    ],
)
async def test_every_users_route_needs_a_bearer_before_identity_is_asked(client, identity, problem, method, path):
    response = await client.request(method, path, json=INVITE if method == "POST" else None)

    problem(response, 401, "UNAUTHENTICATED")
    assert identity.calls == []
