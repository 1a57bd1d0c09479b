"""/v1/packages: data packages for lines and groups (BI-7, BI-8): offers, purchases, history, receipts.

Answered by billing, which verifies the access token: buying needs
``packages:buy`` over every line's node (a group package: over its node and
the paying personal account), reading ``billing:read``; a line, node or
purchase outside the caller's scope is a 404 and nothing is bought. A
purchase the accounts cannot pay is a 409 ``INSUFFICIENT_FUNDS``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status
from fastapi.responses import PlainTextResponse

from gateway.billing.money import locale_of
from gateway.billing.packages_schemas import (
    OfferResponse,
    OffersResponse,
    PurchaseRequest,
    PurchaseResponse,
    PurchasesPage,
)
from gateway.deps import SignedInBilling
from gateway.lines.schemas import MSISDN_PATTERN
from gateway.openapi import sends
from gateway.problems import problem_responses
from gateway.upstream.errors import fields_named
from simfleet.billing.v1 import packages_pb2 as pb
from simfleet_runtime.timestamps import timestamp

router = APIRouter(prefix="/v1/packages", tags=["billing"])

AcceptLanguage = Annotated[
    str | None, Header(max_length=256, description="the language amounts are written in (en, ru, fa)")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=128,
        pattern=r"^[\x20-\x7e]+$",
        description="any printable text, unique per intended purchase: a retry with the same key and body buys "
        "nothing more (200, `Idempotent-Replayed: true`); the key with another body is refused (422 "
        "`IDEMPOTENCY_KEY_REUSED`)",
        examples=["01JA3D4E5F6G7H8J9K0M1N2P3Q"],
    ),
]
PurchaseIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
_RECEIPT_EXAMPLE = (
    "SIMfleet - receipt\n\nReceipt number: pkg:5f1c0b7e...\nDate: 2026-12-07 10:00 UTC\nBuyer: 01JA0Z6X...\n"
    "Offer: Data 1 GiB, 30 days (DATA-1G)\nValid for: 30 days\nLines (1):\n  +79990000101\n\n"
    "Price: 150.00 RUB x 1\nAmount: 150.00 RUB\n"
)


@router.get(
    "/offers",
    operation_id="listPackageOffers",
    summary="The data packages on sale",
    description=(
        "Line packages (bytes for each line) and group packages (a pool for all the lines under a node), priced in "
        "the caller's customer's currency (from its price list, as a purchase charges them)."
    ),
    responses=problem_responses(401, 422),
)
async def list_offers(billing: SignedInBilling, accept_language: AcceptLanguage = None) -> OffersResponse:
    answer = await billing.call(billing.packages.ListOffers, pb.ListOffersRequest())
    locale = locale_of(accept_language)
    return OffersResponse(items=[OfferResponse.from_proto(o, locale) for o in answer.offers])


@router.post(
    "/purchases",
    operation_id="buyPackages",
    summary="Buy data packages for lines or a group",
    description=(
        "Charges each line's personal account (a group package: the personal account given) at once, all or "
        "nothing: when an account cannot pay (a prepaid one without the money), 409 `INSUFFICIENT_FUNDS` and "
        "nothing is bought. Packages start now and last the offer's days; rating uses them for home data after "
        "the tariff's allowance, the one that expires first first. The receipt is emailed to `receipt_email` "
        "(or the buyer's own address). 201 for a new purchase; with an `Idempotency-Key`, a retry buys nothing "
        "more and answers the first purchase (200, `Idempotent-Replayed: true`). Needs `packages:buy`."
    ),
    status_code=status.HTTP_201_CREATED,
    responses={
        201: sends("Location"),
        200: sends("Idempotent-Replayed"),
        **problem_responses(400, 401, 403, 404, 409, 422),
    },
)
async def buy_packages(
    body: PurchaseRequest,
    billing: SignedInBilling,
    response: Response,
    accept_language: AcceptLanguage = None,
    idempotency_key: IdempotencyKey = None,
) -> PurchaseResponse:
    answer = await billing.call(billing.packages.Purchase, body.to_proto(idempotency_key))
    if answer.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    else:
        response.headers["Location"] = f"/v1/packages/purchases/{answer.purchase.id}"
    return PurchaseResponse.from_proto(answer.purchase, locale_of(accept_language))


@router.get(
    "/purchases",
    operation_id="listPackagePurchases",
    summary="The purchase history",
    description=(
        "Purchases the caller may read (`billing:read` over all they were bought for), newest first, a page at a "
        "time; the last 15 days unless a period is given; only those for one number with `msisdn`."
    ),
    responses=problem_responses(400, 401, 422),
)
async def list_purchases(
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
    created_from: Annotated[datetime | None, Query(description="made at or after (RFC 3339)")] = None,
    created_before: Annotated[datetime | None, Query(description="made before (RFC 3339)")] = None,
    msisdn: Annotated[
        str | None, Query(min_length=8, max_length=16, pattern=MSISDN_PATTERN, description="a line's number")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")] = None,
) -> PurchasesPage:
    with fields_named({"page_token": "cursor", "page_size": "limit"}):
        answer = await billing.call(
            billing.packages.ListPurchases,
            pb.ListPurchasesRequest(
                created_from=timestamp(created_from) if created_from else None,
                created_before=timestamp(created_before) if created_before else None,
                msisdn=msisdn or "",
                page_size=limit,
                page_token=cursor or "",
            ),
        )
    locale = locale_of(accept_language)
    return PurchasesPage(
        items=[PurchaseResponse.from_proto(p, locale) for p in answer.purchases],
        next_cursor=answer.next_page_token or None,
    )


@router.get(
    "/purchases/{purchase_id}",
    operation_id="getPackagePurchase",
    summary="One purchase of data packages",
    description="With its packages and what is used of them. Needs `billing:read`.",
    responses=problem_responses(401, 404, 422),
)
async def get_purchase(
    purchase_id: PurchaseIdPath, billing: SignedInBilling, accept_language: AcceptLanguage = None
) -> PurchaseResponse:
    answer = await billing.call(billing.packages.GetPurchase, pb.GetPurchaseRequest(purchase_id=purchase_id))
    return PurchaseResponse.from_proto(answer.purchase, locale_of(accept_language))


@router.get(
    "/purchases/{purchase_id}/receipt",
    operation_id="getPackageReceipt",
    summary="A purchase's receipt",
    description="As plain text, the same as the email: number, date, buyer, offer, lines, amount.",
    response_class=Response,
    responses={
        200: {
            "description": "The receipt",
            "content": {"text/plain": {"schema": {"type": "string", "examples": [_RECEIPT_EXAMPLE]}}},
        },
        **problem_responses(401, 404, 422),
    },
)
async def get_receipt(purchase_id: PurchaseIdPath, billing: SignedInBilling) -> PlainTextResponse:
    answer = await billing.call(billing.packages.GetReceipt, pb.GetReceiptRequest(purchase_id=purchase_id))
    return PlainTextResponse(answer.text)
