"""simfleet.billing.v1.LedgerService: the customer's users, by their access token.

A personal account is addressed by its node id and checked against the
caller's grants in billing's copy of the tree: outside the scope it is
NOT_FOUND, as one without a ledger account is.
"""

from __future__ import annotations

import hashlib
from typing import Any

from billing import convert
from billing.ledger.models import LedgerAccount
from billing.ledger.service import CREDIT, DEBIT, LedgerService, Leg, NewEntry
from billing.settlement.service import SettlementService
from billing.statements.service import Figures, Period, Statements
from simfleet.billing.v1 import ledger_pb2 as pb
from simfleet.billing.v1 import ledger_pb2_grpc
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.idempotency import checked_key
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp

SERVICE_NAME = "simfleet.billing.v1.LedgerService"
IDEMPOTENCY_KEY_MAX = 128
READ = "billing:read"
PAY = "billing:pay"
WHAT = "personal account"


class LedgerApi(ledger_pb2_grpc.LedgerServiceServicer):
    def __init__(
        self, *, ledger: LedgerService, settlement: SettlementService, statements: Statements, authorizer: Authorizer
    ) -> None:
        self._ledger = ledger
        self._settlement = settlement
        self._statements = statements
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

    async def Transfer(self, request: pb.TransferRequest, context: Any) -> pb.TransferResponse:
        key = checked_key(request.idempotency_key, maximum=IDEMPOTENCY_KEY_MAX)
        if request.from_personal_account_id == request.to_personal_account_id:
            raise InvalidArgument(
                "money moves between two different personal accounts",
                reason="SAME_ACCOUNT",
                field_violations={"to_personal_account_id": "another personal account than the source"},
            )
        access = await self._authz.require(PAY, request.from_personal_account_id, what=WHAT)
        await self._authz.require(PAY, request.to_personal_account_id, what=WHAT)
        source = await self._ledger.personal_account(access.customer_id, request.from_personal_account_id)
        target = await self._ledger.personal_account(access.customer_id, request.to_personal_account_id)
        entry_id = transfer_id(access.customer_id, access.user_id, key)
        try:
            recorded = await self._ledger.post(
                NewEntry(
                    id=entry_id,
                    kind="transfer",
                    currency=request.currency,
                    description=request.description,
                    legs=(
                        Leg(source.id, DEBIT, request.amount),
                        Leg(target.id, CREDIT, request.amount),
                    ),
                )
            )
        except InvalidArgument as refused:
            raise _as_transfer_fields(refused) from refused
        return pb.TransferResponse(
            entry_id=recorded.entry.id,
            from_account=convert.account(await self._ledger.account(source.id)),
            to_account=convert.account(await self._ledger.account(target.id)),
            amount=convert.amount(request.amount, recorded.entry.currency),
            description=recorded.entry.description,
            posted_at=timestamp(recorded.entry.created_at),
            replayed=recorded.replayed,
        )

    async def GetStatement(self, request: pb.GetStatementRequest, context: Any) -> pb.GetStatementResponse:
        period = self._statements.period(request.period)
        account = await self._account(READ, request.personal_account_id)
        figures = (await self._statements.of_accounts([(account.id, account.currency)], period))[account.id]
        return pb.GetStatementResponse(
            personal_account_id=account.personal_account_id,
            period=period.name,
            period_start=timestamp(period.start),
            period_end=timestamp(period.end),
            open=period.open,
            figures=_figures(figures),
        )

    async def GetNodeFinances(self, request: pb.GetNodeFinancesRequest, context: Any) -> pb.GetNodeFinancesResponse:
        period: Period = self._statements.period(request.period)
        access = await self._authz.require(READ, request.node_id, what="node")
        totals = await self._statements.of_node(access.customer_id, request.node_id, period)
        return pb.GetNodeFinancesResponse(
            node_id=request.node_id,
            period=period.name,
            period_start=timestamp(period.start),
            period_end=timestamp(period.end),
            open=period.open,
            totals=[_figures(total) for total in totals],
        )

    async def SetBillDelivery(self, request: pb.SetBillDeliveryRequest, context: Any) -> pb.SetBillDeliveryResponse:
        account = await self._account(PAY, request.personal_account_id)
        changed = await self._settlement.set_bill_email(account.id, request.email)
        return pb.SetBillDeliveryResponse(
            account=convert.account(changed, await self._settlement.scheduled(account.id))
        )


def _figures(value: Figures) -> pb.PeriodFigures:
    def money(amount: int) -> pb.Money:
        return convert.amount(amount, value.currency)

    return pb.PeriodFigures(
        currency=value.currency,
        opening_balance=money(value.opening_balance),
        closing_balance=money(value.closing_balance),
        postings_count=value.postings_count,
        personal_accounts=value.personal_accounts,
        **{name: money(amount) for name, amount in value.movements.items()},
    )


def transfer_id(customer_id: str, user_id: str, key: str) -> str:
    """The entry id of a transfer: the caller's idempotency key, scoped to them (hashed to fit), or a new one."""
    if not key:
        return f"transfer:{new_id()}"
    digest = hashlib.sha256(f"{customer_id}\x1f{user_id}\x1f{key}".encode()).hexdigest()
    return f"transfer:{digest[:48]}"


_TRANSFER_FIELDS = {
    "entry_id": "idempotency_key",
    "legs[0].amount": "amount",
    "legs[1].amount": "amount",
    "legs[0].account_id": "from_personal_account_id",
    "legs[1].account_id": "to_personal_account_id",
}


def _as_transfer_fields(refused: InvalidArgument) -> InvalidArgument:
    """The ledger's findings on the entry, named as the transfer's fields."""
    violations = {_TRANSFER_FIELDS.get(name, name): text for name, text in refused.field_violations.items()}
    return InvalidArgument(refused.message, reason=refused.reason, field_violations=violations)
