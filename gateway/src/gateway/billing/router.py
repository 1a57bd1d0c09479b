"""/v1/personal-accounts/{id}: a personal account's money (BI-1, BI-13, SIM-1), answered by billing.

Every endpoint needs an access token; billing verifies it and answers only
inside the caller's grants: reading needs ``billing:read`` over the personal
account, changing where bills go ``billing:pay``; an account outside the
caller's scope is a 404 like a missing one. Amounts are integers of minor units
with their currency, and written for people in the caller's language
(``Accept-Language``: en, ru or fa).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response

from gateway.billing.money import locale_of
from gateway.billing.schemas import (
    BalanceResponse,
    BillDeliveryRequest,
    PostingResponse,
    PostingsPage,
    TransferRequest,
    TransferResponse,
)
from gateway.deps import SignedInBilling
from gateway.openapi import sends
from gateway.problems import problem_responses
from gateway.upstream.errors import fields_named
from simfleet.billing.v1 import ledger_pb2 as pb

router = APIRouter(prefix="/v1/personal-accounts", tags=["billing"])

AccountIdPath = Annotated[str, Path(min_length=1, max_length=64, description="a personal account's node id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=128,
        pattern=r"^[\x20-\x7e]+$",
        description="any printable text, unique per intended transfer: a retry with the same key and body moves "
        "nothing more (200, `Idempotent-Replayed: true`); the key with another body is refused (422 "
        "`IDEMPOTENCY_KEY_REUSED`)",
        examples=["01JA3D4E5F6G7H8J9K0M1N2P3Q"],
    ),
]
AcceptLanguage = Annotated[
    str | None, Header(max_length=256, description="the language amounts are written in (en, ru, fa)")
]


@router.get(
    "/{personal_account_id}/balance",
    operation_id="getBalance",
    summary="A personal account's balance",
    description=(
        "The balance (negative: a debt), what pending payments and charges hold, what charges may still take, "
        "the settlement method with its credit limit and any change waiting for its date, and where bills go."
    ),
    responses=problem_responses(401, 404, 422),
)
async def get_balance(
    personal_account_id: AccountIdPath, billing: SignedInBilling, accept_language: AcceptLanguage = None
) -> BalanceResponse:
    answer = await billing.call(
        billing.ledger.GetBalance, pb.GetBalanceRequest(personal_account_id=personal_account_id)
    )
    return BalanceResponse.from_proto(answer.account, locale_of(accept_language))


@router.get(
    "/{personal_account_id}/postings",
    operation_id="listPostings",
    summary="A personal account's movements",
    description="Newest first (`sort=-sequence`, the default) or oldest first (`sort=sequence`), a page at a time.",
    responses=problem_responses(400, 401, 404, 422),
)
async def list_postings(
    personal_account_id: AccountIdPath,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
    sort: Annotated[Literal["-sequence", "sequence"], Query(description="order")] = "-sequence",
    limit: Annotated[int, Query(ge=1, le=1000, description="items per page")] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")] = None,
) -> PostingsPage:
    answer = await billing.call(
        billing.ledger.ListPostings,
        pb.ListPostingsRequest(
            personal_account_id=personal_account_id, page_size=limit, page_token=cursor or "", order_by=sort
        ),
    )
    locale = locale_of(accept_language)
    return PostingsPage(
        items=[PostingResponse.from_proto(p, locale) for p in answer.postings],
        next_cursor=answer.next_page_token or None,
    )


@router.put(
    "/{personal_account_id}/bill-delivery",
    operation_id="setBillDelivery",
    summary="Where a personal account's bills are emailed",
    description="Needs `billing:pay` over the account. `email: null` stops emailing its bills.",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def set_bill_delivery(
    personal_account_id: AccountIdPath,
    body: BillDeliveryRequest,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
) -> BalanceResponse:
    answer = await billing.call(
        billing.ledger.SetBillDelivery,
        pb.SetBillDeliveryRequest(personal_account_id=personal_account_id, email=body.email or ""),
    )
    return BalanceResponse.from_proto(answer.account, locale_of(accept_language))


@router.post(
    "/{personal_account_id}/transfers",
    operation_id="transferMoney",
    summary="Move money to another of the customer's personal accounts",
    description=(
        "Atomically, from this personal account to `to_personal_account_id`: `billing:pay` over both (an account "
        "outside the caller's scope, or another customer's, is a 404). The source may not go below its floor "
        "(409 `INSUFFICIENT_FUNDS`); both accounts hold `currency`. Answers the transfer made (it is in both "
        "accounts' `/postings` under its `id`). With an `Idempotency-Key`, a retry moves nothing more and answers "
        "the first transfer with `Idempotent-Replayed: true`."
    ),
    response_model=TransferResponse,
    response_model_by_alias=True,
    responses={200: sends("Idempotent-Replayed"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def transfer_money(
    personal_account_id: AccountIdPath,
    body: TransferRequest,
    billing: SignedInBilling,
    response: Response,
    accept_language: AcceptLanguage = None,
    idempotency_key: IdempotencyKey = None,
) -> TransferResponse:
    with fields_named({"from_personal_account_id": "personal_account_id"}):
        answer = await billing.call(billing.ledger.Transfer, body.to_proto(personal_account_id, idempotency_key))
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return TransferResponse.from_proto(answer, locale_of(accept_language))
