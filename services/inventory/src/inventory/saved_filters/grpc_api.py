"""simfleet.inventory.v1.SavedFilterService: a user's own saved filters of lines, by their access token."""

from __future__ import annotations

from typing import Any

from inventory import convert
from inventory.saved_filters.models import SavedFilter
from inventory.saved_filters.service import NewFilter, SavedFilters
from simfleet.inventory.v1 import saved_filters_pb2 as pb
from simfleet.inventory.v1 import saved_filters_pb2_grpc
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.timestamps import timestamp

SERVICE_NAME = "simfleet.inventory.v1.SavedFilterService"


def saved_filter(value: SavedFilter) -> pb.SavedFilter:
    return pb.SavedFilter(
        id=value.id,
        name=value.name,
        node_id=value.node_id,
        states=[convert.LINE_STATES[s] for s in value.states],
        tariff_code=value.tariff_code,
        label=value.label,
        group=value.group_name,
        created_at=timestamp(value.created_at),
    )


def _states(values: Any) -> list[str]:
    names = []
    for value in values:
        name = convert.LINE_STATE_NAMES.get(value)
        if name is None:
            raise InvalidArgument(
                f"unknown line state {value}", reason="INVALID_STATE", field_violations={"states": str(value)}
            )
        names.append(name)
    return names


class SavedFilterApi(saved_filters_pb2_grpc.SavedFilterServiceServicer):
    def __init__(self, *, filters: SavedFilters, authorizer: Authorizer) -> None:
        self._filters = filters
        self._authz = authorizer

    async def ListSavedFilters(self, request: pb.ListSavedFiltersRequest, context: Any) -> pb.ListSavedFiltersResponse:
        access = await self._authz.access()
        return pb.ListSavedFiltersResponse(filters=[saved_filter(f) for f in await self._filters.list(access)])

    async def CreateSavedFilter(
        self, request: pb.CreateSavedFilterRequest, context: Any
    ) -> pb.CreateSavedFilterResponse:
        access = await self._authz.access()
        given = request.filter
        new = NewFilter(
            name=given.name,
            node_id=given.node_id,
            states=_states(given.states),
            tariff_code=given.tariff_code,
            label=given.label,
            group=given.group,
        )
        return pb.CreateSavedFilterResponse(filter=saved_filter(await self._filters.create(access, new)))

    async def DeleteSavedFilter(
        self, request: pb.DeleteSavedFilterRequest, context: Any
    ) -> pb.DeleteSavedFilterResponse:
        access = await self._authz.access()
        await self._filters.delete(access, request.id)
        return pb.DeleteSavedFilterResponse()
