"""/v1/admin: the back-office (AC-1), for operator staff only.

Operator staff sign in like anyone and call with their access token; accounts
checks that their operator role holds ``customers:onboard`` or
``customers:read``. A customer's user gets a 403.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response, status

from gateway.admin.schemas import (
    CreateAccountRequest,
    CustomerResponse,
    CustomersPage,
    OnboardCustomerRequest,
    OnboardedCustomer,
)
from gateway.deps import SignedInAccounts
from gateway.nodes.schemas import KINDS, NodeResponse
from gateway.openapi import sends
from gateway.problems import problem_responses
from simfleet.accounts.v1 import admin_pb2 as pb

router = APIRouter(prefix="/v1/admin", tags=["back-office"])

CustomerIdPath = Annotated[str, Path(min_length=1, max_length=64, description="a customer id")]


@router.get(
    "/customers",
    operation_id="listCustomers",
    summary="Corporate customers",
    description="Needs the operator permission `customers:read`. Newest first unless `sort` says otherwise.",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_customers(
    accounts: SignedInAccounts,
    response: Response,
    q: Annotated[
        str | None, Query(max_length=200, description="names containing, or tax numbers starting with")
    ] = None,
    sort: Annotated[Literal["-created_at", "created_at", "name", "-name"], Query()] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> CustomersPage:
    answer = await accounts.call(
        accounts.admin.ListCustomers,
        pb.ListCustomersRequest(query=q or "", order_by=sort, page_size=limit, page_token=cursor or ""),
    )
    response.headers["Cache-Control"] = "no-store"
    return CustomersPage(
        items=[CustomerResponse.from_proto(c) for c in answer.customers], next_cursor=answer.next_page_token or None
    )


@router.post(
    "/customers",
    operation_id="onboardCustomer",
    status_code=status.HTTP_201_CREATED,
    summary="Onboard a corporate customer",
    description=(
        "Creates the customer, its contracts, general, business and personal accounts, and its profile manager "
        "(who gets an SMS). Needs `customers:onboard` and an `Idempotency-Key`: the same key and body return the "
        "same customer, and a request cut short by an outage finishes when sent again; the key with another body "
        "is refused (422 `IDEMPOTENCY_KEY_REUSED`)."
    ),
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 409, 422)},
)
async def onboard_customer(
    body: OnboardCustomerRequest,
    accounts: SignedInAccounts,
    response: Response,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=128)],
) -> OnboardedCustomer:
    answer = await accounts.call(accounts.admin.OnboardCustomer, body.to_proto(idempotency_key))
    response.headers["Location"] = f"/v1/admin/customers/{answer.customer.id}"
    return OnboardedCustomer(
        customer=CustomerResponse.from_proto(answer.customer), nodes=[NodeResponse.from_proto(n) for n in answer.nodes]
    )


@router.get(
    "/customers/{customer_id}",
    operation_id="getCustomer",
    summary="One customer",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_customer(customer_id: CustomerIdPath, accounts: SignedInAccounts) -> CustomerResponse:
    answer = await accounts.call(accounts.admin.GetCustomer, pb.GetCustomerRequest(customer_id=customer_id))
    return CustomerResponse.from_proto(answer.customer)


@router.post(
    "/customers/{customer_id}/accounts",
    operation_id="createAccount",
    status_code=status.HTTP_201_CREATED,
    summary="Add a business or personal account",
    description="A business account under the general account, a personal account under a business account.",
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def create_account(
    customer_id: CustomerIdPath, body: CreateAccountRequest, accounts: SignedInAccounts, response: Response
) -> NodeResponse:
    answer = await accounts.call(
        accounts.admin.CreateAccount,
        pb.CreateAccountRequest(
            customer_id=customer_id,
            parent_id=body.parent_id,
            kind=KINDS[body.kind],  # type: ignore[arg-type]
            name=body.name,
            account_number=body.account_number,
        ),
    )
    response.headers["Location"] = f"/v1/nodes/{answer.node.id}"
    return NodeResponse.from_proto(answer.node)
