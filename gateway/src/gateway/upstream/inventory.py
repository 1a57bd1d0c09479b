"""inventory's gRPC API as the gateway uses it: one channel per process, the request's metadata on each call.

The caller's bearer token travels in the metadata; inventory verifies it and
answers only inside the caller's scope (a line or operation outside it is
NOT_FOUND like one that does not exist).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import grpc

from gateway.settings import GatewaySettings
from gateway.upstream.identity import Metadata
from simfleet.inventory.v1 import line_groups_pb2_grpc, lines_pb2_grpc, operations_pb2_grpc, saved_filters_pb2_grpc
from simfleet_runtime.grpc_server import make_channel

LINE_SERVICE = "simfleet.inventory.v1.LineService"
OPERATION_SERVICE = "simfleet.inventory.v1.OperationService"
SAVED_FILTER_SERVICE = "simfleet.inventory.v1.SavedFilterService"
LINE_GROUP_SERVICE = "simfleet.inventory.v1.LineGroupService"

# Reads that are safe to send again when inventory was momentarily unreachable.
IDEMPOTENT_METHODS: Sequence[tuple[str, str]] = (
    (LINE_SERVICE, "ListLines"),
    (LINE_SERVICE, "GetLine"),
    (LINE_SERVICE, "GetPuk"),
    (LINE_SERVICE, "GetLocation"),
    (LINE_SERVICE, "ListFreeNumbers"),
    (LINE_SERVICE, "ListReserveSims"),
    (OPERATION_SERVICE, "GetOperation"),
    (OPERATION_SERVICE, "ListOperations"),
    (OPERATION_SERVICE, "ListOperationItems"),
    (SAVED_FILTER_SERVICE, "ListSavedFilters"),
    (LINE_GROUP_SERVICE, "ListLineGroups"),
    (LINE_GROUP_SERVICE, "GetLineGroup"),
)

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def open_inventory_channel(settings: GatewaySettings) -> grpc.aio.Channel:
    return make_channel(
        settings.inventory_target, default_timeout=settings.grpc_timeout_seconds, idempotent=IDEMPOTENT_METHODS
    )


class InventoryStubs:
    """The stubs on one channel, shared by all requests."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout
        self.lines = lines_pb2_grpc.LineServiceStub(channel)
        self.operations = operations_pb2_grpc.OperationServiceStub(channel)
        self.saved_filters = saved_filters_pb2_grpc.SavedFilterServiceStub(channel)
        self.line_groups = line_groups_pb2_grpc.LineGroupServiceStub(channel)

    def for_request(self, metadata: Metadata) -> Inventory:
        return Inventory(self, metadata)


class Inventory:
    """inventory as one request calls it: its metadata, the deadline."""

    def __init__(self, stubs: InventoryStubs, metadata: Metadata) -> None:
        self.lines = stubs.lines
        self.operations = stubs.operations
        self.saved_filters = stubs.saved_filters
        self.line_groups = stubs.line_groups
        self.metadata = metadata
        self._timeout = stubs.timeout

    async def call(self, method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req) -> Resp:
        return await method(request, timeout=self._timeout, metadata=self.metadata)
