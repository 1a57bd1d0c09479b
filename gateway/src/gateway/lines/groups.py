"""/v1/lines/groups: groups of employees' lines (AC-5), each with a name, an icon and a colour, kept at a node.

Kept by inventory within the caller's scope. A group is seen by those whose
scope contains its node, and by those below it (a department's manager sees
the company's groups, with `node_id` null: the node above them is not named);
any other is a 404 like one that does not exist. Creating, renaming,
restyling and deleting need `lines:label` at the group's node. Lines are put
in a group by the `set_group` operation (`group_id`), only when the group's
node is the line's or above it. Renaming a group renames it on its lines;
deleting one takes its lines out of it (they stay, in no group).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.deps import SignedInInventory
from gateway.lines.schemas import timestamp
from gateway.openapi import sends
from gateway.problems import problem_responses
from gateway.text import HumanText
from simfleet.inventory.v1 import line_groups_pb2 as pb
from simfleet_runtime.validation import GROUP_MAX

router = APIRouter(prefix="/v1/lines/groups", tags=["lines"])

GroupIcon = Literal["people", "truck", "briefcase", "headset", "wrench", "star", "building", "phone"]
"""simfleet_runtime.validation.GROUP_ICONS, as the schema's enum (a test holds them equal)."""
GroupColour = Literal["grey", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"]
"""simfleet_runtime.validation.GROUP_COLOURS, as the schema's enum (a test holds them equal)."""

GroupName = Annotated[str, HumanText, Field(min_length=1, max_length=GROUP_MAX, description="unique at its node")]

_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA5F6G7H8J9K0M1N2P3Q4R5S",
    "name": "Couriers",
    "icon": "truck",
    "colour": "orange",
    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
    "line_count": 42,
    "created_at": "2026-12-08T00:30:00Z",
    "updated_at": "2026-12-08T00:30:00Z",
}


class LineGroupResponse(BaseModel):
    """A group of lines as the caller sees it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str
    name: str
    icon: GroupIcon
    colour: GroupColour
    node_id: str | None = Field(description="its node; null for a group above the caller's scope")
    line_count: int = Field(description="its lines the caller may read")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_proto(cls, value: pb.LineGroup) -> LineGroupResponse:
        return cls(
            id=value.id,
            name=value.name,
            icon=cast(GroupIcon, value.icon),
            colour=cast(GroupColour, value.colour),
            node_id=value.node_id or None,
            line_count=value.line_count,
            created_at=timestamp(value.created_at),
            updated_at=timestamp(value.updated_at),
        )


class LineGroupsList(BaseModel):
    """The groups the caller sees, by name."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_EXAMPLE]}]})

    items: list[LineGroupResponse]


class NewLineGroup(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B", "name": "Couriers", "icon": "truck", "colour": "orange"}
            ]
        },
    )

    node_id: str = Field(min_length=1, max_length=64, description="the node the group belongs to")
    name: GroupName
    icon: GroupIcon = "people"
    colour: GroupColour = "blue"


class LineGroupChange(BaseModel):
    """What to change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Drivers", "colour": "teal"}]})

    name: GroupName | None = None
    icon: GroupIcon | None = None
    colour: GroupColour | None = None


GroupIdPath = Annotated[str, Path(min_length=26, max_length=26, description="the group's id")]


@router.get(
    "",
    operation_id="listLineGroups",
    summary="The groups of lines the caller sees",
    description=(
        "By name, each with the count of its lines the caller may read. `for_node_id`: only the groups a line of "
        "that node may be put in (that node's and those above it)."
    ),
    responses=problem_responses(401, 404, 422),
)
async def list_line_groups(
    inventory: SignedInInventory,
    response: Response,
    for_node_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="only the groups a line of this node may join")
    ] = None,
) -> LineGroupsList:
    answer = await inventory.call(
        inventory.line_groups.ListLineGroups, pb.ListLineGroupsRequest(for_node_id=for_node_id or "")
    )
    response.headers["Cache-Control"] = "no-store"
    return LineGroupsList(items=[LineGroupResponse.from_proto(g) for g in answer.groups])


@router.post(
    "",
    operation_id="createLineGroup",
    status_code=status.HTTP_201_CREATED,
    summary="Make a group of lines at a node",
    description=(
        "Needs `lines:label` at `node_id` (a node outside the caller's scope is a 404). A name the node's groups "
        "already use is a 409 `GROUP_EXISTS`; past 1,000 groups of the customer, a 409 `LINE_GROUPS_LIMIT`."
    ),
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def create_line_group(body: NewLineGroup, inventory: SignedInInventory, response: Response) -> LineGroupResponse:
    answer = await inventory.call(
        inventory.line_groups.CreateLineGroup,
        pb.CreateLineGroupRequest(node_id=body.node_id, name=body.name, icon=body.icon, colour=body.colour),
    )
    response.headers["Location"] = f"/v1/lines/groups/{answer.group.id}"
    return LineGroupResponse.from_proto(answer.group)


@router.get(
    "/{group_id}",
    operation_id="getLineGroup",
    summary="One group of lines",
    responses=problem_responses(401, 404, 422),
)
async def get_line_group(group_id: GroupIdPath, inventory: SignedInInventory, response: Response) -> LineGroupResponse:
    answer = await inventory.call(inventory.line_groups.GetLineGroup, pb.GetLineGroupRequest(id=group_id))
    response.headers["Cache-Control"] = "no-store"
    return LineGroupResponse.from_proto(answer.group)


@router.patch(
    "/{group_id}",
    operation_id="updateLineGroup",
    summary="Rename or restyle a group of lines",
    description=(
        "Needs `lines:label` at the group's node (a group above the caller's scope is a 403). Its lines stay in it "
        "and show the new name at once. A name another group of the node uses is a 409 `GROUP_EXISTS`."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def update_line_group(
    group_id: GroupIdPath, body: LineGroupChange, inventory: SignedInInventory
) -> LineGroupResponse:
    answer = await inventory.call(
        inventory.line_groups.UpdateLineGroup,
        pb.UpdateLineGroupRequest(id=group_id, name=body.name or "", icon=body.icon or "", colour=body.colour or ""),
    )
    return LineGroupResponse.from_proto(answer.group)


@router.delete(
    "/{group_id}",
    operation_id="deleteLineGroup",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a group of lines",
    description=(
        "Needs `lines:label` at the group's node. Its lines are taken out of it in the same step: they stay where "
        "they are, in no group."
    ),
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_line_group(group_id: GroupIdPath, inventory: SignedInInventory) -> Response:
    await inventory.call(inventory.line_groups.DeleteLineGroup, pb.DeleteLineGroupRequest(id=group_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
