"""simfleet.accounts.v1.AccountsAdminService: the back-office.

Operator staff call with their access token, whose operator role must hold
the method's operator permission (``customers:onboard``, ``customers:read``).
Automation inside the platform (the local seed, migrations of customers from
another system) may present the operator key (``ACCOUNTS_OPERATOR_KEY``)
instead, compared in constant time; an empty key refuses every key.
"""

from __future__ import annotations

from typing import Any

from accounts import convert
from accounts.customers.legal import LegalEntity
from accounts.customers.service import AccountSpec, CustomerService, Manager, Onboarding
from simfleet.accounts.v1 import admin_pb2 as pb
from simfleet.accounts.v1 import admin_pb2_grpc
from simfleet_runtime.authz import Authorizer

SERVICE_NAME = "simfleet.accounts.v1.AccountsAdminService"
ONBOARD = "customers:onboard"
READ = "customers:read"


def _spec(value: pb.AccountSpec) -> AccountSpec:
    return AccountSpec(value.name, value.account_number, tuple(_spec(c) for c in value.children))


class AdminApi(admin_pb2_grpc.AccountsAdminServiceServicer):
    def __init__(self, *, customers: CustomerService, operator_key: str, authorizer: Authorizer) -> None:
        self._customers = customers
        self._operator_key = operator_key
        self._authz = authorizer

    async def _require_operator(self, permission: str) -> None:
        await self._authz.operator_or_key(permission, self._operator_key)

    async def OnboardCustomer(self, request: pb.OnboardCustomerRequest, context: Any) -> pb.OnboardCustomerResponse:
        await self._require_operator(ONBOARD)
        entity = request.legal_entity
        done = await self._customers.onboard(
            Onboarding(
                request_id=request.request_id,
                legal=LegalEntity(
                    entity.name, entity.tax_number, entity.registration_number, entity.tax_registration_reason_code
                ),
                contracts=tuple((c.number, c.signed_on) for c in request.contracts),
                general_account=_spec(request.general_account),
                business_accounts=tuple(_spec(b) for b in request.business_accounts),
                manager=Manager(
                    request.profile_manager.phone,
                    request.profile_manager.email,
                    request.profile_manager.display_name,
                    request.profile_manager.password,
                ),
                currency=request.currency,
                settlement_method=request.settlement_method,
            )
        )
        return pb.OnboardCustomerResponse(
            customer=convert.customer(done.customer, done.contracts), nodes=[convert.node(n) for n in done.nodes]
        )

    async def CreateAccount(self, request: pb.CreateAccountRequest, context: Any) -> pb.CreateAccountResponse:
        await self._require_operator(ONBOARD)
        node = await self._customers.create_account(
            customer_id=request.customer_id,
            parent_id=request.parent_id,
            kind=convert.kind(request.kind),
            name=request.name,
            number=request.account_number,
        )
        return pb.CreateAccountResponse(node=convert.node(node))

    async def GetCustomer(self, request: pb.GetCustomerRequest, context: Any) -> pb.GetCustomerResponse:
        await self._require_operator(READ)
        customer, contracts = await self._customers.get(request.customer_id)
        return pb.GetCustomerResponse(customer=convert.customer(customer, contracts))

    async def ListCustomers(self, request: pb.ListCustomersRequest, context: Any) -> pb.ListCustomersResponse:
        await self._require_operator(READ)
        rows, token = await self._customers.search(
            query=request.query, page_size=request.page_size, page_token=request.page_token, order_by=request.order_by
        )
        return pb.ListCustomersResponse(
            customers=[convert.customer(c, contracts) for c, contracts in rows], next_page_token=token
        )
