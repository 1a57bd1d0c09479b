"""simfleet.billing.v1.SettlementMethodService: a personal account's settlement method, for the customer's users.

The customer chooses the method and its date; the credit limit is the
operator's (BillingAdminService): a change made here keeps the account's
current limit, and none for prepaid. Reading needs ``billing:read`` over the
personal account, changing ``billing:pay``; outside the scope: NOT_FOUND.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from billing import convert
from billing.ledger.models import PREPAID, LedgerAccount
from billing.ledger.service import LedgerService
from billing.settlement.service import Change, SettlementService
from simfleet.billing.v1 import settlement_pb2 as pb
from simfleet.billing.v1 import settlement_pb2_grpc
from simfleet_runtime.authz import Access, Authorizer
from simfleet_runtime.clock import Clock
from simfleet_runtime.errors import InvalidArgument

SERVICE_NAME = "simfleet.billing.v1.SettlementMethodService"
READ = "billing:read"
PAY = "billing:pay"
WHAT = "personal account"


def effective_at(text: str, now: datetime) -> datetime | None:
    """The start (UTC) of the date ``text`` (YYYY-MM-DD); None for "" or today (now); a past date is refused."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
        if len(text) != 10:
            raise ValueError(text)
    except ValueError:
        raise InvalidArgument(
            "effective_from is a date, YYYY-MM-DD",
            reason="INVALID_SETTLEMENT",
            field_violations={"effective_from": "a date, YYYY-MM-DD"},
        ) from None
    today = now.astimezone(UTC).date()
    if day < today:
        raise InvalidArgument(
            "a settlement change cannot take effect in the past",
            reason="INVALID_SETTLEMENT",
            field_violations={"effective_from": "today or later"},
        )
    return None if day == today else datetime.combine(day, time(), tzinfo=UTC)


class SettlementMethodApi(settlement_pb2_grpc.SettlementMethodServiceServicer):
    def __init__(
        self, *, ledger: LedgerService, settlement: SettlementService, authorizer: Authorizer, clock: Clock
    ) -> None:
        self._ledger = ledger
        self._settlement = settlement
        self._authz = authorizer
        self._clock = clock

    async def _account(self, permission: str, node_id: str) -> tuple[Access, LedgerAccount]:
        access = await self._authz.require(permission, node_id, what=WHAT)
        return access, await self._ledger.personal_account(access.customer_id, node_id)

    async def GetSettlementMethod(
        self, request: pb.GetSettlementMethodRequest, context: Any
    ) -> pb.GetSettlementMethodResponse:
        _, account = await self._account(READ, request.personal_account_id)
        history, token = await self._settlement.history(
            account.id, page_size=request.page_size, page_token=request.page_token
        )
        return pb.GetSettlementMethodResponse(
            account=convert.account(account, await self._settlement.scheduled(account.id)),
            history=[convert.change(c, account.currency) for c in history],
            next_page_token=token,
        )

    async def ChangeMySettlementMethod(
        self, request: pb.ChangeMySettlementMethodRequest, context: Any
    ) -> pb.ChangeMySettlementMethodResponse:
        access, account = await self._account(PAY, request.personal_account_id)
        if request.method not in convert.METHOD_NAMES or not request.method:
            raise InvalidArgument(
                "the settlement method is prepaid, postpaid or credit",
                reason="INVALID_SETTLEMENT",
                field_violations={"method": "prepaid, postpaid or credit"},
            )
        method = convert.METHOD_NAMES[request.method]
        when = effective_at(request.effective_from, self._clock.now())
        limit = 0 if method == PREPAID else account.credit_limit
        try:
            change, changed = await self._settlement.change(
                Change(account.id, method, limit, when, "asked for by the customer"), actor=access.user_id
            )
        except InvalidArgument as refused:  # named as this request's fields
            violations = {
                "effective_from" if name == "effective_at" else name: text
                for name, text in refused.field_violations.items()
            }
            raise InvalidArgument(refused.message, reason=refused.reason, field_violations=violations) from refused
        return pb.ChangeMySettlementMethodResponse(
            change=convert.change(change, changed.currency),
            account=convert.account(changed, await self._settlement.scheduled(account.id)),
        )
