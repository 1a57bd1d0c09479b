"""simfleet.billing.v1.PaymentService: top-ups and automatic payments, for the customer's users.

Paying and setting an automatic payment need ``billing:pay`` over the
personal account, reading ``billing:read``; an account outside the caller's
scope, or without a ledger account, is NOT_FOUND.
"""

from __future__ import annotations

from typing import Any

from billing import convert
from billing.ledger.models import LedgerAccount
from billing.ledger.service import LedgerService
from billing.payments.service import PaymentFilter, Payments
from simfleet.billing.v1 import payments_pb2 as pb
from simfleet.billing.v1 import payments_pb2_grpc
from simfleet_runtime.authz import Access, Authorizer
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.idempotency import checked_key
from simfleet_runtime.timestamps import to_datetime

SERVICE_NAME = "simfleet.billing.v1.PaymentService"
READ = "billing:read"
PAY = "billing:pay"
WHAT = "personal account"
IDEMPOTENCY_KEY_MAX = 128


class PaymentApi(payments_pb2_grpc.PaymentServiceServicer):
    def __init__(self, *, payments: Payments, ledger: LedgerService, authorizer: Authorizer) -> None:
        self._payments = payments
        self._ledger = ledger
        self._authz = authorizer

    async def _account(self, permission: str, node_id: str) -> tuple[Access, LedgerAccount]:
        access = await self._authz.require(permission, node_id, what=WHAT)
        return access, await self._ledger.personal_account(access.customer_id, node_id)

    async def Pay(self, request: pb.PayRequest, context: Any) -> pb.PayResponse:
        key = checked_key(request.idempotency_key, maximum=IDEMPOTENCY_KEY_MAX)
        access, account = await self._account(PAY, request.personal_account_id)
        payment, replayed = await self._payments.pay(
            account=account,
            user_id=access.user_id,
            amount=request.amount,
            currency=request.currency,
            card_token=request.card_token,
            key=key,
        )
        return pb.PayResponse(
            payment=convert.payment(payment),
            account=convert.account(await self._ledger.account(account.id)),
            replayed=replayed,
        )

    async def GetPayment(self, request: pb.GetPaymentRequest, context: Any) -> pb.GetPaymentResponse:
        _, account = await self._account(READ, request.personal_account_id)
        payment = await self._payments.get(account.personal_account_id, request.payment_id)
        return pb.GetPaymentResponse(payment=convert.payment(payment))

    async def ListPayments(self, request: pb.ListPaymentsRequest, context: Any) -> pb.ListPaymentsResponse:
        _, account = await self._account(READ, request.personal_account_id)
        unknown = {f"states[{i}]" for i, s in enumerate(request.states) if s not in convert.PAYMENT_STATE_NAMES}
        unknown |= {f"kinds[{i}]" for i, k in enumerate(request.kinds) if k not in convert.PAYMENT_KIND_NAMES}
        if unknown or request.amount_min < 0 or request.amount_max < 0:
            problems = dict.fromkeys(unknown, "not a known value")
            if request.amount_min < 0:
                problems["amount_min"] = "0 or more"
            if request.amount_max < 0:
                problems["amount_max"] = "0 or more"
            raise InvalidArgument("the filter is not valid", reason="INVALID_FILTER", field_violations=problems)
        flt = PaymentFilter(
            states=[convert.PAYMENT_STATE_NAMES[s] for s in request.states],
            kinds=[convert.PAYMENT_KIND_NAMES[k] for k in request.kinds],
            created_from=to_datetime(request.created_from) if request.HasField("created_from") else None,
            created_before=to_datetime(request.created_before) if request.HasField("created_before") else None,
            amount_min=request.amount_min,
            amount_max=request.amount_max,
        )
        found, token = await self._payments.list(
            account.personal_account_id, flt, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListPaymentsResponse(payments=[convert.payment(p) for p in found], next_page_token=token)

    async def GetAutoPayment(self, request: pb.GetAutoPaymentRequest, context: Any) -> pb.GetAutoPaymentResponse:
        _, account = await self._account(READ, request.personal_account_id)
        rule = await self._payments.auto_payment(account.personal_account_id)
        return pb.GetAutoPaymentResponse(auto_payment=None if rule is None else convert.auto_payment(rule))

    async def SetAutoPayment(self, request: pb.SetAutoPaymentRequest, context: Any) -> pb.SetAutoPaymentResponse:
        access, account = await self._account(PAY, request.personal_account_id)
        rule = await self._payments.set_auto_payment(
            account=account,
            threshold=request.threshold,
            amount=request.amount,
            currency=request.currency,
            card_token=request.card_token,
            daily_limit=request.daily_limit,
            set_by=access.user_id,
        )
        return pb.SetAutoPaymentResponse(auto_payment=convert.auto_payment(rule))

    async def DeleteAutoPayment(
        self, request: pb.DeleteAutoPaymentRequest, context: Any
    ) -> pb.DeleteAutoPaymentResponse:
        _, account = await self._account(PAY, request.personal_account_id)
        await self._payments.delete_auto_payment(account.personal_account_id)
        return pb.DeleteAutoPaymentResponse()
