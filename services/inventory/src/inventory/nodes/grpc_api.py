"""simfleet.inventory.v1.NodeHoldingsService: accounts, with its caller's access token, before deleting a node."""

from __future__ import annotations

from typing import Any

from inventory.nodes.service import NodeHoldings
from simfleet.inventory.v1 import nodes_pb2 as pb
from simfleet.inventory.v1 import nodes_pb2_grpc
from simfleet_runtime.authz import Authorizer

SERVICE_NAME = "simfleet.inventory.v1.NodeHoldingsService"


class NodeHoldingsApi(nodes_pb2_grpc.NodeHoldingsServiceServicer):
    def __init__(self, *, holdings: NodeHoldings, authorizer: Authorizer) -> None:
        self._holdings = holdings
        self._authz = authorizer

    async def GetNodeHoldings(self, request: pb.GetNodeHoldingsRequest, context: Any) -> pb.GetNodeHoldingsResponse:
        access = await self._authz.access()
        held = await self._holdings.holdings(access, request.node_id)
        return pb.GetNodeHoldingsResponse(lines=held.lines, operations=held.operations, items=held.items)
