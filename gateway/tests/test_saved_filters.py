"""/v1/lines/saved-filters against a scripted inventory: what is sent, what is answered, what never gets there.

Who sees whose filters is inventory's business (services/inventory/tests/test_saved_filters.py).
"""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from simfleet.inventory.v1 import lines_pb2, saved_filters_pb2
from simfleet_runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

BEARER = {"Authorization": "Bearer access.token.1"}
FILTER_ID = "01JA5F6G7H8J9K0M1N2P3Q4R5S"
NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"


def saved(**changes: object) -> saved_filters_pb2.SavedFilter:
    fields: dict[str, object] = {
        "id": FILTER_ID,
        "name": "Blocked drivers",
        "node_id": NODE,
        "states": [lines_pb2.LINE_STATE_BLOCKED],
        "label": "drivers",
        "created_at": Timestamp(seconds=1_796_677_200),
    }
    fields.update(changes)
    return saved_filters_pb2.SavedFilter(**fields)  # type: ignore[arg-type]


SAVED_JSON = {
    "id": FILTER_ID,
    "name": "Blocked drivers",
    "node_id": NODE,
    "states": ["blocked"],
    "tariff": None,
    "label": "drivers",
    "group": None,
    "created_at": "2026-12-07T21:00:00Z",
}


async def test_a_filter_is_saved_with_every_field(api, inventory):
    inventory.script("CreateSavedFilter", saved_filters_pb2.CreateSavedFilterResponse(filter=saved()))
    body = {
        "name": "Blocked drivers",
        "node_id": NODE,
        "states": ["blocked", "ready"],
        "tariff": "BIZ-L",
        "label": "drivers",
        "group": "Couriers",
    }
    response = await api.post("/v1/lines/saved-filters", headers=BEARER, json=body)

    assert response.status_code == 201, response.text
    assert response.json() == SAVED_JSON
    assert response.headers["location"] == f"/v1/lines/saved-filters/{FILTER_ID}"
    call = inventory.last("CreateSavedFilter")
    sent = call.request.filter
    assert (sent.name, sent.node_id, sent.tariff_code, sent.label, sent.group) == (
        "Blocked drivers",
        NODE,
        "BIZ-L",
        "drivers",
        "Couriers",
    )
    assert list(sent.states) == [lines_pb2.LINE_STATE_BLOCKED, lines_pb2.LINE_STATE_READY]
    assert call.metadata["authorization"] == "Bearer access.token.1"


async def test_null_fields_are_fields_not_given(api, inventory):
    inventory.script("CreateSavedFilter", saved_filters_pb2.CreateSavedFilterResponse(filter=saved(name="Nulls")))
    body = {"name": "Nulls", "node_id": None, "tariff": None, "label": None, "group": None}
    response = await api.post("/v1/lines/saved-filters", headers=BEARER, json=body)
    assert response.status_code == 201, response.text
    sent = inventory.last("CreateSavedFilter").request.filter
    assert (sent.name, sent.node_id, sent.tariff_code, sent.label, sent.group) == ("Nulls", "", "", "", "")


async def test_a_filter_of_nothing_but_a_name_sends_nothing_else(api, inventory):
    inventory.script("CreateSavedFilter", saved_filters_pb2.CreateSavedFilterResponse(filter=saved(node_id="")))
    response = await api.post("/v1/lines/saved-filters", headers=BEARER, json={"name": "Everything"})
    assert response.status_code == 201, response.text
    assert response.json()["node_id"] is None
    sent = inventory.last("CreateSavedFilter").request.filter
    assert (sent.name, sent.node_id, list(sent.states), sent.tariff_code, sent.label, sent.group) == (
        "Everything",
        "",
        [],
        "",
        "",
        "",
    )


