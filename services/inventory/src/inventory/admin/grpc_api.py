"""simfleet.inventory.v1.InventoryAdminService: the back-office.

Operator staff call with their access token (operator permission
``customers:onboard``); platform automation (the local seed, migrations) may
present the operator key (``INVENTORY_OPERATOR_KEY``) instead.
"""

from __future__ import annotations

from typing import Any

from inventory import convert
from inventory.admin.service import BackOffice, ImportedLine
from inventory.stock.service import StockSim
from simfleet.inventory.v1 import admin_pb2 as pb
from simfleet.inventory.v1 import admin_pb2_grpc
from simfleet_runtime.auth import require_operator_key
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.context import current_call
from simfleet_runtime.errors import Unauthenticated

SERVICE_NAME = "simfleet.inventory.v1.InventoryAdminService"
ONBOARD = "customers:onboard"


def _sim(value: pb.StockSim) -> StockSim:
    return StockSim(value.iccid, value.imsi, value.puk1, value.puk2)


class AdminApi(admin_pb2_grpc.InventoryAdminServiceServicer):
    def __init__(self, *, office: BackOffice, operator_key: str, authorizer: Authorizer) -> None:
        self._office = office
        self._operator_key = operator_key
        self._authz = authorizer

    async def _require_operator(self) -> None:
        call = current_call()
        if call.bearer_token:
            await self._authz.operator(ONBOARD)
        elif call.operator_key:
            require_operator_key(self._operator_key)
        else:
            raise Unauthenticated("an operator's access token is required", reason="TOKEN_MISSING")

    async def ImportStock(self, request: pb.ImportStockRequest, context: Any) -> pb.ImportStockResponse:
        await self._require_operator()
        sims, numbers = await self._office.import_stock(
            customer_id=request.customer_id, sims=[_sim(s) for s in request.sims], msisdns=list(request.msisdns)
        )
        return pb.ImportStockResponse(sims_added=sims, numbers_added=numbers)

    async def ImportLines(self, request: pb.ImportLinesRequest, context: Any) -> pb.ImportLinesResponse:
        await self._require_operator()
        added = await self._office.import_lines(
            customer_id=request.customer_id,
            lines=[
                ImportedLine(
                    msisdn=line.msisdn,
                    sim=_sim(line.sim),
                    node_id=line.node_id,
                    personal_account_id=line.personal_account_id,
                    tariff_code=line.tariff_code,
                    state=convert.LINE_STATE_NAMES.get(line.state, ""),
                    block_type=line.block_type,
                    services=list(line.services),
                    labels=list(line.labels),
                    group=line.group,
                )
                for line in request.lines
            ],
        )
        return pb.ImportLinesResponse(lines_added=added)
