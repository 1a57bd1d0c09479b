"""/v1/operations and /v1/sim-orders: every change to lines is an operation.

Blocks (SIM-2), SIM replacement (SIM-3), new numbers (SIM-4), SIM orders (SIM-5),
forwarding (SIM-8), APNs (SIM-9), SMS (SIM-11), moves (SIM-12), all in bulk with
each line's result (SIM-13, AU-2).

An operation is accepted at once (202 with the operation and its Location)
and runs in the background, one item per line; the client follows it by
polling GET /v1/operations/{id} or by its event stream, and reads each line's
result from its items. The same ``Idempotency-Key`` from the same user with
the same body returns the operation it created first: 200 and
``Idempotent-Replayed: true``; with another body, or on the other endpoint
(a key is the user's, across /v1/operations and /v1/sim-orders), it is 422
``IDEMPOTENCY_KEY_REUSED`` (inventory keeps a fingerprint of the request with
the key).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from gateway.deps import SignedInInventory
from gateway.openapi import sends
from gateway.operations.events import StreamLimits, operation_events
from gateway.operations.params import described
from gateway.operations.schemas import (
    ITEM_STATES,
    OPERATION_EXAMPLES,
    OPERATION_STATES,
    OPERATION_TYPES,
    CreateOperationRequest,
    ItemResponse,
    ItemsPage,
    ItemStateName,
    OperationResponse,
    OperationsPage,
    OperationStateName,
    OperationTypeName,
    OrderSimsRequest,
)
from gateway.problems import ProblemError, problem_responses, request_id_of
from gateway.settings import GatewaySettings
from simfleet.inventory.v1 import operations_pb2 as pb

OPERATIONS_PATH = "/v1/operations"
"""Its POST takes bulk bodies (up to 200,000 lines): the edge allows it a larger body."""

router = APIRouter(prefix=OPERATIONS_PATH, tags=["line operations"])
sim_orders_router = APIRouter(prefix="/v1/sim-orders", tags=["line operations"])

OperationIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$", description="an operation id")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        pattern=r"^[\x20-\x7e]+$",
        description="any printable text, unique per intended change: a retry with the same key and body creates "
        "nothing new (200, `Idempotent-Replayed: true`); the key with another body, or on the other of "
        "/v1/operations and /v1/sim-orders, is refused (422 `IDEMPOTENCY_KEY_REUSED`)",
        examples=["01JA3D4E5F6G7H8J9K0M1N2P3Q"],
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="items per page")]
Cursor = Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")]

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: sends("Location"),
    200: {
        "model": OperationResponse,
        "description": "The Idempotency-Key was used before: the operation it created (`Idempotent-Replayed: true`)",
        **sends("Location", "Idempotent-Replayed"),
    },
}
_EVENTS_EXAMPLE = (
    "retry: 3000\n\n"
    "event: progress\nid: 5f0c2b8e91d4a7c3e6b1\n"
    'data: {"id":"01JA3D4E5F6G7H8J9K0M1N2P3Q","type":"block","state":"running",'
    '"counts":{"total":2,"pending":1,"in_progress":1,"succeeded":0,"failed":0,"skipped":0},...}\n\n'
    ": keep-alive\n\n"
    "event: finished\nid: 9a41d07c2e58b6f3d210\n"
    'data: {"id":"01JA3D4E5F6G7H8J9K0M1N2P3Q","type":"block","state":"completed",'
    '"counts":{"total":2,"pending":0,"in_progress":0,"succeeded":2,"failed":0,"skipped":0},...}\n\n'
)


def _accepted(operation: OperationResponse, *, replayed: bool, response: Response) -> OperationResponse:
    response.headers["Location"] = f"{OPERATIONS_PATH}/{operation.id}"
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return operation


@router.post(
    "",
    operation_id="createOperation",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Change lines: block, unblock, activate, replace a SIM, change a number, APNs, forwarding, move",
    description=(
        "Name the lines with exactly one of `lines` (numbers), `items` (numbers each with its own `params`) or "
        "`selection` (a filter resolved when the operation starts: `node_id`, `state`, `tariff`, `label`, "
        "`group`), at most 200,000. The `type` says which `params` the operation takes (one schema per type, "
        "from the contract's definition in operation_params.proto):\n\n"
        + described()
        + "\n\n`scheduled_at` runs it later. Answers 202 with the operation; follow it at its Location or its "
        "`/events`."
    ),
    responses={**_ACCEPTED, **problem_responses(400, 401, 403, 404, 409, 422, 429)},
)
async def create_operation(
    body: Annotated[CreateOperationRequest, Body(openapi_examples=OPERATION_EXAMPLES)],
    inventory: SignedInInventory,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OperationResponse:
    problems = body.problems()
    if problems:
        raise ProblemError(422, "VALIDATION_FAILED", "the request is not valid", errors=problems)
    answer = await inventory.call(inventory.operations.CreateOperation, body.to_proto(idempotency_key))
    return _accepted(OperationResponse.from_proto(answer.operation), replayed=answer.replayed, response=response)


@router.get(
    "",
    operation_id="listOperations",
    summary="The operations in the caller's scope",
    description="Newest first; `state` (repeat for several) and `type` narrow them.",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_operations(
    inventory: SignedInInventory,
    response: Response,
    state: Annotated[
        list[OperationStateName] | None, Query(description="only these states (repeat the parameter)")
    ] = None,
    type_: Annotated[OperationTypeName | None, Query(alias="type", description="only this type")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> OperationsPage:
    answer = await inventory.call(
        inventory.operations.ListOperations,
        pb.ListOperationsRequest(
            states=[OPERATION_STATES.value(s) for s in state or ()],
            type=OPERATION_TYPES.value(type_) if type_ else pb.OPERATION_TYPE_UNSPECIFIED,
            page_size=limit,
            page_token=cursor or "",
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    return OperationsPage(
        items=[OperationResponse.from_proto(o) for o in answer.operations], next_cursor=answer.next_page_token or None
    )


@router.get(
    "/{operation_id}",
    operation_id="getOperation",
    summary="One operation",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_operation(
    operation_id: OperationIdPath, inventory: SignedInInventory, response: Response
) -> OperationResponse:
    answer = await inventory.call(inventory.operations.GetOperation, pb.GetOperationRequest(operation_id=operation_id))
    response.headers["Cache-Control"] = "no-store"
    return OperationResponse.from_proto(answer.operation)


@router.get(
    "/{operation_id}/items",
    operation_id="listOperationItems",
    summary="The operation's lines and how each went",
    description="In the order of the operation's lines; `state` (repeat for several) narrows them, e.g. to `failed`.",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_items(
    operation_id: OperationIdPath,
    inventory: SignedInInventory,
    response: Response,
    state: Annotated[list[ItemStateName] | None, Query(description="only these states (repeat the parameter)")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ItemsPage:
    answer = await inventory.call(
        inventory.operations.ListOperationItems,
        pb.ListOperationItemsRequest(
            operation_id=operation_id,
            states=[ITEM_STATES.value(s) for s in state or ()],
            page_size=limit,
            page_token=cursor or "",
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    return ItemsPage(
        items=[ItemResponse.from_proto(i) for i in answer.items], next_cursor=answer.next_page_token or None
    )


@router.post(
    "/{operation_id}/cancel",
    operation_id="cancelOperation",
    summary="Cancel an operation",
    description=(
        "A scheduled operation is cancelled at once; a running one stops sending: its lines not yet sent become "
        "`skipped`. Answers the operation (`cancel_requested` true)."
    ),
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def cancel_operation(operation_id: OperationIdPath, inventory: SignedInInventory) -> OperationResponse:
    answer = await inventory.call(
        inventory.operations.CancelOperation, pb.CancelOperationRequest(operation_id=operation_id)
    )
    return OperationResponse.from_proto(answer.operation)


@router.get(
    "/{operation_id}/events",
    operation_id="followOperationEvents",
    response_class=StreamingResponse,
    summary="Follow an operation as Server-Sent Events",
    description=(
        "`text/event-stream`: `event: progress` with the operation (as GET /v1/operations/{id}) at the start and "
        "whenever it changes, then `event: finished` with the final operation, and the stream ends (close the "
        "EventSource on `finished`). A comment line keeps a quiet stream open; `event: error` with a problem ends "
        "it if inventory stops answering. A stream lives an hour at most: reconnect to go on. Every event has an "
        "`id:` and the stream opens with `retry:`, so a browser's EventSource reconnects by itself; sent back as "
        "`Last-Event-ID`, the id spares the client the opening `progress` when nothing changed since. The events' "
        "`data` schemas are under `x-events` of the 200 answer."
    ),
    responses={
        200: {
            "description": "The operation's events",
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string", "examples": [_EVENTS_EXAMPLE]},
                    "x-events": {
                        "progress": {"$ref": "#/components/schemas/OperationResponse"},
                        "finished": {"$ref": "#/components/schemas/OperationResponse"},
                        "error": {"$ref": "#/components/schemas/Problem"},
                    },
                }
            },
        },
        **problem_responses(401, 403, 404, 422),
    },
)
async def follow_operation(
    operation_id: OperationIdPath,
    inventory: SignedInInventory,
    request: Request,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=64,
            description="the id of the last event seen (a browser's EventSource sends it when it reconnects)",
        ),
    ] = None,
) -> StreamingResponse:
    get = pb.GetOperationRequest(operation_id=operation_id)
    first = OperationResponse.from_proto((await inventory.call(inventory.operations.GetOperation, get)).operation)
    settings: GatewaySettings = request.app.state.settings
    events = operation_events(
        first,
        lambda: inventory.call(inventory.operations.GetOperation, get),
        limits=StreamLimits(
            poll_seconds=settings.operation_events_poll_seconds,
            keepalive_seconds=settings.operation_events_keepalive_seconds,
            max_seconds=settings.operation_events_max_seconds,
        ),
        disconnected=request.is_disconnected,
        instance=request.url.path,
        request_id=request_id_of(request),
        last_event_id=last_event_id or "",
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@sim_orders_router.post(
    "",
    operation_id="orderSims",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Order new SIM cards",
    description=(
        "Each a reserved SIM and number, delivered as a `ready` line under `node_id` (SIM-5): an operation of type "
        "`order_sims`, followed like any other. An `Idempotency-Key` makes a retry return the same operation "
        "(200, `Idempotent-Replayed: true`)."
    ),
    responses={**_ACCEPTED, **problem_responses(400, 401, 403, 404, 409, 422, 429)},
)
async def order_sims(
    body: OrderSimsRequest,
    inventory: SignedInInventory,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OperationResponse:
    answer = await inventory.call(inventory.operations.OrderSims, body.to_proto(idempotency_key))
    return _accepted(OperationResponse.from_proto(answer.operation), replayed=answer.replayed, response=response)
