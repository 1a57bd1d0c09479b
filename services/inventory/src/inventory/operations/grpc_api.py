"""simfleet.inventory.v1.OperationService: a customer's own users, by their access token."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from inventory import convert
from inventory.operations.requests import NewOperation, Selection, Target
from inventory.operations.service import OperationService
from simfleet.inventory.v1 import operations_pb2 as pb
from simfleet.inventory.v1 import operations_pb2_grpc
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.operation_params import item_params_to_text, params_to_text

SERVICE_NAME = "simfleet.inventory.v1.OperationService"


def _type(value: int) -> str:
    name = convert.OPERATION_TYPE_NAMES.get(value)
    if name is None:
        raise InvalidArgument(
            "the operation type is missing or unknown",
            reason="INVALID_OPERATION",
            field_violations={"type": "required"},
        )
    return name


def _params(request: pb.CreateOperationRequest, type_name: str) -> dict[str, str]:
    """The typed parameters when given (the field named after the type), else the text map of older clients."""
    if not request.HasField("typed_params"):
        return dict(request.params)
    which, values = params_to_text(request.typed_params)
    if which is not None and which != type_name:
        raise InvalidArgument(
            f"typed_params holds the parameters of {which}, not of {type_name}",
            reason="INVALID_PARAMS",
            field_violations={"params": f"the parameters of {which} given for {type_name}"},
        )
    return values


def _target(target: pb.Target, type_name: str) -> Target:
    if not target.HasField("item_params"):
        return Target(target.msisdn, dict(target.params))
    which, values = item_params_to_text(target.item_params)
    if which is not None and which != type_name:
        raise InvalidArgument(
            f"a line's item_params hold the parameters of {which}, not of {type_name}",
            reason="INVALID_PARAMS",
            field_violations={"items.params": f"the parameters of {which} given for {type_name}"},
        )
    return Target(target.msisdn, values)


class OperationApi(operations_pb2_grpc.OperationServiceServicer):
    def __init__(self, *, operations: OperationService, authorizer: Authorizer) -> None:
        self._operations = operations
        self._authz = authorizer

    async def CreateOperation(self, request: pb.CreateOperationRequest, context: Any) -> pb.CreateOperationResponse:
        access = await self._authz.access()
        selection = None
        if request.HasField("selection"):
            s = request.selection
            selection = Selection(
                node_id=s.node_id,
                states=[convert.LINE_STATE_NAMES.get(v, str(v)) for v in s.states],
                tariff_code=s.tariff_code,
                label=s.label,
                group=s.group,
            )
        type_name = _type(request.type)
        new = NewOperation(
            type=type_name,
            targets=[_target(t, type_name) for t in request.targets],
            numbers=list(request.msisdns),
            selection=selection,
            params=_params(request, type_name),
            scheduled_at=request.scheduled_at.ToDatetime(tzinfo=UTC) if request.HasField("scheduled_at") else None,
            idempotency_key=request.idempotency_key,
        )
        operation, replayed = await self._operations.create_idempotent(access, new)
        return pb.CreateOperationResponse(operation=convert.operation(operation), replayed=replayed)

    async def OrderSims(self, request: pb.OrderSimsRequest, context: Any) -> pb.OrderSimsResponse:
        access = await self._authz.access()
        operation, replayed = await self._operations.order_sims(
            access,
            node_id=request.node_id,
            personal_account_id=request.personal_account_id,
            quantity=request.quantity,
            tariff_code=request.tariff_code,
            idempotency_key=request.idempotency_key,
        )
        return pb.OrderSimsResponse(operation=convert.operation(operation), replayed=replayed)

    async def GetOperation(self, request: pb.GetOperationRequest, context: Any) -> pb.GetOperationResponse:
        access = await self._authz.access()
        return pb.GetOperationResponse(
            operation=convert.operation(await self._operations.get(access, request.operation_id))
        )

    async def ListOperations(self, request: pb.ListOperationsRequest, context: Any) -> pb.ListOperationsResponse:
        access = await self._authz.access()
        operations, token = await self._operations.find(
            access,
            states=[convert.OPERATION_STATE_NAMES.get(s, str(s)) for s in request.states],
            type_=convert.OPERATION_TYPE_NAMES.get(request.type, "") if request.type else "",
            page_size_=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListOperationsResponse(operations=[convert.operation(o) for o in operations], next_page_token=token)

    async def ListOperationItems(
        self, request: pb.ListOperationItemsRequest, context: Any
    ) -> pb.ListOperationItemsResponse:
        access = await self._authz.access()
        items, token = await self._operations.items(
            access,
            request.operation_id,
            states=[convert.ITEM_STATE_NAMES.get(s, str(s)) for s in request.states],
            page_size_=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListOperationItemsResponse(items=[convert.item(i) for i in items], next_page_token=token)

    async def CancelOperation(self, request: pb.CancelOperationRequest, context: Any) -> pb.CancelOperationResponse:
        access = await self._authz.access()
        return pb.CancelOperationResponse(
            operation=convert.operation(await self._operations.cancel(access, request.operation_id))
        )
