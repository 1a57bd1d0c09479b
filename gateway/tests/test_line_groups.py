"""/v1/lines/groups against a scripted inventory: what is sent, what is answered, what never gets there.

Who sees and changes which groups is inventory's business (services/inventory/tests/test_line_groups.py).
"""

from __future__ import annotations

from typing import get_args

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.lines.groups import GroupColour, GroupIcon
from simfleet.inventory.v1 import line_groups_pb2 as pb
from simfleet_runtime.errors import AlreadyExists, NotFound, PermissionDenied
from simfleet_runtime.validation import GROUP_COLOURS, GROUP_ICONS

BEARER = {"Authorization": "Bearer access.token.1"}
GROUP_ID = "01JA5F6G7H8J9K0M1N2P3Q4R5S"
NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"


def group(**changes: object) -> pb.LineGroup:
    fields: dict[str, object] = {
        "id": GROUP_ID,
        "name": "Couriers",
        "icon": "truck",
        "colour": "orange",
        "node_id": NODE,
        "line_count": 42,
        "created_at": Timestamp(seconds=1_796_677_200),
        "updated_at": Timestamp(seconds=1_796_677_200),
    }
    fields.update(changes)
    return pb.LineGroup(**fields)  # type: ignore[arg-type]


GROUP_JSON = {
    "id": GROUP_ID,
    "name": "Couriers",
    "icon": "truck",
    "colour": "orange",
    "node_id": NODE,
    "line_count": 42,
    "created_at": "2026-12-07T21:00:00Z",
    "updated_at": "2026-12-07T21:00:00Z",
}


def test_the_schemas_icons_and_colours_are_the_runtimes() -> None:
    assert get_args(GroupIcon) == GROUP_ICONS
    assert get_args(GroupColour) == GROUP_COLOURS


async def test_groups_are_listed_with_a_group_above_the_scope_unnamed(api, inventory):
    inventory.script("ListLineGroups", pb.ListLineGroupsResponse(groups=[group(), group(node_id="", name="Company")]))
    response = await api.get("/v1/lines/groups", headers=BEARER, params={"for_node_id": NODE})
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [GROUP_JSON, {**GROUP_JSON, "name": "Company", "node_id": None}]}
    assert response.headers["cache-control"] == "no-store"
    call = inventory.last("ListLineGroups")
    assert call.request.for_node_id == NODE
    assert call.metadata["authorization"] == "Bearer access.token.1"


async def test_a_group_is_made_with_its_style_or_the_defaults(api, inventory):
    inventory.script("CreateLineGroup", pb.CreateLineGroupResponse(group=group()))
    body = {"node_id": NODE, "name": "Couriers", "icon": "truck", "colour": "orange"}
    response = await api.post("/v1/lines/groups", headers=BEARER, json=body)
    assert response.status_code == 201, response.text
    assert response.json() == GROUP_JSON
    assert response.headers["location"] == f"/v1/lines/groups/{GROUP_ID}"
    sent = inventory.last("CreateLineGroup").request
    assert (sent.node_id, sent.name, sent.icon, sent.colour) == (NODE, "Couriers", "truck", "orange")

    inventory.script("CreateLineGroup", pb.CreateLineGroupResponse(group=group()))
    response = await api.post("/v1/lines/groups", headers=BEARER, json={"node_id": NODE, "name": "Plain"})
    assert response.status_code == 201, response.text
    sent = inventory.last("CreateLineGroup").request
    assert (sent.icon, sent.colour) == ("people", "blue")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"node_id": NODE, "name": ""}, "name"),
        ({"node_id": NODE, "name": "x" * 101}, "name"),
        ({"node_id": NODE, "name": "a\u202eb"}, "name"),
        ({"node_id": NODE, "name": "ok", "icon": "rocket"}, "icon"),
        ({"node_id": NODE, "name": "ok", "colour": "#ff0000"}, "colour"),
        ({"name": "ok"}, "node_id"),
        ({"node_id": NODE, "name": "ok", "owner": "me"}, "owner"),
    ],
)
async def test_bad_groups_never_reach_inventory(api, inventory, body, field):
    response = await api.post("/v1/lines/groups", headers=BEARER, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text
    assert inventory.count("CreateLineGroup") == 0


async def test_a_group_is_read_renamed_restyled_and_deleted(api, inventory):
    inventory.script("GetLineGroup", pb.GetLineGroupResponse(group=group()))
    response = await api.get(f"/v1/lines/groups/{GROUP_ID}", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.json() == GROUP_JSON
    assert inventory.last("GetLineGroup").request.id == GROUP_ID

    inventory.script("UpdateLineGroup", pb.UpdateLineGroupResponse(group=group(name="Drivers", colour="teal")))
    response = await api.patch(
        f"/v1/lines/groups/{GROUP_ID}", headers=BEARER, json={"name": "Drivers", "colour": "teal"}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["colour"]) == ("Drivers", "teal")
    sent = inventory.last("UpdateLineGroup").request
    assert (sent.id, sent.name, sent.icon, sent.colour) == (GROUP_ID, "Drivers", "", "teal")

    response = await api.delete(f"/v1/lines/groups/{GROUP_ID}", headers=BEARER)
    assert response.status_code == 204, response.text
    assert inventory.last("DeleteLineGroup").request.id == GROUP_ID


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (NotFound("the line group does not exist", reason="LINE_GROUP_NOT_FOUND"), 404, "LINE_GROUP_NOT_FOUND"),
        (AlreadyExists("taken", reason="GROUP_EXISTS"), 409, "GROUP_EXISTS"),
        (PermissionDenied("no", reason="PERMISSION_MISSING"), 403, "PERMISSION_MISSING"),
    ],
)
async def test_inventorys_refusals_are_problems(api, inventory, problem, error, status, reason):
    inventory.script("UpdateLineGroup", error)
    response = await api.patch(f"/v1/lines/groups/{GROUP_ID}", headers=BEARER, json={"icon": "star"})
    problem(response, status, reason)


async def test_a_malformed_group_id_never_reaches_inventory(api, inventory):
    response = await api.get("/v1/lines/groups/short", headers=BEARER)
    assert response.status_code == 422
    assert inventory.count("GetLineGroup") == 0