async def test_the_list_is_the_callers_own_and_never_cached(api, inventory):
    # /v1/lines/saved-filters is no line's number: the route is this one, not /v1/lines/{msisdn} (a 422).
    inventory.script(
        "ListSavedFilters",
        saved_filters_pb2.ListSavedFiltersResponse(filters=[saved(), saved(id="01JA5F6G7H8J9K0M1N2P3Q4R5T", name="X")]),
    )
    response = await api.get("/v1/lines/saved-filters", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.json()["items"][0] == SAVED_JSON
    assert [f["name"] for f in response.json()["items"]] == ["Blocked drivers", "X"]
    assert response.headers["cache-control"] == "no-store"
    assert inventory.count("ListSavedFilters") == 1
    assert inventory.count("GetLine") == 0


async def test_a_filter_is_deleted_and_anothers_is_not_found(api, inventory, problem):
    response = await api.delete(f"/v1/lines/saved-filters/{FILTER_ID}", headers=BEARER)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert inventory.last("DeleteSavedFilter").request.id == FILTER_ID

    inventory.script("DeleteSavedFilter", NotFound("the saved filter does not exist", reason="SAVED_FILTER_NOT_FOUND"))
    problem(await api.delete(f"/v1/lines/saved-filters/{FILTER_ID}", headers=BEARER), 404, "SAVED_FILTER_NOT_FOUND")


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (AlreadyExists("taken", reason="SAVED_FILTER_EXISTS"), 409, "SAVED_FILTER_EXISTS"),
        (FailedPrecondition("50 already", reason="SAVED_FILTERS_LIMIT"), 409, "SAVED_FILTERS_LIMIT"),
        (NotFound("the node does not exist", reason="NODE_NOT_FOUND"), 404, "NODE_NOT_FOUND"),
        (PermissionDenied("needs lines:read", reason="PERMISSION_MISSING"), 403, "PERMISSION_MISSING"),
    ],
)
async def test_inventorys_refusals_are_problems(api, inventory, problem, error, status, reason):
    inventory.script("CreateSavedFilter", error)
    response = await api.post("/v1/lines/saved-filters", headers=BEARER, json={"name": "Mine", "node_id": NODE})
    problem(response, status, reason)


async def test_a_field_inventory_refuses_is_named_as_the_api_names_it(api, inventory, problem):
    inventory.script(
        "CreateSavedFilter",
        InvalidArgument("too long", reason="INVALID_FILTER", field_violations={"tariff_code": "at most 64"}),
    )
    response = await api.post("/v1/lines/saved-filters", headers=BEARER, json={"name": "Mine", "tariff": "T"})
    body = problem(response, 422, "INVALID_FILTER")
    assert [e["field"] for e in body["errors"]] == ["tariff"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "evil\u202etxt.exe"}, "name"),
        ({"name": "ok", "states": ["sleeping"]}, "states.0"),
        ({"name": "ok", "label": "x" * 65}, "label"),
        ({"name": "ok", "group": "x" * 101}, "group"),
        ({"name": "ok", "tariff": ""}, "tariff"),
        ({"name": "ok", "node_id": "x" * 65}, "node_id"),
        ({"name": "ok", "query": "+7999"}, "query"),
    ],
)
async def test_bad_filters_never_reach_inventory(api, inventory, problem, body, field):
    response = await api.post("/v1/lines/saved-filters", headers=BEARER, json=body)
    problem_body = problem(response, 422, "VALIDATION_FAILED")
    assert field in [e["field"] for e in problem_body["errors"]]
    assert inventory.calls == []


async def test_a_malformed_id_never_reaches_inventory(api, inventory, problem):
    problem(await api.delete("/v1/lines/saved-filters/short", headers=BEARER), 422, "VALIDATION_FAILED")
    assert inventory.calls == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/lines/saved-filters"),
        ("POST", "/v1/lines/saved-filters"),
        ("DELETE", f"/v1/lines/saved-filters/{FILTER_ID}"),
    ],
)
async def test_every_endpoint_needs_a_bearer_token(api, inventory, problem, method, path):
    response = await api.request(method, path, json={"name": "Mine"} if method == "POST" else None)
    problem(response, 401, "UNAUTHENTICATED")
    assert inventory.calls == []
