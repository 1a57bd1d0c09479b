from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from simfleet.accounts.v1 import admin_pb2, admin_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import with_inn_check_digit, with_ogrn_check_digit
from simfleet_runtime.context import OPERATOR_KEY
from tests.helpers import running_platform

OTHER_MANAGER_PHONE = "+79997770001"
OTHER_MANAGER_PASSWORD = "Other-Passw0rd-2026"


def onboard_customer(
    platform: Platform, *, key: str, n: int, name: str, phone: str, password: str
) -> admin_pb2.OnboardCustomerResponse:
    """A customer onboarded the back-office way, idempotent by ``key``: every test asking for it gets the same one.

    ``n`` picks its tax and registration numbers (valid check digits, unique per ``n``).
    """
    request = admin_pb2.OnboardCustomerRequest(
        request_id=f"e2e-{key}",
        legal_entity=admin_pb2.LegalEntity(
            name=name,
            tax_number=with_inn_check_digit(f"77{n:07d}"),
            registration_number=with_ogrn_check_digit(f"102770{n:06d}"),
            tax_registration_reason_code="773601001",
        ),
        contracts=[admin_pb2.Contract(number=f"SF-E2E/{n:04d}", signed_on="2026-02-01")],
        general_account=admin_pb2.AccountSpec(name="General", account_number=f"42{n:08d}"),
        profile_manager=admin_pb2.ProfileManagerSpec(
            phone=phone, email=f"boss@{key}.example", display_name=f"{name} boss", password=password
        ),
    )
    with grpc.insecure_channel(platform.accounts_target) as channel:
        stub = admin_pb2_grpc.AccountsAdminServiceStub(channel)
        answer: admin_pb2.OnboardCustomerResponse = stub.OnboardCustomer(
            request, metadata=((OPERATOR_KEY, platform.config.operator_key),), timeout=10
        )
    return answer


def onboard_other_customer(platform: Platform) -> admin_pb2.OnboardCustomerResponse:
    """A second customer beside the demo one (idempotent: every test gets the same one)."""
    return onboard_customer(
        platform,
        key="other-customer",
        n=2,
        name="Other Trading LLC",
        phone=OTHER_MANAGER_PHONE,
        password=OTHER_MANAGER_PASSWORD,
    )


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("platform")
    # The console's browser tests are a unit of work of their own (the root conftest.py), so two xdist workers may
    # each run this package's platform at once: on PostgreSQL each needs databases of its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    with running_platform(data_dir, f"e2e_{worker}" if worker else "e2e") as running:
        yield running


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers={"User-Agent": "simfleet-e2e"}) as client:
        yield client
