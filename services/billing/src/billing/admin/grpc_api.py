"""simfleet.billing.v1.BillingAdminService: the operator's side of the ledger.

Accounts and settlement: operator staff's access token with the operator
permission (``customers:onboard`` to change, ``customers:read`` to read), or
the operator key (``BILLING_OPERATOR_KEY``) of the platform's automation.
Entries move money: the operator key only, so no person moves money by a
token; a staff token gets PERMISSION_DENIED ``OPERATOR_KEY_REQUIRED``.
"""

from __future__ import annotations

from typing import Any

from billing import convert
from billing.ledger.service import LedgerService, Leg, NewAccount, NewEntry
from billing.rating.service import Rater
from billing.settlement.service import Change, SettlementService
from simfleet.billing.v1 import admin_pb2 as pb
from simfleet.billing.v1 import admin_pb2_grpc
from simfleet_runtime.auth import require_operator_key
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.clock import as_utc
from simfleet_runtime.context import current_call
from simfleet_runtime.errors import PermissionDenied

SERVICE_NAME = "simfleet.billing.v1.BillingAdminService"
ONBOARD = "customers:onboard"
READ = "customers:read"


class AdminApi(admin_pb2_grpc.BillingAdminServiceServicer):
    def __init__(
        self,
        *,
        ledger: LedgerService,
        settlement: SettlementService,
        rater: Rater,
        operator_key: str,
        authorizer: Authorizer,
    ) -> None:
        self._rater = rater
        self._ledger = ledger
        self._settlement = settlement
        self._operator_key = operator_key
        self._authz = authorizer

    async def _require_operator(self, permission: str) -> str:
        """Who acts: the staff member's user id, or ``operator`` for the key."""
        return await self._authz.operator_or_key(permission, self._operator_key)

    def _require_key(self) -> None:
        call = current_call()
        if call.bearer_token and not call.operator_key:
            raise PermissionDenied(
                "entries are posted by the platform's automation with the operator key", reason="OPERATOR_KEY_REQUIRED"
            )
        require_operator_key(self._operator_key)

    async def OpenAccount(self, request: pb.OpenAccountRequest, context: Any) -> pb.OpenAccountResponse:
        await self._require_operator(ONBOARD)
        account = await self._ledger.open_account(
            NewAccount(
                kind=convert.kind(request.kind),
                currency=request.currency,
                customer_id=request.customer_id,
                personal_account_id=request.personal_account_id,
                settlement_method=convert.method(request.settlement_method),
                credit_limit=request.credit_limit,
                bill_email=request.bill_email,
            )
        )
        return pb.OpenAccountResponse(account=convert.account(account))

    async def GetAccount(self, request: pb.GetAccountRequest, context: Any) -> pb.GetAccountResponse:
        await self._require_operator(READ)
        account = await self._ledger.account(request.account_id)
        return pb.GetAccountResponse(account=convert.account(account, await self._settlement.scheduled(account.id)))

    async def PostEntry(self, request: pb.PostEntryRequest, context: Any) -> pb.PostEntryResponse:
        self._require_key()
        recorded = await self._ledger.post(
            NewEntry(
                id=request.entry_id,
                kind=request.kind,
                currency=request.currency,
                legs=tuple(Leg(leg.account_id, convert.side(leg.side), leg.amount) for leg in request.legs),
                description=request.description,
                pending=request.pending,
                pending_timeout_seconds=request.pending_timeout_seconds,
            )
        )
        return pb.PostEntryResponse(entry=convert.entry(recorded.entry, recorded.postings), replayed=recorded.replayed)

    async def PostPendingEntry(self, request: pb.PostPendingEntryRequest, context: Any) -> pb.PostPendingEntryResponse:
        self._require_key()
        recorded = await self._ledger.post_pending(request.entry_id)
        return pb.PostPendingEntryResponse(entry=convert.entry(recorded.entry, recorded.postings))

    async def VoidPendingEntry(self, request: pb.VoidPendingEntryRequest, context: Any) -> pb.VoidPendingEntryResponse:
        self._require_key()
        recorded = await self._ledger.void_pending(request.entry_id)
        return pb.VoidPendingEntryResponse(entry=convert.entry(recorded.entry, recorded.postings))

    async def ChangeSettlementMethod(
        self, request: pb.ChangeSettlementMethodRequest, context: Any
    ) -> pb.ChangeSettlementMethodResponse:
        actor = await self._require_operator(ONBOARD)
        change, account = await self._settlement.change(
            Change(
                account_id=request.account_id,
                method=convert.method(request.method),
                credit_limit=request.credit_limit,
                effective_at=as_utc(request.effective_at.ToDatetime()) if request.HasField("effective_at") else None,
                note=request.note,
            ),
            actor=actor,
        )
        return pb.ChangeSettlementMethodResponse(
            change=convert.change(change, account.currency),
            account=convert.account(account, await self._settlement.scheduled(account.id)),
        )

    async def ListSettlementChanges(
        self, request: pb.ListSettlementChangesRequest, context: Any
    ) -> pb.ListSettlementChangesResponse:
        await self._require_operator(READ)
        account = await self._ledger.account(request.account_id)
        changes, token = await self._settlement.history(
            request.account_id, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListSettlementChangesResponse(
            changes=[convert.change(c, account.currency) for c in changes], next_page_token=token
        )

    async def ListRejectedUsage(
        self, request: pb.ListRejectedUsageRequest, context: Any
    ) -> pb.ListRejectedUsageResponse:
        await self._require_operator(READ)
        rows, token = await self._rater.rejected(page_size=request.page_size, page_token=request.page_token)
        return pb.ListRejectedUsageResponse(records=[convert.rated_usage(row) for row in rows], next_page_token=token)
