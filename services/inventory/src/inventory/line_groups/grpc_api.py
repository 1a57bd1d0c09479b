"""simfleet.inventory.v1.LineGroupService: the groups of lines (AC-5) within the caller's scope."""

from __future__ import annotations

from typing import Any

from inventory.line_groups.service import GroupChange, GroupView, LineGroups
from simfleet.inventory.v1 import line_groups_pb2 as pb
from simfleet.inventory.v1 import line_groups_pb2_grpc
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.timestamps import timestamp

SERVICE_NAME = "simfleet.inventory.v1.LineGroupService"


def line_group(view: GroupView) -> pb.LineGroup:
    group = view.group
    return pb.LineGroup(
        id=group.id,
        name=group.name,
        icon=group.icon,
        colour=group.colour,
        node_id=view.node_id,
        line_count=view.line_count,
        created_at=timestamp(group.created_at),
        updated_at=timestamp(group.updated_at),
    )


class LineGroupApi(line_groups_pb2_grpc.LineGroupServiceServicer):
    def __init__(self, *, groups: LineGroups, authorizer: Authorizer) -> None:
        self._groups = groups
        self._authz = authorizer

    async def ListLineGroups(self, request: pb.ListLineGroupsRequest, context: Any) -> pb.ListLineGroupsResponse:
        access = await self._authz.access()
        found = await self._groups.list(access, for_node_id=request.for_node_id)
        return pb.ListLineGroupsResponse(groups=[line_group(g) for g in found])

    async def GetLineGroup(self, request: pb.GetLineGroupRequest, context: Any) -> pb.GetLineGroupResponse:
        access = await self._authz.access()
        return pb.GetLineGroupResponse(group=line_group(await self._groups.get(access, request.id)))

    async def CreateLineGroup(self, request: pb.CreateLineGroupRequest, context: Any) -> pb.CreateLineGroupResponse:
        access = await self._authz.access()
        made = await self._groups.create(
            access, node_id=request.node_id, name=request.name, icon=request.icon, colour=request.colour
        )
        return pb.CreateLineGroupResponse(group=line_group(made))

    async def UpdateLineGroup(self, request: pb.UpdateLineGroupRequest, context: Any) -> pb.UpdateLineGroupResponse:
        access = await self._authz.access()
        change = GroupChange(name=request.name or None, icon=request.icon or None, colour=request.colour or None)
        return pb.UpdateLineGroupResponse(group=line_group(await self._groups.update(access, request.id, change)))

    async def DeleteLineGroup(self, request: pb.DeleteLineGroupRequest, context: Any) -> pb.DeleteLineGroupResponse:
        access = await self._authz.access()
        return pb.DeleteLineGroupResponse(lines_cleared=await self._groups.delete(access, request.id))
