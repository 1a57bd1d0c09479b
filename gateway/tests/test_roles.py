"""/v1/roles and /v1/permissions: what the gateway asks identity, how it answers, identity's refusals as problems.

What a role may hold and who may change it is identity's decision (services/identity/tests/test_directory.py).
"""

from __future__ import annotations

import pytest

from simfleet.identity.v1 import users_pb2 as pb
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

from .conftest import _ts

BEARER = {"Authorization": "Bearer access.token.1"}
ROLE_ID = "01JA0ZC1V2B3N4M5Q6W7E8R9T0"
BODY = {"name": "Fleet coordinator", "description": "Blocks lines", "permissions": ["lines:read", "lines:block"]}


def custom_role(**changes: object) -> pb.Role:
    fields: dict[str, object] = {
        "id": ROLE_ID,
        "name": "Fleet coordinator",
        "description": "Blocks lines",
        "permissions": ["lines:block", "lines:read"],
        "predefined": False,
        "created_at": _ts(1_768_469_400),
        "updated_at": _ts(1_768_564_800),
    }
    fields.update(changes)
    return pb.Role(**fields)  # type: ignore[arg-type]


async def test_the_permission_catalogue_is_identitys(client, identity):
    identity.script(
        "ListPermissions",
        pb.ListPermissionsResponse(
            permissions=[pb.Permission(name="lines:block", description="Block and unblock lines")]
        ),
    )

    response = await client.get("/v1/permissions", headers=BEARER)

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [{"name": "lines:block", "description": "Block and unblock lines"}]}
    assert identity.last("ListPermissions").metadata["authorization"] == "Bearer access.token.1"


async def test_roles_are_listed_with_the_callers_filters_and_predefined_ones_have_no_dates(client, identity):
    predefined = pb.Role(id="viewer", name="Viewer", permissions=["lines:read"], predefined=True)
    identity.script("ListRoles", pb.ListRolesResponse(roles=[predefined, custom_role()], next_page_token="r2"))

    response = await client.get(
        "/v1/roles", params={"q": "fleet", "sort": "-name", "limit": 2, "cursor": "r1"}, headers=BEARER
    )

    assert response.status_code == 200, response.text
    viewer, mine = response.json()["items"]
    assert (viewer["id"], viewer["predefined"], viewer["created_at"], viewer["updated_at"]) == (
        "viewer",
        True,
        None,
        None,
    )
    assert (mine["created_at"], mine["updated_at"]) == ("2026-01-15T09:30:00Z", "2026-01-16T12:00:00Z")
    assert response.json()["next_cursor"] == "r2"
    request = identity.last("ListRoles").request
    assert (request.query, request.order_by, request.page_size, request.page_token) == ("fleet", "-name", 2, "r1")


async def test_the_roles_list_defaults_to_predefined_first(client, identity):
    response = await client.get("/v1/roles", headers=BEARER)

    assert response.json() == {"items": [], "next_cursor": None}
    request = identity.last("ListRoles").request
    assert (request.query, request.order_by, request.page_size, request.page_token) == ("", "predefined", 100, "")


async def test_a_role_is_created_with_its_location(client, identity):
    identity.script("CreateRole", pb.CreateRoleResponse(role=custom_role()))

    response = await client.post("/v1/roles", headers=BEARER, json=BODY)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/roles/{ROLE_ID}"
    assert response.json()["permissions"] == ["lines:block", "lines:read"]
    request = identity.last("CreateRole").request
    assert (request.name, request.description, list(request.permissions)) == (
        "Fleet coordinator",
        "Blocks lines",
        ["lines:read", "lines:block"],
    )


async def test_a_role_without_a_description_sends_an_empty_one(client, identity):
    await client.post("/v1/roles", headers=BEARER, json={"name": "Readers", "permissions": ["lines:read"]})

    assert identity.last("CreateRole").request.description == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "permissions": []}, "permissions"),
        ({**BODY, "name": ""}, "name"),
        ({**BODY, "name": "x" * 101}, "name"),
        ({**BODY, "description": "x" * 501}, "description"),
        ({**BODY, "predefined": True}, "predefined"),
    ],
)
async def test_a_bad_role_is_refused_before_identity_is_asked(client, identity, problem, body, field):
    response = await client.post("/v1/roles", headers=BEARER, json=body)

    found = problem(response, 422, "VALIDATION_FAILED")
    assert field in {e["field"] for e in found["errors"]}
    assert identity.calls == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PermissionDenied("a role cannot hold what you do not", reason="PERMISSION_NOT_HELD"), 403),
        (
            InvalidArgument("no such permission", reason="UNKNOWN_PERMISSION", field_violations={"permissions": "x"}),
            422,
        ),
        (FailedPrecondition("a predefined role cannot change", reason="ROLE_PREDEFINED"), 409),
        (NotFound("no such role", reason="ROLE_NOT_FOUND"), 404),
    ],
)
async def test_identitys_refusal_of_a_change_is_a_problem(client, identity, problem, error, status):
    identity.script("UpdateRole", error)

    response = await client.put(f"/v1/roles/{ROLE_ID}", headers=BEARER, json=BODY)

    assert problem(response, status, error.reason)["detail"] == error.message


async def test_a_change_names_the_role_and_answers_it(client, identity):
    identity.script("UpdateRole", pb.UpdateRoleResponse(role=custom_role(name="Coordinators")))

    response = await client.put(f"/v1/roles/{ROLE_ID}", headers=BEARER, json={**BODY, "name": "Coordinators"})

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Coordinators"
    request = identity.last("UpdateRole").request
    assert (request.role_id, request.name, list(request.permissions)) == (
        ROLE_ID,
        "Coordinators",
        ["lines:read", "lines:block"],
    )


async def test_deleting_a_role_answers_no_content_and_one_in_use_is_a_conflict(client, identity, problem):
    identity.script("DeleteRole", pb.DeleteRoleResponse(), FailedPrecondition("granted", reason="ROLE_IN_USE"))

    deleted = await client.delete(f"/v1/roles/{ROLE_ID}", headers=BEARER)
    in_use = await client.delete(f"/v1/roles/{ROLE_ID}", headers=BEARER)

    assert deleted.status_code == 204 and deleted.content == b""
    problem(in_use, 409, "ROLE_IN_USE")
    assert [(c.method, c.request.role_id) for c in identity.calls] == [("DeleteRole", ROLE_ID)] * 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/permissions"),
        ("GET", "/v1/roles"),
        ("POST", "/v1/roles"),
        ("PUT", f"/v1/roles/{ROLE_ID}"),
        ("DELETE", f"/v1/roles/{ROLE_ID}"),
    ],
)
async def test_every_roles_route_needs_a_bearer_before_identity_is_asked(client, identity, problem, method, path):
    response = await client.request(method, path, json=BODY if method in ("POST", "PUT") else None)

    problem(response, 401, "UNAUTHENTICATED")
    assert identity.calls == []
