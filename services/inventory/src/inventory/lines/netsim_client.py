"""Where a line's handset is: asked of the network (netsim's HLR service) over gRPC."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from inventory.lines.service import Location
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_runtime.errors import NotFound, Unavailable


class NetsimClient:
    def __init__(self, channel: Callable[[], grpc.aio.Channel], *, timeout: float) -> None:
        self._channel = channel
        self._timeout = timeout

    async def locate(self, msisdn: str) -> Location:
        stub = hlr_pb2_grpc.HlrServiceStub(self._channel())
        try:
            answer: hlr_pb2.GetLocationResponse = await stub.GetLocation(
                hlr_pb2.GetLocationRequest(msisdn=msisdn), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound("the network does not see this line now", reason="LOCATION_UNKNOWN") from exc
            raise Unavailable("the network did not answer; try again", reason="NETWORK_UNAVAILABLE") from exc
        return Location(
            msisdn=answer.msisdn,
            cell_id=answer.cell_id,
            latitude=answer.latitude,
            longitude=answer.longitude,
            accuracy_m=answer.accuracy_m,
            observed_at=answer.observed_at,
        )
