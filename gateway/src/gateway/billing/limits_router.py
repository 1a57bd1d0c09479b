"""/v1/spending-limits: what a line, a group of lines or the whole company may spend in a month (BI-10).

Answered by billing, which verifies the access token: setting, changing and
deleting a limit need ``billing:pay`` over its node (the line's node for a
line's limit, the company's root for the company's), reading ``billing:read``;
a limit, line or node outside the caller's scope is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Response, status

from gateway.billing.limits_schemas import (
    SPENDING_LIMIT_EXAMPLES,
    SpendingLimitRequest,
    SpendingLimitResponse,
    SpendingLimitSettings,
    SpendingLimitsPage,
)
from gateway.billing.money import locale_of
from gateway.deps import SignedInBilling
from gateway.openapi import sends
from gateway.problems import problem_responses
from simfleet.billing.v1 import limits_pb2 as pb

router = APIRouter(prefix="/v1/spending-limits", tags=["billing"])

LimitIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$", description="its id")]
AcceptLanguage = Annotated[
    str | None, Header(max_length=256, description="the language amounts are written in (en, ru, fa)")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=128,
        pattern=r"^[\x20-\x7e]+$",
        description="any printable text, unique per intended limit: a retry with the same key and body makes "
        "nothing more (200, `Idempotent-Replayed: true`); the key with another body is refused (422 "
        "`IDEMPOTENCY_KEY_REUSED`)",
        examples=["01JA3D4E5F6G7H8J9K0M1N2P3Q"],
    ),
]


@router.post(
    "",
    operation_id="createSpendingLimit",
    summary="Set a spending limit",
    description=(
        "A limit on what a line (`scope` line, by `msisdn`), a group of lines (`scope` node: the lines under "
        "`node_id`, sub-nodes included) or the whole company (`scope` company) is charged in a month (usage and "
        "monthly fees). When reached, `warn` sends an SMS to each phone number in `notify` once a period; "
        "`block` blocks the lines financially (in the action history, by the system) until the limit is raised "
        "or deleted or a new month starts. Needs `billing:pay` over the node (the company's root for the "
        "company)."
    ),
    status_code=status.HTTP_201_CREATED,
    responses={
        201: sends("Location"),
        200: sends("Idempotent-Replayed"),
        **problem_responses(400, 401, 403, 404, 422),
    },
)
async def create_spending_limit(
    body: Annotated[SpendingLimitRequest, Body(openapi_examples=SPENDING_LIMIT_EXAMPLES)],
    billing: SignedInBilling,
    response: Response,
    accept_language: AcceptLanguage = None,
    idempotency_key: IdempotencyKey = None,
) -> SpendingLimitResponse:
    answer = await billing.call(billing.limits.CreateSpendingLimit, body.to_create(idempotency_key))
    if answer.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    else:
        response.headers["Location"] = f"/v1/spending-limits/{answer.limit.id}"
    return SpendingLimitResponse.from_proto(answer.limit, locale_of(accept_language))


@router.get(
    "",
    operation_id="listSpendingLimits",
    summary="Spending limits",
    description=(
        "The limits the caller may read (`billing:read` over their node), each with what its lines spent this "
        "period; with `node_id`, those set on that node or below it."
    ),
    responses=problem_responses(401, 403, 404, 422),
)
async def list_spending_limits(
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
    node_id: Annotated[str | None, Query(min_length=1, max_length=64, description="only under this node")] = None,
) -> SpendingLimitsPage:
    answer = await billing.call(billing.limits.ListSpendingLimits, pb.ListSpendingLimitsRequest(node_id=node_id or ""))
    locale = locale_of(accept_language)
    return SpendingLimitsPage(items=[SpendingLimitResponse.from_proto(limit, locale) for limit in answer.limits])


@router.get(
    "/{limit_id}",
    operation_id="getSpendingLimit",
    summary="One spending limit",
    description="With what its lines spent this period. Needs `billing:read` over its node.",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_spending_limit(
    limit_id: LimitIdPath, billing: SignedInBilling, accept_language: AcceptLanguage = None
) -> SpendingLimitResponse:
    answer = await billing.call(billing.limits.GetSpendingLimit, pb.GetSpendingLimitRequest(limit_id=limit_id))
    return SpendingLimitResponse.from_proto(answer.limit, locale_of(accept_language))


@router.put(
    "/{limit_id}",
    operation_id="setSpendingLimit",
    summary="Change a spending limit",
    description=(
        "Its amount, action and who is told (the scope stays). A block is lifted once the limit is no longer "
        "reached; reached again at its new amount, it warns again. Needs `billing:pay` over its node."
    ),
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def set_spending_limit(
    limit_id: LimitIdPath,
    body: SpendingLimitSettings,
    billing: SignedInBilling,
    accept_language: AcceptLanguage = None,
) -> SpendingLimitResponse:
    answer = await billing.call(billing.limits.UpdateSpendingLimit, body.to_update(limit_id))
    return SpendingLimitResponse.from_proto(answer.limit, locale_of(accept_language))


@router.delete(
    "/{limit_id}",
    operation_id="deleteSpendingLimit",
    summary="Delete a spending limit",
    description="The lines it blocked are unblocked (unless something else holds them). Needs `billing:pay`.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_spending_limit(limit_id: LimitIdPath, billing: SignedInBilling) -> Response:
    await billing.call(billing.limits.DeleteSpendingLimit, pb.DeleteSpendingLimitRequest(limit_id=limit_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
