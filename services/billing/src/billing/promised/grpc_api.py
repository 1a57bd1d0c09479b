"""simfleet.billing.v1.PromisedPaymentService: promised payments (BI-9), for the customer's users.

Taking and repaying need ``billing:pay`` over the personal account (for a
line: its personal account; for a group: each personal account under the
node), reading ``billing:read``; an account outside the caller's scope, or
without a ledger account, is NOT_FOUND.
"""

from __future__ import annotations

from typing import Any

from billing import convert, money
from billing.ledger.models import LedgerAccount
from billing.ledger.service import LedgerService
from billing.promised.models import OPEN, REPAID, PromisedPayment
from billing.promised.service import PromisedPayments
from simfleet.billing.v1 import promised_pb2 as pb
from simfleet.billing.v1 import promised_pb2_grpc
from simfleet_runtime.authz import Access, Authorizer, not_found
from simfleet_runtime.errors import DomainError, InvalidArgument
from simfleet_runtime.idempotency import checked_key
from simfleet_runtime.timestamps import optional_timestamp, timestamp
from simfleet_runtime.validation import is_e164

SERVICE_NAME = "simfleet.billing.v1.PromisedPaymentService"
READ = "billing:read"
PAY = "billing:pay"
WHAT = "personal account"
IDEMPOTENCY_KEY_MAX = 128
STATUSES = {OPEN: pb.PROMISED_PAYMENT_STATUS_OPEN, REPAID: pb.PROMISED_PAYMENT_STATUS_REPAID}


def _amount_per_currency(held: list[str]) -> InvalidArgument:
    named = ", ".join(held)
    return InvalidArgument(
        f"the personal accounts under the node hold {named}: give an amount for each currency (amounts)",
        reason="AMOUNT_PER_CURRENCY",
        field_violations={"amounts": f"an amount for each of {named}"},
        metadata={"currencies": ",".join(held)},
    )


def promised(value: PromisedPayment) -> pb.PromisedPayment:
    return pb.PromisedPayment(
        id=value.id,
        personal_account_id=value.personal_account_id,
        amount=convert.amount(value.amount, value.currency),
        status=STATUSES[value.status],
        taken_by=value.taken_by,
        taken_at=timestamp(value.taken_at),
        due_at=timestamp(value.due_at),
        repaid_at=optional_timestamp(value.repaid_at),
        repaid_by=value.repaid_by,
        entry_id=value.entry_id,
        repay_entry_id=value.repay_entry_id or "",
    )


