"""Money per period (AC-2, BI-1), answered by billing: a personal account's statement and a node's finances.

``GET /v1/personal-accounts/{id}/statement`` and ``GET /v1/nodes/{id}/finances``,
both with ``billing:read`` over the object (outside the caller's scope: 404).
A period is a UTC month, ``period=YYYY-MM`` (default: this month). Amounts are
integers of minor units with their currency, written for people in the caller's
language (``Accept-Language``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query

from gateway.billing.finances_schemas import NodeFinancesResponse, StatementResponse
from gateway.billing.money import locale_of
from gateway.deps import SignedInBilling
from gateway.problems import problem_responses
from simfleet.billing.v1 import ledger_pb2 as pb

router = APIRouter(prefix="/v1", tags=["billing"])

IdPath = Annotated[str, Path(min_length=1, max_length=64, description="a node's id")]
PeriodQuery = Annotated[
    str | None,
    Query(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="a UTC month, YYYY-MM, from 2000-01 to the current month; default: the current month",
        examples=["2026-11"],
    ),
]
AcceptLanguage = Annotated[
    str | None, Header(max_length=256, description="the language amounts are written in (en, ru, fa)")
]


@router.get(
    "/personal-accounts/{personal_account_id}/statement",
    operation_id="getStatement",
    summary="A personal account's money over a month",
    description=(
        "The opening balance (the previous month's closing), the charges (usage, fees, packages), payments, "
        "transfers and other credits and debits, and the closing balance (the balance now for the current month). "
        "Needs `billing:read` over the account."
    ),
    responses=problem_responses(401, 404, 422),
)
async def get_statement(
    personal_account_id: Annotated[str, Path(min_length=1, max_length=64, description="a personal account's node id")],
    billing: SignedInBilling,
    period: PeriodQuery = None,
    accept_language: AcceptLanguage = None,
) -> StatementResponse:
    answer = await billing.call(
        billing.ledger.GetStatement,
        pb.GetStatementRequest(personal_account_id=personal_account_id, period=period or ""),
    )
    return StatementResponse.from_proto(answer, locale_of(accept_language))


@router.get(
    "/nodes/{node_id}/finances",
    operation_id="getNodeFinances",
    summary="The money of a node's personal accounts over a month",
    description=(
        "The statements of every personal account at or under the node summed per currency: the balances "
        "(the deposit), charges and payments of the month. Needs `billing:read` over the node."
    ),
    responses=problem_responses(401, 404, 422),
)
async def get_node_finances(
    node_id: IdPath,
    billing: SignedInBilling,
    period: PeriodQuery = None,
    accept_language: AcceptLanguage = None,
) -> NodeFinancesResponse:
    answer = await billing.call(
        billing.ledger.GetNodeFinances, pb.GetNodeFinancesRequest(node_id=node_id, period=period or "")
    )
    return NodeFinancesResponse.from_proto(answer, locale_of(accept_language))
