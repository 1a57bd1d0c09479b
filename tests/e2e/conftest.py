from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from simfleet.accounts.v1 import admin_pb2, admin_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_runtime.context import OPERATOR_KEY
from tests.helpers import running_platform

OTHER_MANAGER_PHONE = "+79997770001"
OTHER_MANAGER_PASSWORD = "Other-Passw0rd-2026"


def onboard_other_customer(platform: Platform) -> admin_pb2.OnboardCustomerResponse:
    """A second customer, onboarded the back-office way (idempotent: every test gets the same one)."""
    request = admin_pb2.OnboardCustomerRequest(
        request_id="e2e-other-customer",
        legal_entity=admin_pb2.LegalEntity(
            name="Other Trading LLC",
            tax_number="7707083893",
            registration_number="1027700132195",
            tax_registration_reason_code="773601001",
        ),
        contracts=[admin_pb2.Contract(number="SF-E2E/0002", signed_on="2026-02-01")],
        general_account=admin_pb2.AccountSpec(name="General", account_number="4200000001"),
        profile_manager=admin_pb2.ProfileManagerSpec(
            phone=OTHER_MANAGER_PHONE,
            email="boss@other.example",
            display_name="Other Boss",
            password=OTHER_MANAGER_PASSWORD,
        ),
    )
    with grpc.insecure_channel(platform.accounts_target) as channel:
        stub = admin_pb2_grpc.AccountsAdminServiceStub(channel)
        answer: admin_pb2.OnboardCustomerResponse = stub.OnboardCustomer(
            request, metadata=((OPERATOR_KEY, platform.config.operator_key),), timeout=10
        )
    return answer


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("platform")
    with running_platform(data_dir, "e2e") as running:
        yield running


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers={"User-Agent": "simfleet-e2e"}) as client:
        yield client