class PromisedPaymentApi(promised_pb2_grpc.PromisedPaymentServiceServicer):
    def __init__(self, *, promised: PromisedPayments, ledger: LedgerService, authorizer: Authorizer) -> None:
        self._promised = promised
        self._ledger = ledger
        self._authz = authorizer

    async def _account(self, permission: str, node_id: str) -> tuple[Access, LedgerAccount]:
        access = await self._authz.require(permission, node_id, what=WHAT)
        return access, await self._ledger.personal_account(access.customer_id, node_id)

    async def _take(
        self, access: Access, account: LedgerAccount, amount: int, key: str
    ) -> pb.TakePromisedPaymentResponse:
        taken, replayed = await self._promised.take(account=account, user_id=access.user_id, amount=amount, key=key)
        return pb.TakePromisedPaymentResponse(
            promised_payment=promised(taken),
            account=convert.account(await self._ledger.account(account.id)),
            replayed=replayed,
        )

    async def TakePromisedPayment(
        self, request: pb.TakePromisedPaymentRequest, context: Any
    ) -> pb.TakePromisedPaymentResponse:
        key = checked_key(request.idempotency_key, maximum=IDEMPOTENCY_KEY_MAX)
        access, account = await self._account(PAY, request.personal_account_id)
        return await self._take(access, account, request.amount, key)

    async def TakeLinePromisedPayment(
        self, request: pb.TakeLinePromisedPaymentRequest, context: Any
    ) -> pb.TakeLinePromisedPaymentResponse:
        key = checked_key(request.idempotency_key, maximum=IDEMPOTENCY_KEY_MAX)
        access = await self._authz.access()
        # A forged number is nothing: no query is made for it.
        line = await self._promised.line(access.customer_id, request.msisdn) if is_e164(request.msisdn) else None
        if line is None:
            raise not_found("line")
        # billing:pay over the line and over the personal account it is billed to (which it takes the credit).
        access.check(PAY, await self._authz.path(access, line.node_id), what="line")
        access.check(PAY, await self._authz.path(access, line.personal_account_id), what=WHAT)
        self._promised.check_amount(request.amount)
        account = await self._ledger.personal_account(access.customer_id, line.personal_account_id)
        taken = await self._take(access, account, request.amount, key)
        return pb.TakeLinePromisedPaymentResponse(
            promised_payment=taken.promised_payment, account=taken.account, replayed=taken.replayed
        )

    async def TakeGroupPromisedPayments(
        self, request: pb.TakeGroupPromisedPaymentsRequest, context: Any
    ) -> pb.TakeGroupPromisedPaymentsResponse:
        key = checked_key(request.idempotency_key, maximum=IDEMPOTENCY_KEY_MAX)
        access = await self._authz.require(PAY, request.node_id, what="node")
        amounts = self._group_amounts(request)
        accounts = await self._promised.personal_accounts_under(access.customer_id, request.node_id)
        held = sorted({account.currency for account in accounts})
        if (amounts is None and len(held) > 1) or (amounts is not None and not set(held) <= amounts.keys()):
            raise _amount_per_currency(held)
        answer = pb.TakeGroupPromisedPaymentsResponse()
        # billing:pay over the node holds over every node under it.
        for account in accounts:
            try:
                taken, _ = await self._promised.take(
                    account=account,
                    user_id=access.user_id,
                    amount=request.amount if amounts is None else amounts[account.currency],
                    key=key,
                    group_key=account.personal_account_id if key else "",
                )
            except DomainError as refused:
                if refused.field_violations:  # the request itself is wrong: it is wrong for every account
                    raise
                answer.refused.append(
                    pb.GroupRefusal(
                        personal_account_id=account.personal_account_id, reason=refused.reason, message=refused.message
                    )
                )
            else:
                answer.taken.append(promised(taken))
        return answer

    def _group_amounts(self, request: pb.TakeGroupPromisedPaymentsRequest) -> dict[str, int] | None:
        """The amount of each currency asked for (None: the one ``amount`` for every account), checked."""
        if not request.amounts:
            self._promised.check_amount(request.amount)
            return None
        if request.amount:
            raise InvalidArgument(
                "give one amount or an amount per currency, not both",
                field_violations={"amount": "not with amounts"},
            )
        for code, amount in request.amounts.items():
            money.currency(code, field=f"amounts.{code}")
            self._promised.check_amount(amount, field=f"amounts.{code}")
        return dict(request.amounts)

    async def RepayPromisedPayment(
        self, request: pb.RepayPromisedPaymentRequest, context: Any
    ) -> pb.RepayPromisedPaymentResponse:
        _, account = await self._account(PAY, request.personal_account_id)
        await self._promised.get(account.id, request.promised_payment_id)
        await self._promised.repay(request.promised_payment_id)
        return pb.RepayPromisedPaymentResponse(
            promised_payment=promised(await self._promised.get(account.id, request.promised_payment_id)),
            account=convert.account(await self._ledger.account(account.id)),
        )

    async def GetPromisedPayment(
        self, request: pb.GetPromisedPaymentRequest, context: Any
    ) -> pb.GetPromisedPaymentResponse:
        _, account = await self._account(READ, request.personal_account_id)
        return pb.GetPromisedPaymentResponse(
            promised_payment=promised(await self._promised.get(account.id, request.promised_payment_id))
        )

    async def ListPromisedPayments(
        self, request: pb.ListPromisedPaymentsRequest, context: Any
    ) -> pb.ListPromisedPaymentsResponse:
        _, account = await self._account(READ, request.personal_account_id)
        found, token = await self._promised.list(account.id, page_size=request.page_size, page_token=request.page_token)
        return pb.ListPromisedPaymentsResponse(promised_payments=[promised(p) for p in found], next_page_token=token)
