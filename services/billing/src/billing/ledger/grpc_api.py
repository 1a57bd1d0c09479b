"""simfleet.billing.v1.LedgerService: the customer's users, by their access token.

A personal account is addressed by its node id and checked against the
caller's grants in billing's copy of the tree: outside the scope it is
NOT_FOUND, as one without a ledger account is.
"""

from __future__ import annotations

from typing import Any

from billing import convert
from billing.ledger.models import LedgerAccount
from billing.ledger.service import LedgerService
from billing.settlement.service import SettlementService
from simfleet.billing.v1 import ledger_pb2 as pb
from simfleet.billing.v1 import ledger_pb2_grpc
from simfleet_runtime.authz import Authorizer

SERVICE_NAME = "simfleet.billing.v1.LedgerService"
READ = "billing:read"
PAY = "billing:pay"
WHAT = "personal account"


class LedgerApi(ledger_pb2_grpc.LedgerServiceServicer):
    def __init__(self, *, ledger: LedgerService, settlement: SettlementService, authorizer: Authorizer) -> None:
        self._ledger = ledger
        self._settlement = settlement
        self._authz = authorizer

    async def _account(self, permission: str, node_id: str) -> LedgerAccount:
        access = await self._authz.require(permission, node_id, what=WHAT)
        return await self._ledger.personal_account(access.customer_id, node_id)

    async def GetBalance(self, request: pb.GetBalanceRequest, context: Any) -> pb.GetBalanceResponse:
        account = await self._account(READ, request.personal_account_id)
        scheduled = await self._settlement.scheduled(account.id)
        return pb.GetBalanceResponse(account=convert.account(account, scheduled))

    async def ListPostings(self, request: pb.ListPostingsRequest, context: Any) -> pb.ListPostingsResponse:
        account = await self._account(READ, request.personal_account_id)
        lines, token = await self._ledger.postings(
            account, page_size=request.page_size, page_token=request.page_token, order_by=request.order_by
        )
        return pb.ListPostingsResponse(postings=[convert.posting(line) for line in lines], next_page_token=token)

    async def SetBillDelivery(self, request: pb.SetBillDeliveryRequest, context: Any) -> pb.SetBillDeliveryResponse:
        account = await self._account(PAY, request.personal_account_id)
        changed = await self._settlement.set_bill_email(account.id, request.email)
        return pb.SetBillDeliveryResponse(
            account=convert.account(changed, await self._settlement.scheduled(account.id))
        )
