"""simfleet.accounts.v1.HierarchyService: the customer's own users, by their access token."""

from __future__ import annotations

from typing import Any

from accounts import convert
from accounts.hierarchy.service import HierarchyService
from simfleet.accounts.v1 import hierarchy_pb2 as pb
from simfleet.accounts.v1 import hierarchy_pb2_grpc
from simfleet_runtime.authz import Authorizer

SERVICE_NAME = "simfleet.accounts.v1.HierarchyService"


class HierarchyApi(hierarchy_pb2_grpc.HierarchyServiceServicer):
    def __init__(self, *, hierarchy: HierarchyService, authorizer: Authorizer) -> None:
        self._hierarchy = hierarchy
        self._authz = authorizer

    async def ListNodes(self, request: pb.ListNodesRequest, context: Any) -> pb.ListNodesResponse:
        access = await self._authz.access()
        nodes, token = await self._hierarchy.find(
            access,
            root_id=request.root_id,
            parent_id=request.parent_id,
            kinds=[convert.kind(k) for k in request.kinds],
            name_contains=request.name_contains,
            page_size=request.page_size,
            page_token=request.page_token,
            order_by=request.order_by,
        )
        return pb.ListNodesResponse(nodes=[convert.node(n) for n in nodes], next_page_token=token)

    async def GetNode(self, request: pb.GetNodeRequest, context: Any) -> pb.GetNodeResponse:
        access = await self._authz.access()
        return pb.GetNodeResponse(node=convert.node(await self._hierarchy.get(access, request.node_id)))

    async def CreateNode(self, request: pb.CreateNodeRequest, context: Any) -> pb.CreateNodeResponse:
        access = await self._authz.access()
        node = await self._hierarchy.create(
            access, parent_id=request.parent_id, kind=convert.kind(request.kind), name=request.name
        )
        return pb.CreateNodeResponse(node=convert.node(node))

    async def RenameNode(self, request: pb.RenameNodeRequest, context: Any) -> pb.RenameNodeResponse:
        access = await self._authz.access()
        node = await self._hierarchy.rename(access, node_id=request.node_id, name=request.name)
        return pb.RenameNodeResponse(node=convert.node(node))

    async def MoveNode(self, request: pb.MoveNodeRequest, context: Any) -> pb.MoveNodeResponse:
        access = await self._authz.access()
        node, moved = await self._hierarchy.move(access, node_id=request.node_id, new_parent_id=request.new_parent_id)
        return pb.MoveNodeResponse(node=convert.node(node), moved_nodes=moved)

    async def DeleteNode(self, request: pb.DeleteNodeRequest, context: Any) -> pb.DeleteNodeResponse:
        access = await self._authz.access()
        await self._hierarchy.delete(access, node_id=request.node_id)
        return pb.DeleteNodeResponse()

    async def GetNodeSummary(self, request: pb.GetNodeSummaryRequest, context: Any) -> pb.GetNodeSummaryResponse:
        access = await self._authz.access()
        return convert.summary(await self._hierarchy.summary(access, request.node_id))
