"""Scripted stand-ins for the services the gateway calls, and what a test scripts them with.

:class:`ScriptedServices` serves any services by their descriptors on a real grpc.aio server (through the runtime's
ServerInterceptor, so a scripted :class:`DomainError` reaches the gateway as
the service's would); :class:`ScriptedInventory` is inventory's, answering a
plausible default unless a test scripts something else. Every call is recorded
with the metadata it carried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.timestamp_pb2 import Timestamp

from simfleet.inventory.v1 import line_groups_pb2, lines_pb2, operations_pb2, saved_filters_pb2
from simfleet_runtime.grpc_server import ServerInterceptor
from simfleet_runtime.testing import free_port


@dataclass
class Call:
    method: str
    request: Any
    metadata: dict[str, str]


@dataclass
class Abort:
    """Abort the call with a bare status (no google.rpc details), as gRPC itself would."""

    code: grpc.StatusCode
    message: str = ""


@dataclass
class Delay:
    """Answer (by default) only after this many seconds."""

    seconds: float


def ts(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


JAN_15 = 1_768_469_400  # 2026-01-15T09:30:00Z
JAN_16 = 1_768_564_800  # 2026-01-16T12:00:00Z
OPERATION_ID = "01JA3D4E5F6G7H8J9K0M1N2P3Q"


def line(msisdn: str = "+79990000101", **changes: Any) -> lines_pb2.Line:
    """A line as inventory would answer it."""
    fields: dict[str, Any] = {
        "id": "01JA2C3D4E5F6G7H8J9K0M1N2P",
        "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
        "msisdn": msisdn,
        "sim": lines_pb2.Sim(iccid="8970199000000000106", imsi="250990000000101", state="installed"),
        "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
        "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
        "tariff_code": "corp-unlimited",
        "state": lines_pb2.LINE_STATE_ACTIVE,
        "services": ["roaming", "voicemail"],
        "apns": [
            lines_pb2.Apn(name="internet", pdp_type="ipv4v6", added_at=ts(JAN_15)),
            lines_pb2.Apn(name="corp.simfleet", pdp_type="ipv4", static_ip="10.20.0.15", added_at=ts(JAN_16)),
        ],
        "forwarding": [lines_pb2.Forwarding(condition="busy", target="+79990000199")],
        "labels": ["drivers"],
        "group": "fleet",
        "group_id": "01JA5F6G7H8J9K0M1N2P3Q4R5S",
        "created_at": ts(JAN_15),
        "updated_at": ts(JAN_16),
    }
    fields.update(changes)
    return lines_pb2.Line(**fields)


def operation(state: int = operations_pb2.OPERATION_STATE_RUNNING, **changes: Any) -> operations_pb2.Operation:
    """An operation as inventory would answer it: two lines, by default one done."""
    fields: dict[str, Any] = {
        "id": OPERATION_ID,
        "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
        "type": operations_pb2.OPERATION_TYPE_BLOCK,
        "state": state,
        "params": {"block_type": "voluntary"},
        "requested_by": "01J9Z3K8Q4W7N2M5X6Y8B0USER",
        "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
        "counts": operations_pb2.ItemCounts(total=2, pending=1, succeeded=1),
        "created_at": ts(JAN_16),
        "started_at": ts(JAN_16 + 1),
    }
    fields.update(changes)
    return operations_pb2.Operation(**fields)


def finished_operation(**changes: Any) -> operations_pb2.Operation:
    fields: dict[str, Any] = {
        "state": operations_pb2.OPERATION_STATE_COMPLETED,
        "counts": operations_pb2.ItemCounts(total=2, succeeded=2),
        "finished_at": ts(JAN_16 + 4),
    }
    fields.update(changes)
    return operation(**fields)


def default_answer(method: str) -> Any:
    """What inventory would plausibly answer to a valid call."""
    if method == "ListLines":
        return lines_pb2.ListLinesResponse(lines=[line()], next_page_token="page-2")
    if method == "GetLine":
        return lines_pb2.GetLineResponse(line=line())
    if method == "GetPuk":
        return lines_pb2.GetPukResponse(
            msisdn="+79990000101", iccid="8970199000000000106", puk1="12345678", puk2="87654321"
        )
    if method == "GetLocation":
        return lines_pb2.GetLocationResponse(
            msisdn="+79990000101",
            cell_id="250-99-1234-5678",
            latitude=55.7558,
            longitude=37.6173,
            accuracy_m=350,
            observed_at=ts(JAN_16),
        )
    if method == "ListFreeNumbers":
        return lines_pb2.ListFreeNumbersResponse(msisdns=["+79990007770", "+79990007771"])
    if method == "ListReserveSims":
        return lines_pb2.ListReserveSimsResponse(
            sims=[lines_pb2.Sim(iccid="8970199000000000205", imsi="250990000000102", state="in_stock")]
        )
    if method == "CreateOperation":
        return operations_pb2.CreateOperationResponse(
            operation=operation(counts=operations_pb2.ItemCounts(total=2, pending=2))
        )
    if method == "OrderSims":
        return operations_pb2.OrderSimsResponse(
            operation=operation(
                type=operations_pb2.OPERATION_TYPE_ORDER_SIMS,
                params={"quantity": "10"},
                counts=operations_pb2.ItemCounts(total=10, pending=10),
            )
        )
    if method == "GetOperation":
        # Finished, so that an event stream a test does not script ends by itself.
        return operations_pb2.GetOperationResponse(operation=finished_operation())
    if method == "ListOperations":
        return operations_pb2.ListOperationsResponse(operations=[finished_operation()], next_page_token="page-2")
    if method == "ListOperationItems":
        return operations_pb2.ListOperationItemsResponse(
            items=[
                operations_pb2.Item(
                    id="01JA3D4E5F6G7H8J9K0M1N2P3R",
                    operation_id=OPERATION_ID,
                    position=2,
                    msisdn="+79990000102",
                    state=operations_pb2.ITEM_STATE_FAILED,
                    code="ALREADY_BLOCKED",
                    reason="the line is already blocked",
                    updated_at=ts(JAN_16 + 3),
                )
            ]
        )
    if method == "CancelOperation":
        return operations_pb2.CancelOperationResponse(operation=operation(cancel_requested=True))
    if method == "ListSavedFilters":
        return saved_filters_pb2.ListSavedFiltersResponse()
    if method == "DeleteSavedFilter":
        return saved_filters_pb2.DeleteSavedFilterResponse()
    if method == "ListLineGroups":
        return line_groups_pb2.ListLineGroupsResponse()
    if method == "DeleteLineGroup":
        return line_groups_pb2.DeleteLineGroupResponse(lines_cleared=2)
    raise AssertionError(f"no default answer for {method}")


class ScriptedServices:
    """Any gRPC services, by their descriptors, on a real grpc.aio server (through the runtime's interceptor).

    Each method answers its scripted outcomes in turn, else ``defaults(method)``, else its empty response;
    every call is recorded with the metadata it carried. The stand-ins of identity, inventory and accounts
    are all this one double with their services and defaults.
    """

    def __init__(self, name: str, *services: Any, defaults: Callable[[str], Any] = lambda _method: None) -> None:
        self.name = name
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.calls: list[Call] = []
        self._services = services
        self._defaults = defaults
        self._script: dict[str, list[Any]] = {}
        self._server: grpc.aio.Server | None = None

    def script(self, method: str, *outcomes: Any) -> None:
        """The next answers to ``method``: a response, a DomainError, an Abort, a Delay, any exception."""
        self._script.setdefault(method, []).extend(outcomes)

    def reset(self) -> None:
        self.calls.clear()
        self._script.clear()

    def last(self, method: str) -> Call:
        for call in reversed(self.calls):
            if call.method == method:
                return call
        raise AssertionError(f"{self.name} got no {method} call; it got {[c.method for c in self.calls]}")

    def count(self, method: str) -> int:
        return sum(1 for call in self.calls if call.method == method)

    def _handler(self, method: str, empty: Any) -> Any:
        async def handle(request: Any, context: Any) -> Any:
            metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
            self.calls.append(Call(method, request, metadata))
            pending = self._script.get(method)
            outcome = pending.pop(0) if pending else None
            if isinstance(outcome, Delay):
                await asyncio.sleep(outcome.seconds)
                outcome = None
            if isinstance(outcome, Abort):
                await context.abort(outcome.code, outcome.message)
            if isinstance(outcome, BaseException):
                raise outcome
            if outcome is not None:
                return outcome
            answer = self._defaults(method)
            return answer if answer is not None else empty()

        return handle

    def _upload_handler(self, method: str, empty: Any) -> Any:
        """A client-streaming method: the call records the messages as they come (all of them once it ends)."""

        async def handle(requests: Any, context: Any) -> Any:
            metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
            received: list[Any] = []
            self.calls.append(Call(method, received, metadata))
            async for message in requests:
                received.append(message)
            pending = self._script.get(method)
            outcome = pending.pop(0) if pending else None
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome if outcome is not None else empty()

        return handle

    def _download_handler(self, method: str, _empty: Any) -> Any:
        """A server-streaming method: it streams the scripted list of messages (or raises the scripted error)."""

        async def handle(request: Any, context: Any) -> Any:
            metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
            self.calls.append(Call(method, request, metadata))
            pending = self._script.get(method)
            outcome = pending.pop(0) if pending else []
            if isinstance(outcome, BaseException):
                raise outcome
            for message in outcome:
                yield message

        return handle

    def _add_more(self, server: grpc.aio.Server) -> None:
        """Anything else the double serves beside its scripted services (a subclass's health service)."""

    async def start(self) -> None:
        server = grpc.aio.server(interceptors=[ServerInterceptor()])
        server.add_generic_rpc_handlers(
            tuple(
                generic_handler(s, self._handler, upload=self._upload_handler, download=self._download_handler)
                for s in self._services
            )
        )
        self._add_more(server)
        server.add_insecure_port(self.target)
        await server.start()
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(None)


class ScriptedInventory(ScriptedServices):
    """inventory's LineService, OperationService, SavedFilterService and LineGroupService, answering plausible defaults
    (:func:`default_answer`)."""

    def __init__(self) -> None:
        super().__init__(
            "inventory",
            lines_pb2.DESCRIPTOR.services_by_name["LineService"],
            operations_pb2.DESCRIPTOR.services_by_name["OperationService"],
            saved_filters_pb2.DESCRIPTOR.services_by_name["SavedFilterService"],
            line_groups_pb2.DESCRIPTOR.services_by_name["LineGroupService"],
            defaults=default_answer,
        )


def generic_handler(service: Any, handler: Any, *, upload: Any = None, download: Any = None) -> grpc.GenericRpcHandler:
    """``service``'s methods served by ``handler(method name, response class)`` (client-streaming ones by
    ``upload``, server-streaming ones by ``download``, made the same way)."""
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        make = grpc.unary_unary_rpc_method_handler
        serve = handler
        if method.client_streaming and upload is not None:
            make, serve = grpc.stream_unary_rpc_method_handler, upload
        elif method.server_streaming and download is not None:
            make, serve = grpc.unary_stream_rpc_method_handler, download
        handlers[method.name] = make(
            serve(method.name, response_class),
            request_deserializer=request_class.FromString,
            response_serializer=lambda message: message.SerializeToString(),
        )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)
