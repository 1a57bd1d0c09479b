"""/v1/lines, /v1/numbers/free, /v1/sims/reserve: a customer's lines and stock (SIM-1, SIM-3, SIM-4, SIM-9, SIM-10).

Every endpoint needs an access token; inventory verifies it and answers only
inside the caller's scope: a line outside it is a 404 like a missing one.
Changes to lines are operations (/v1/operations).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from gateway.answers import NO_STORE, JsonAnswer
from gateway.deps import SignedInInventory
from gateway.lines.schemas import (
    LINE_STATES,
    MSISDN_PATTERN,
    FreeNumbers,
    LineApns,
    LineResponse,
    LinesPage,
    LineStateName,
    LocationResponse,
    PukResponse,
    ReserveSimsPage,
    SimResponse,
    line_json,
)
from gateway.problems import problem_responses
from simfleet.inventory.v1 import lines_pb2 as pb

router = APIRouter(prefix="/v1/lines", tags=["lines"])
stock_router = APIRouter(tags=["lines"])

MsisdnPath = Annotated[
    str,
    Path(
        min_length=8,
        max_length=16,
        pattern=MSISDN_PATTERN,
        description="the line's number, E.164 (`+` may be sent as `%2B`)",
        examples=["+79990000101"],
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="items per page")]
Cursor = Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")]
LineSort = Literal["msisdn", "-msisdn", "created_at", "-created_at", "updated_at", "-updated_at"]


@router.get(
    "",
    operation_id="listLines",
    response_model=LinesPage,
    summary="The lines in the caller's scope",
    description=(
        "A page at a time, in a stable order: by `msisdn` unless `sort` says `created_at` or `updated_at` "
        "(a leading `-` reverses). Filters combine: `node_id` (that node's subtree), `state` (repeat for several), "
        "`tariff`, `label`, `group` (a group's name) or `group_id` (one group, `/v1/lines/groups`), and `q`, "
        "the beginning of a number or ICCID."
    ),
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_lines(
    inventory: SignedInInventory,
    node_id: Annotated[str | None, Query(min_length=1, max_length=64, description="only this node's subtree")] = None,
    state: Annotated[list[LineStateName] | None, Query(description="only these states (repeat the parameter)")] = None,
    tariff: Annotated[str | None, Query(min_length=1, max_length=64, description="only this tariff's code")] = None,
    label: Annotated[str | None, Query(min_length=1, max_length=100, description="only lines with this label")] = None,
    group: Annotated[str | None, Query(min_length=1, max_length=100, description="only this group's lines")] = None,
    group_id: Annotated[
        str | None, Query(min_length=26, max_length=26, description="only the lines of the group of this id")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            pattern=r"^\+?[0-9]{1,20}$",
            description="a number or ICCID, or its beginning (digits, an optional leading +)",
            examples=["+7999000"],
        ),
    ] = None,
    sort: Annotated[LineSort, Query(description="order")] = "msisdn",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> JsonAnswer:
    answer = await inventory.call(
        inventory.lines.ListLines,
        pb.ListLinesRequest(
            node_id=node_id or "",
            states=[LINE_STATES.value(s) for s in state or ()],
            tariff_code=tariff or "",
            label=label or "",
            group=group or "",
            group_id=group_id or "",
            query=q or "",
            page_size=limit,
            page_token=cursor or "",
            order_by=sort,
        ),
    )
    page = {"items": [line_json(line) for line in answer.lines], "next_cursor": answer.next_page_token or None}
    return JsonAnswer(page, headers=NO_STORE)


@router.get(
    "/{msisdn}",
    operation_id="getLine",
    summary="One line",
    description="Its state, SIM, node, personal account, tariff, services, APNs, forwarding, blocks and labels.",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_line(msisdn: MsisdnPath, inventory: SignedInInventory) -> LineResponse:
    answer = await inventory.call(inventory.lines.GetLine, pb.GetLineRequest(msisdn=msisdn))
    return LineResponse.from_proto(answer.line)


@router.get(
    "/{msisdn}/puk",
    operation_id="getLinePuk",
    summary="The PUK codes of the line's SIM",
    description="Needs `lines:read-puk`; every read is recorded in the action history. Never cached.",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_puk(msisdn: MsisdnPath, inventory: SignedInInventory, response: Response) -> PukResponse:
    answer = await inventory.call(inventory.lines.GetPuk, pb.GetPukRequest(msisdn=msisdn))
    response.headers["Cache-Control"] = "no-store"
    return PukResponse.from_proto(answer)


@router.get(
    "/{msisdn}/location",
    operation_id="getLineLocation",
    summary="Where the line's handset is now",
    description="The cell it is attached to and that cell's position, with the accuracy in metres (SIM-10). "
    "Needs `lines:locate`; every read is recorded in the action history. Never cached.",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_location(msisdn: MsisdnPath, inventory: SignedInInventory, response: Response) -> LocationResponse:
    answer = await inventory.call(inventory.lines.GetLocation, pb.GetLocationRequest(msisdn=msisdn))
    response.headers["Cache-Control"] = "no-store"
    return LocationResponse.from_proto(answer)


@router.get(
    "/{msisdn}/apns",
    operation_id="listLineApns",
    summary="The APNs active on the line's SIM",
    description="Each with its PDP type, static address (if any) and when it was added (SIM-9).",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_apns(msisdn: MsisdnPath, inventory: SignedInInventory) -> LineApns:
    answer = await inventory.call(inventory.lines.GetLine, pb.GetLineRequest(msisdn=msisdn))
    line = LineResponse.from_proto(answer.line)
    return LineApns(msisdn=line.msisdn, items=line.apns)


@stock_router.get(
    "/v1/numbers/free",
    operation_id="listFreeNumbers",
    summary="Free numbers to choose from",
    description="For a change of number (operation `change_number`, item param `msisdn`); `contains` narrows them.",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_free_numbers(
    inventory: SignedInInventory,
    response: Response,
    contains: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,15}$", description="digits the number contains", examples=["777"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="how many")] = 20,
) -> FreeNumbers:
    answer = await inventory.call(
        inventory.lines.ListFreeNumbers, pb.ListFreeNumbersRequest(contains=contains or "", page_size=limit)
    )
    response.headers["Cache-Control"] = "no-store"
    return FreeNumbers(items=list(answer.msisdns))


@stock_router.get(
    "/v1/sims/reserve",
    operation_id="listReserveSims",
    summary="Reserve SIM cards in the customer's stock",
    description="The SIMs a line's SIM may be replaced by (operation `replace_sim`, item param `iccid`).",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_reserve_sims(
    inventory: SignedInInventory, response: Response, limit: Limit = 100, cursor: Cursor = None
) -> ReserveSimsPage:
    answer = await inventory.call(
        inventory.lines.ListReserveSims, pb.ListReserveSimsRequest(page_size=limit, page_token=cursor or "")
    )
    response.headers["Cache-Control"] = "no-store"
    return ReserveSimsPage(
        items=[SimResponse.from_proto(s) for s in answer.sims], next_cursor=answer.next_page_token or None
    )
