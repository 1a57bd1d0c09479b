"""/v1/lines/{msisdn}/usage and /v1/tariffs: a line's usage and money this period (SIM-1), the catalogue (SIM-6).

Answered by billing, which verifies the access token: a line's usage needs
``billing:read`` over the line's node (a line outside the caller's scope, or
that billing has not heard of, is a 404); the catalogue any signed-in user,
in their customer's currency (billing's CatalogueService.GetPriceList).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path

from gateway.billing.money import locale_of
from gateway.billing.usage_schemas import LineUsageResponse, TariffsResponse
from gateway.deps import SignedInBilling
from gateway.lines.schemas import MSISDN_PATTERN
from gateway.problems import problem_responses
from simfleet.billing.v1 import catalogue_pb2 as catalogue_pb
from simfleet.billing.v1 import usage_pb2 as pb

router = APIRouter(tags=["billing"])

AcceptLanguage = Annotated[
    str | None, Header(max_length=256, description="the language amounts are written in (en, ru, fa)")
]


@router.get(
    "/v1/lines/{msisdn}/usage",
    operation_id="getLineUsage",
    summary="A line's usage and money this period",
    description=(
        "The line's personal account (balance, credit limit, what may be spent), its usage this period per kind "
        "(records, seconds/messages/bytes, charged units, what the allowances covered, cost), what remains of its "
        "tariff's allowances, and its last 15 usage records, newest first. Needs `billing:read` over the line."
    ),
    responses=problem_responses(401, 404, 422),
)
async def get_line_usage(
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
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
) -> LineUsageResponse:
    answer = await billing.call(billing.usage.GetLineUsage, pb.GetLineUsageRequest(msisdn=msisdn))
    return LineUsageResponse.from_proto(answer, locale_of(accept_language))


@router.get(
    "/v1/tariffs",
    operation_id="listTariffs",
    summary="The tariff catalogue",
    description=(
        "The tariffs in force: monthly fee, what each includes per period, prices at home and abroad. Every amount "
        "is in your customer's currency (the one its personal accounts hold, e.g. RUB or IRR), from that "
        "currency's price list, exactly as your lines are charged: integer minor units with the currency and "
        "its exponent, and written for people in the language of `Accept-Language`."
    ),
    responses=problem_responses(401, 422),
)
async def list_tariffs(billing: SignedInBilling, accept_language: AcceptLanguage = None) -> TariffsResponse:
    answer = await billing.call(billing.catalogue.GetPriceList, catalogue_pb.GetPriceListRequest())
    return TariffsResponse.from_proto(answer, locale_of(accept_language))
