"""/v1/personal-accounts/{id}/payments and /auto-payment: top-ups by card and automatic payments (BI-14).

Answered by billing, which verifies the access token: paying and the
automatic payment need ``billing:pay`` over the personal account, reading
``billing:read``; an account outside the caller's scope is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from gateway.billing.money import locale_of
from gateway.billing.payments_schemas import (
    KINDS,
    STATES,
    AutoPaymentRequest,
    AutoPaymentResponse,
    AutoPaymentState,
    PaymentKindName,
    PaymentRequest,
    PaymentResponse,
    PaymentsPage,
    PaymentStateName,
    PayResponse,
)
from gateway.billing.schemas import BalanceResponse
from gateway.deps import SignedInBilling
from gateway.openapi import sends
from gateway.problems import problem_responses
from gateway.upstream.errors import fields_named
from simfleet.billing.v1 import payments_pb2 as pb
from simfleet_runtime.timestamps import timestamp

router = APIRouter(prefix="/v1/personal-accounts", tags=["billing"])

AccountIdPath = Annotated[str, Path(min_length=1, max_length=64, description="a personal account's node id")]
AcceptLanguage = Annotated[
    str | None, Header(max_length=256, description="the language amounts are written in (en, ru, fa)")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=128,
        pattern=r"^[\x20-\x7e]+$",
        description="any printable text, unique per intended payment: a retry with the same key and body pays "
        "nothing more (200, `Idempotent-Replayed: true`); the key with another body is refused (422 "
        "`IDEMPOTENCY_KEY_REUSED`)",
        examples=["01JA3D4E5F6G7H8J9K0M1N2P3Q"],
    ),
]


@router.post(
    "/{personal_account_id}/payments",
    operation_id="payByCard",
    summary="Top a personal account up by card",
    description=(
        "Pays `amount` by the tokenised card through the payment provider and credits the account once the "
        "provider has taken it. Answers the payment: `credited` (its movement is in `/postings`), `declined` "
        "(`reason` says why; nothing was taken), or `pending` when the provider has not answered yet (billing "
        "keeps asking; read it again by its id). 201 for a new payment; with an `Idempotency-Key`, a retry pays "
        "nothing more and answers the first payment (200, `Idempotent-Replayed: true`). Needs `billing:pay`."
    ),
    status_code=status.HTTP_201_CREATED,
    responses={
        201: sends("Location"),
        200: sends("Idempotent-Replayed"),
        **problem_responses(400, 401, 403, 404, 422),
    },
)
async def pay_by_card(
    personal_account_id: AccountIdPath,
    body: PaymentRequest,
    billing: SignedInBilling,
    response: Response,
    accept_language: AcceptLanguage = None,
    idempotency_key: IdempotencyKey = None,
) -> PayResponse:
    answer = await billing.call(billing.payments.Pay, body.to_proto(personal_account_id, idempotency_key))
    if answer.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    else:
        response.headers["Location"] = f"/v1/personal-accounts/{personal_account_id}/payments/{answer.payment.id}"
    locale = locale_of(accept_language)
    return PayResponse(
        payment=PaymentResponse.from_proto(answer.payment, locale),
        account=BalanceResponse.from_proto(answer.account, locale),
    )


@router.get(
    "/{personal_account_id}/payments",
    operation_id="listPayments",
    summary="A personal account's payments",
    description="Newest first, a page at a time, filtered by state, kind, date and amount. Needs `billing:read`.",
    responses=problem_responses(400, 401, 404, 422),
)
async def list_payments(
    personal_account_id: AccountIdPath,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
    state: Annotated[list[PaymentStateName] | None, Query(description="only these states")] = None,
    kind: Annotated[list[PaymentKindName] | None, Query(description="only these kinds")] = None,
    created_from: Annotated[datetime | None, Query(description="made at or after (RFC 3339)")] = None,
    created_before: Annotated[datetime | None, Query(description="made before (RFC 3339)")] = None,
    amount_min: Annotated[int | None, Query(ge=1, le=10**15, description="minor units, at least")] = None,
    amount_max: Annotated[int | None, Query(ge=1, le=10**15, description="minor units, at most")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")] = None,
) -> PaymentsPage:
    with fields_named({"page_token": "cursor", "page_size": "limit"}):
        answer = await billing.call(
            billing.payments.ListPayments,
            pb.ListPaymentsRequest(
                personal_account_id=personal_account_id,
                page_size=limit,
                page_token=cursor or "",
                states=[STATES[s] for s in state or []],  # type: ignore[misc]
                kinds=[KINDS[k] for k in kind or []],  # type: ignore[misc]
                created_from=timestamp(created_from) if created_from else None,
                created_before=timestamp(created_before) if created_before else None,
                amount_min=amount_min or 0,
                amount_max=amount_max or 0,
            ),
        )
    locale = locale_of(accept_language)
    return PaymentsPage(
        items=[PaymentResponse.from_proto(p, locale) for p in answer.payments],
        next_cursor=answer.next_page_token or None,
    )


@router.get(
    "/{personal_account_id}/payments/{payment_id}",
    operation_id="getPayment",
    summary="One payment",
    description="A payment onto the account by its id (e.g. to follow a pending one). Needs `billing:read`.",
    responses=problem_responses(401, 404, 422),
)
async def get_payment(
    personal_account_id: AccountIdPath,
    payment_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")],
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
) -> PaymentResponse:
    answer = await billing.call(
        billing.payments.GetPayment,
        pb.GetPaymentRequest(personal_account_id=personal_account_id, payment_id=payment_id),
    )
    return PaymentResponse.from_proto(answer.payment, locale_of(accept_language))


@router.get(
    "/{personal_account_id}/auto-payment",
    operation_id="getAutoPayment",
    summary="A personal account's automatic payment",
    description="`auto_payment` is null when the account has none. Needs `billing:read`.",
    responses=problem_responses(401, 404, 422),
)
async def get_auto_payment(
    personal_account_id: AccountIdPath, billing: SignedInBilling, accept_language: AcceptLanguage = None
) -> AutoPaymentState:
    answer = await billing.call(
        billing.payments.GetAutoPayment, pb.GetAutoPaymentRequest(personal_account_id=personal_account_id)
    )
    rule = answer.auto_payment if answer.HasField("auto_payment") else None
    return AutoPaymentState(
        auto_payment=None if rule is None else AutoPaymentResponse.from_proto(rule, locale_of(accept_language))
    )


@router.put(
    "/{personal_account_id}/auto-payment",
    operation_id="setAutoPayment",
    summary="Set a personal account's automatic payment",
    description=(
        "When the balance falls below `threshold`, `amount` is paid by the card, at most `daily_limit` times a "
        "day (UTC) and never while one is pending. Replaces the account's automatic payment. Needs `billing:pay`."
    ),
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def set_auto_payment(
    personal_account_id: AccountIdPath,
    body: AutoPaymentRequest,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
) -> AutoPaymentResponse:
    answer = await billing.call(billing.payments.SetAutoPayment, body.to_proto(personal_account_id))
    return AutoPaymentResponse.from_proto(answer.auto_payment, locale_of(accept_language))


@router.delete(
    "/{personal_account_id}/auto-payment",
    operation_id="deleteAutoPayment",
    summary="Stop a personal account's automatic payment",
    description="Needs `billing:pay`. Deleting one that is not there is no error.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_auto_payment(personal_account_id: AccountIdPath, billing: SignedInBilling) -> Response:
    await billing.call(
        billing.payments.DeleteAutoPayment, pb.DeleteAutoPaymentRequest(personal_account_id=personal_account_id)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
