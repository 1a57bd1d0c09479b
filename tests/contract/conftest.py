"""One platform for the contract tests, and throwaway customers of their own: never the demo data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import demo_sim, with_inn_check_digit, with_ogrn_check_digit
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from tests.helpers import running_platform


@dataclass(frozen=True)
class ContractTenant:
    """A customer onboarded for one contract test: its profile manager and a personal account for lines."""

    customer_id: str
    company_id: str
    personal_account_id: str
    phone: str
    password: str
    number_prefix: str
    """Its lines are ``number_prefix`` and four digits."""


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("contract-platform")
    with running_platform(data_dir, "contract") as running:
        yield running


def onboard_contract_tenant(platform: Platform, n: int) -> ContractTenant:
    """A new customer with a general, a business and a personal account, its manager with a password."""
    key = f"contract-{n}"
    phone = f"+7999888{n:04d}"
    password = f"Contract-Passw0rd-{n}"
    request = accounts_admin.OnboardCustomerRequest(
        request_id=key,
        legal_entity=accounts_admin.LegalEntity(
            name=f"Contract Test {n} LLC",
            tax_number=with_inn_check_digit(f"78{n:07d}"),
            registration_number=with_ogrn_check_digit(f"102780{n:06d}"),
            tax_registration_reason_code="773601001",
        ),
        contracts=[accounts_admin.Contract(number=f"SF-CT/{n:04d}", signed_on="2026-02-01")],
        general_account=accounts_admin.AccountSpec(name="General", account_number=f"43{n:08d}"),
        business_accounts=[
            accounts_admin.AccountSpec(
                name="Business",
                account_number=f"44{n:08d}",
                children=[accounts_admin.AccountSpec(name="Personal", account_number=f"45{n:08d}")],
            )
        ],
        profile_manager=accounts_admin.ProfileManagerSpec(
            phone=phone, email=f"boss@{key}.example", display_name=f"Contract {n} boss", password=password
        ),
    )
    with grpc.insecure_channel(platform.accounts_target) as channel:
        stub = accounts_admin_grpc.AccountsAdminServiceStub(channel)
        answer = stub.OnboardCustomer(request, metadata=((OPERATOR_KEY, platform.config.operator_key),), timeout=10)
    kinds = {node.kind: node.id for node in answer.nodes}
    return ContractTenant(
        customer_id=answer.customer.id,
        company_id=kinds[hierarchy_pb2.NODE_KIND_COMPANY],
        personal_account_id=kinds[hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT],
        phone=phone,
        password=password,
        number_prefix=f"+799987{n % 10}",
    )


def import_contract_lines(platform: Platform, tenant: ContractTenant, count: int) -> list[str]:
    """``count`` active lines of the tenant (the back-office way), registered in the HLR before this returns."""
    numbers = [f"{tenant.number_prefix}{i:04d}" for i in range(count)]
    serial = 950_000 + int(tenant.number_prefix[-1]) * 1_000
    lines = [
        inventory_admin.ImportedLine(
            msisdn=msisdn,
            sim=demo_sim(serial + i),
            node_id=tenant.personal_account_id,
            personal_account_id=tenant.personal_account_id,
            tariff_code="BIZ-M",
            state=lines_pb2.LINE_STATE_ACTIVE,
        )
        for i, msisdn in enumerate(numbers)
    ]
    with grpc.insecure_channel(platform.inventory_target) as channel:
        inventory_admin_grpc.InventoryAdminServiceStub(channel).ImportLines(
            inventory_admin.ImportLinesRequest(customer_id=tenant.customer_id, lines=lines),
            metadata=((OPERATOR_KEY, platform.config.operator_key),),
            timeout=30,
        )
    with grpc.insecure_channel(platform.netsim_target) as channel:
        hlr = hlr_pb2_grpc.HlrServiceStub(channel)

        def registered() -> bool:
            try:
                hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=numbers[-1]), timeout=5)
            except grpc.RpcError:
                return False
            return True

        wait_until(registered, 60, "the imported lines in the HLR")
    return numbers


def access_token(platform: Platform, tenant: ContractTenant) -> str:
    """A fresh access token of the tenant's manager."""
    answer = httpx.post(
        f"{platform.gateway_url}/v1/auth/password",
        json={"phone": tenant.phone, "password": tenant.password},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token
