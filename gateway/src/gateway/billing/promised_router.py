"""Promised payments (BI-9) and the settlement method (BI-13) of personal accounts.

Answered by billing, which verifies the access token: taking and repaying a
promised payment and changing the settlement method need ``billing:pay`` over
the personal account, reading ``billing:read``; an account outside the
caller's scope is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from gateway.billing.money import locale_of
from gateway.billing.promised_schemas import (
    METHODS,
    GroupPromisedPaymentRequest,
    GroupPromisedPayments,
    GroupRefusal,
    PromisedPaymentRequest,
    PromisedPaymentResponse,
    PromisedPaymentsPage,
    SettlementChangeResponse,
    SettlementMethodChanged,
    SettlementMethodRequest,
    SettlementMethodResponse,
    TakenPromisedPayment,
)
from gateway.billing.schemas import BalanceResponse
from gateway.deps import SignedInBilling
from gateway.lines.schemas import MSISDN_PATTERN
from gateway.openapi import sends
from gateway.problems import problem_responses
from gateway.upstream.errors import fields_named
from simfleet.billing.v1 import promised_pb2 as pb
from simfleet.billing.v1 import settlement_pb2 as spb

router = APIRouter(tags=["billing"])

AccountIdPath = Annotated[str, Path(min_length=1, max_length=64, description="a personal account's node id")]
PromisedIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="a promised payment's id")
]
AcceptLanguage = Annotated[
    str | None, Header(max_length=256, description="the language amounts are written in (en, ru, fa)")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=128,
        pattern=r"^[\x20-\x7e]+$",
        description="any printable text, unique per intended promised payment: a retry with the same key and body "
        "takes nothing more (200, `Idempotent-Replayed: true`); the key with another body is refused (422 "
        "`IDEMPOTENCY_KEY_REUSED`)",
        examples=["01JA3D4E5F6G7H8J9K0M1N2P3Q"],
    ),
]
_TAKE_RULES = (
    "A temporary credit, taken back automatically at `due_at` (BILLING_PROMISED_DAYS, 7 by default) or earlier by "
    "`/repay`. Limits: at most BILLING_PROMISED_MAX_AMOUNT minor units (300000 by default; 422 `AMOUNT_TOO_LARGE`), "
    "one open per account (409 `PROMISED_PAYMENT_OPEN`), at most BILLING_PROMISED_PER_30_DAYS in 30 days (3 by "
    "default; 409 `PROMISED_PAYMENT_LIMIT`); a refusal changes nothing. "
)


def _taken(
    answer: pb.TakePromisedPaymentResponse | pb.TakeLinePromisedPaymentResponse, response: Response, locale: str
) -> TakenPromisedPayment:
    account = answer.promised_payment.personal_account_id
    if answer.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    else:
        response.headers["Location"] = f"/v1/personal-accounts/{account}/promised-payments/{answer.promised_payment.id}"
    return TakenPromisedPayment(
        promised_payment=PromisedPaymentResponse.from_proto(answer.promised_payment, locale),
        account=BalanceResponse.from_proto(answer.account, locale),
    )


@router.post(
    "/v1/personal-accounts/{personal_account_id}/promised-payments",
    operation_id="takePromisedPayment",
    summary="Take a promised payment on a personal account",
    description=_TAKE_RULES + "201 for a new one; with an `Idempotency-Key` a retry answers the first. "
    "Needs `billing:pay`.",
    status_code=status.HTTP_201_CREATED,
    responses={
        201: sends("Location"),
        200: sends("Idempotent-Replayed"),
        **problem_responses(400, 401, 403, 404, 409, 422),
    },
)
async def take_promised_payment(
    personal_account_id: AccountIdPath,
    body: PromisedPaymentRequest,
    billing: SignedInBilling,
    response: Response,
    accept_language: AcceptLanguage = None,
    idempotency_key: IdempotencyKey = None,
) -> TakenPromisedPayment:
    answer = await billing.call(
        billing.promised.TakePromisedPayment,
        pb.TakePromisedPaymentRequest(
            personal_account_id=personal_account_id, amount=body.amount, idempotency_key=idempotency_key or ""
        ),
    )
    return _taken(answer, response, locale_of(accept_language))


@router.post(
    "/v1/lines/{msisdn}/promised-payment",
    operation_id="takeLinePromisedPayment",
    summary="Take a promised payment for a line",
    description="The promised payment is taken on the personal account the line is billed to. "
    + _TAKE_RULES
    + "Needs `billing:pay` over the line and over that personal account.",
    status_code=status.HTTP_201_CREATED,
    responses={
        201: sends("Location"),
        200: sends("Idempotent-Replayed"),
        **problem_responses(400, 401, 403, 404, 409, 422),
    },
)
async def take_line_promised_payment(
    msisdn: Annotated[
        str,
        Path(
            min_length=8,
            max_length=16,
            pattern=MSISDN_PATTERN,
            description="the line's number, E.164 (`+` may be sent as `%2B`)",
            examples=["+79990000101"],
        ),
    ],
    body: PromisedPaymentRequest,
    billing: SignedInBilling,
    response: Response,
    accept_language: AcceptLanguage = None,
    idempotency_key: IdempotencyKey = None,
) -> TakenPromisedPayment:
    answer = await billing.call(
        billing.promised.TakeLinePromisedPayment,
        pb.TakeLinePromisedPaymentRequest(msisdn=msisdn, amount=body.amount, idempotency_key=idempotency_key or ""),
    )
    return _taken(answer, response, locale_of(accept_language))


@router.post(
    "/v1/nodes/{node_id}/promised-payments",
    operation_id="takeGroupPromisedPayments",
    summary="Take a promised payment on every personal account of a group",
    description="One promised payment on each personal account at or under the node (a company, a business "
    "account...; `billing:pay` over the node): of `amount` when the accounts all hold one currency, else of "
    "`amounts`' amount for the account's currency; when they hold several and no amount is given for each, 422 "
    "`AMOUNT_PER_CURRENCY` names them and nothing is taken. Each account is decided on its own: the answer lists "
    "those taken and those refused with their reason (`PROMISED_PAYMENT_OPEN`, `PROMISED_PAYMENT_LIMIT`). With an "
    "`Idempotency-Key`, a retry answers each account's first promised payment.",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def take_group_promised_payments(
    node_id: Annotated[str, Path(min_length=1, max_length=64, description="a node of the hierarchy")],
    body: GroupPromisedPaymentRequest,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
    idempotency_key: IdempotencyKey = None,
) -> GroupPromisedPayments:
    answer = await billing.call(
        billing.promised.TakeGroupPromisedPayments,
        pb.TakeGroupPromisedPaymentsRequest(
            node_id=node_id,
            amount=body.amount or 0,
            amounts=body.amounts or {},
            idempotency_key=idempotency_key or "",
        ),
    )
    locale = locale_of(accept_language)
    return GroupPromisedPayments(
        taken=[PromisedPaymentResponse.from_proto(p, locale) for p in answer.taken],
        refused=[
            GroupRefusal(personal_account_id=r.personal_account_id, reason=r.reason, message=r.message)
            for r in answer.refused
        ],
    )


@router.get(
    "/v1/personal-accounts/{personal_account_id}/promised-payments",
    operation_id="listPromisedPayments",
    summary="A personal account's promised payments",
    description="Newest first, a page at a time. Needs `billing:read`.",
    responses=problem_responses(400, 401, 404, 422),
)
async def list_promised_payments(
    personal_account_id: AccountIdPath,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")] = None,
) -> PromisedPaymentsPage:
    with fields_named({"page_token": "cursor", "page_size": "limit"}):
        answer = await billing.call(
            billing.promised.ListPromisedPayments,
            pb.ListPromisedPaymentsRequest(
                personal_account_id=personal_account_id, page_size=limit, page_token=cursor or ""
            ),
        )
    locale = locale_of(accept_language)
    return PromisedPaymentsPage(
        items=[PromisedPaymentResponse.from_proto(p, locale) for p in answer.promised_payments],
        next_cursor=answer.next_page_token or None,
    )


@router.get(
    "/v1/personal-accounts/{personal_account_id}/promised-payments/{promised_payment_id}",
    operation_id="getPromisedPayment",
    summary="One promised payment",
    description="Needs `billing:read`.",
    responses=problem_responses(401, 404, 422),
)
async def get_promised_payment(
    personal_account_id: AccountIdPath,
    promised_payment_id: PromisedIdPath,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
) -> PromisedPaymentResponse:
    answer = await billing.call(
        billing.promised.GetPromisedPayment,
        pb.GetPromisedPaymentRequest(personal_account_id=personal_account_id, promised_payment_id=promised_payment_id),
    )
    return PromisedPaymentResponse.from_proto(answer.promised_payment, locale_of(accept_language))


@router.post(
    "/v1/personal-accounts/{personal_account_id}/promised-payments/{promised_payment_id}/repay",
    operation_id="repayPromisedPayment",
    summary="Repay a promised payment now",
    description="Takes an open promised payment back before its date; a repaid one answers as it stands (a retry "
    "repays nothing more). The account may go below its floor (the money is owed). Needs `billing:pay`.",
    responses=problem_responses(401, 403, 404, 422),
)
async def repay_promised_payment(
    personal_account_id: AccountIdPath,
    promised_payment_id: PromisedIdPath,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
) -> TakenPromisedPayment:
    answer = await billing.call(
        billing.promised.RepayPromisedPayment,
        pb.RepayPromisedPaymentRequest(
            personal_account_id=personal_account_id, promised_payment_id=promised_payment_id
        ),
    )
    locale = locale_of(accept_language)
    return TakenPromisedPayment(
        promised_payment=PromisedPaymentResponse.from_proto(answer.promised_payment, locale),
        account=BalanceResponse.from_proto(answer.account, locale),
    )


@router.get(
    "/v1/personal-accounts/{personal_account_id}/settlement-method",
    operation_id="getSettlementMethod",
    summary="A personal account's settlement method",
    description="The current method and credit limit, a change waiting for its date, and the history of changes "
    "(newest request first, a page at a time). Needs `billing:read`.",
    responses=problem_responses(400, 401, 404, 422),
)
async def get_settlement_method(
    personal_account_id: AccountIdPath,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
    limit: Annotated[int, Query(ge=1, le=500, description="history items per page")] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")] = None,
) -> SettlementMethodResponse:
    with fields_named({"page_token": "cursor", "page_size": "limit"}):
        answer = await billing.call(
            billing.settlement.GetSettlementMethod,
            spb.GetSettlementMethodRequest(
                personal_account_id=personal_account_id, page_size=limit, page_token=cursor or ""
            ),
        )
    return SettlementMethodResponse.from_proto(answer, locale_of(accept_language))


@router.put(
    "/v1/personal-accounts/{personal_account_id}/settlement-method",
    operation_id="changeSettlementMethod",
    summary="Choose a personal account's settlement method",
    description="Prepaid, postpaid or credit, from `effective_from` (a day, UTC; omitted or today: now; a past day "
    "is refused). The credit limit is the operator's to set: the change keeps the account's current limit (none "
    "for prepaid). Needs `billing:pay`.",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def change_settlement_method(
    personal_account_id: AccountIdPath,
    body: SettlementMethodRequest,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
) -> SettlementMethodChanged:
    answer = await billing.call(
        billing.settlement.ChangeMySettlementMethod,
        spb.ChangeMySettlementMethodRequest(
            personal_account_id=personal_account_id,
            method=METHODS[body.method],  # type: ignore[arg-type]
            effective_from=body.effective_from.isoformat() if body.effective_from else "",
        ),
    )
    locale = locale_of(accept_language)
    return SettlementMethodChanged(
        change=SettlementChangeResponse.from_proto(answer.change, locale),
        account=BalanceResponse.from_proto(answer.account, locale),
    )
