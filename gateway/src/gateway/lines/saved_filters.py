"""/v1/lines/saved-filters: a user's own named filters of lines (AC-5), to list lines by or to select an operation's.

Kept by inventory for their owner alone: another user's filter is a 404 like
one that does not exist. Keeping them needs ``lines:read``; a filter's node
must be in the caller's scope when it is saved, and is checked again by the
list or the operation that uses it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.deps import SignedInInventory
from gateway.lines.schemas import LINE_STATES, LineStateName, timestamp
from gateway.openapi import sends
from gateway.problems import problem_responses
from gateway.text import HumanText
from simfleet.inventory.v1 import saved_filters_pb2 as pb
from simfleet_runtime.validation import GROUP_MAX, LABEL_MAX

router = APIRouter(prefix="/v1/lines/saved-filters", tags=["lines"])

_EXAMPLE: dict[str, JsonValue] = {
    "name": "Blocked drivers, north",
    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
    "states": ["blocked"],
    "tariff": None,
    "label": "drivers",
    "group": None,
}


class SavedFilterBody(BaseModel):
    """A filter of lines to keep under a name; the fields are those of `GET /v1/lines` and of an operation's
    `selection`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: Annotated[str, HumanText] = Field(min_length=1, max_length=100, description="unique among yours")
    node_id: str | None = Field(None, min_length=1, max_length=64, description="only this node's subtree")
    states: list[LineStateName] = Field(default_factory=list, max_length=4, description="only these states")
    tariff: str | None = Field(None, min_length=1, max_length=64, description="only this tariff's code")
    label: Annotated[str, HumanText] | None = Field(None, min_length=1, max_length=LABEL_MAX)
    group: Annotated[str, HumanText] | None = Field(None, min_length=1, max_length=GROUP_MAX)


_SAVED_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA5F6G7H8J9K0M1N2P3Q4R5S",
    **_EXAMPLE,
    "created_at": "2026-12-07T21:00:00Z",
}


class SavedFilterResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SAVED_EXAMPLE]})

    id: str
    name: str
    node_id: str | None
    states: list[LineStateName]
    tariff: str | None
    label: str | None
    group: str | None
    created_at: datetime

    @classmethod
    def from_proto(cls, value: pb.SavedFilter) -> SavedFilterResponse:
        return cls(
            id=value.id,
            name=value.name,
            node_id=value.node_id or None,
            states=[LINE_STATES.name(s) for s in value.states],
            tariff=value.tariff_code or None,
            label=value.label or None,
            group=value.group or None,
            created_at=timestamp(value.created_at),
        )


class SavedFiltersList(BaseModel):
    """The caller's saved filters, by name (50 at most)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_SAVED_EXAMPLE]}]})

    items: list[SavedFilterResponse]


FilterIdPath = Annotated[str, Path(min_length=26, max_length=26, description="the saved filter's id")]


@router.get(
    "",
    operation_id="listSavedFilters",
    summary="My saved filters of lines",
    description="Only the caller's own, by name. Needs `lines:read`.",
    responses=problem_responses(401, 403),
)
async def list_saved_filters(inventory: SignedInInventory, response: Response) -> SavedFiltersList:
    answer = await inventory.call(inventory.saved_filters.ListSavedFilters, pb.ListSavedFiltersRequest())
    response.headers["Cache-Control"] = "no-store"
    return SavedFiltersList(items=[SavedFilterResponse.from_proto(f) for f in answer.filters])


@router.post(
    "",
    operation_id="createSavedFilter",
    status_code=status.HTTP_201_CREATED,
    summary="Save a filter of lines under a name",
    description=(
        "Needs `lines:read` (at `node_id` when given: a node outside the caller's scope is a 404). "
        "A name already used among the caller's filters is a 409 `SAVED_FILTER_EXISTS`; past 50 filters, "
        "a 409 `SAVED_FILTERS_LIMIT`."
    ),
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def create_saved_filter(
    body: SavedFilterBody, inventory: SignedInInventory, response: Response
) -> SavedFilterResponse:
    answer = await inventory.call(
        inventory.saved_filters.CreateSavedFilter,
        pb.CreateSavedFilterRequest(
            filter=pb.SavedFilter(
                name=body.name,
                node_id=body.node_id or "",
                states=[LINE_STATES.value(s) for s in body.states],
                tariff_code=body.tariff or "",
                label=body.label or "",
                group=body.group or "",
            )
        ),
    )
    response.headers["Location"] = f"/v1/lines/saved-filters/{answer.filter.id}"
    return SavedFilterResponse.from_proto(answer.filter)


@router.delete(
    "/{filter_id}",
    operation_id="deleteSavedFilter",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete one of my saved filters",
    description="Another user's filter is a 404, like one that does not exist.",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_saved_filter(filter_id: FilterIdPath, inventory: SignedInInventory) -> Response:
    await inventory.call(inventory.saved_filters.DeleteSavedFilter, pb.DeleteSavedFilterRequest(id=filter_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
