"""simfleet.inventory.v1.LineService: a customer's own users, by their access token."""

from __future__ import annotations

from typing import Any

from inventory import convert
from inventory import metrics as m
from inventory.lines.service import READ, LineFilter, LineService
from simfleet.inventory.v1 import lines_pb2 as pb
from simfleet.inventory.v1 import lines_pb2_grpc
from simfleet_runtime.authz import Authorizer

SERVICE_NAME = "simfleet.inventory.v1.LineService"


class LineApi(lines_pb2_grpc.LineServiceServicer):
    def __init__(self, *, lines: LineService, authorizer: Authorizer) -> None:
        self._lines = lines
        self._authz = authorizer

    async def ListLines(self, request: pb.ListLinesRequest, context: Any) -> pb.ListLinesResponse:
        access = await self._authz.access()
        flt = LineFilter(
            node_id=request.node_id,
            states=[convert.LINE_STATE_NAMES.get(s, str(s)) for s in request.states],
            tariff_code=request.tariff_code,
            label=request.label,
            group=request.group,
            query=request.query,
            group_id=request.group_id,
        )
        lines, token = await self._lines.find(
            access, flt, page_size_=request.page_size, page_token=request.page_token, order_by=request.order_by
        )
        return convert.lines_page(lines, token)

    async def GetLine(self, request: pb.GetLineRequest, context: Any) -> pb.GetLineResponse:
        access = await self._authz.access()
        return pb.GetLineResponse(line=convert.line(await self._lines.line(access, request.msisdn, permission=READ)))

    async def GetPuk(self, request: pb.GetPukRequest, context: Any) -> pb.GetPukResponse:
        access = await self._authz.access()
        puk = await self._lines.puk(access, request.msisdn)
        m.PUK_READS.inc()
        return pb.GetPukResponse(msisdn=puk.msisdn, iccid=puk.iccid, puk1=puk.puk1, puk2=puk.puk2)

    async def GetLocation(self, request: pb.GetLocationRequest, context: Any) -> pb.GetLocationResponse:
        access = await self._authz.access()
        where = await self._lines.location(access, request.msisdn)
        return pb.GetLocationResponse(
            msisdn=where.msisdn,
            cell_id=where.cell_id,
            latitude=where.latitude,
            longitude=where.longitude,
            accuracy_m=where.accuracy_m,
            observed_at=where.observed_at,
        )

    async def ListFreeNumbers(self, request: pb.ListFreeNumbersRequest, context: Any) -> pb.ListFreeNumbersResponse:
        access = await self._authz.access()
        numbers = await self._lines.free_numbers(access, contains=request.contains, page_size_=request.page_size)
        return pb.ListFreeNumbersResponse(msisdns=numbers)

    async def ListReserveSims(self, request: pb.ListReserveSimsRequest, context: Any) -> pb.ListReserveSimsResponse:
        access = await self._authz.access()
        sims, token = await self._lines.reserve_sims(
            access, page_size_=request.page_size, page_token=request.page_token
        )
        return pb.ListReserveSimsResponse(sims=[convert.sim(s) for s in sims], next_page_token=token)
