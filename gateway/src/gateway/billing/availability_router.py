"""/v1/lines/availability and /v1/options: which tariffs and options lines may take, and why not (SIM-6, 7, 14).

Answered by billing, which verifies the access token. The availability check
is a read: a POST only because its lines (up to 1,000) travel in the body;
it changes nothing and needs no Idempotency-Key. A line is answered when the
caller holds ``lines:read`` or ``tariffs:change`` over its node; the rest are
listed as not found, exactly as lines that do not exist.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.billing.availability_schemas import AvailabilityRequest, AvailabilityResponse, OptionsResponse
from gateway.billing.money import locale_of
from gateway.billing.usage_router import AcceptLanguage
from gateway.deps import SignedInBilling
from gateway.problems import problem_responses
from simfleet.billing.v1 import catalogue_pb2 as pb

router = APIRouter(tags=["billing"])


@router.post(
    "/v1/lines/availability",
    operation_id="checkLineAvailability",
    summary="Which lines may take a tariff or a change of services (a read)",
    description=(
        "For each line named (by number or id, 1 to 1,000): may it take the tariff and/or the services to connect "
        "and disconnect, and if not the reason code and a message; with the tariffs it may move to and the options "
        "it may connect as it is. Nothing changes: this is a read sent as a POST for its body. Lines outside your "
        "scope (`lines:read` or `tariffs:change` over them) are listed in `not_found`."
    ),
    responses=problem_responses(401, 422),
)
async def check_availability(body: AvailabilityRequest, billing: SignedInBilling) -> AvailabilityResponse:
    answer = await billing.call(billing.catalogue.CheckAvailability, body.to_proto())
    return AvailabilityResponse.from_proto(answer)


@router.get(
    "/v1/options",
    operation_id="listOptions",
    summary="The options and their fees, and which tariff allows or includes which",
    description="Voice, SMS, data, roaming and international with their monthly fees; per tariff the options it "
    "allows and those its fee includes. The fees are in your customer's currency (the one its personal accounts "
    "hold, e.g. RUB or IRR), from that currency's price list, exactly as your lines are charged: integer minor "
    "units with the currency and its exponent, and written for people in the language of `Accept-Language`.",
    responses=problem_responses(401, 422),
)
async def list_options(billing: SignedInBilling, accept_language: AcceptLanguage = None) -> OptionsResponse:
    answer = await billing.call(billing.catalogue.ListOptions, pb.ListOptionsRequest())
    return OptionsResponse.from_proto(answer, locale_of(accept_language))
