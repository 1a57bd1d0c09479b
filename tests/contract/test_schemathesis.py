"""Schemathesis against the running platform: what the OpenAPI promises is what the gateway answers.

Every operation gets a bounded number of generated requests (valid and invalid), as the signed-in manager of a
throwaway customer with a few lines; each answer must be no 5xx, a documented status, of the documented content
type, with the documented headers, and conform to the documented schema. Seeded and derandomized: the same cases
every run. The document is the gateway's own (built in-process, so that the cases exist when pytest collects them);
a test checks that the platform serves exactly that document.

No operation is left out. The sign-in endpoints (tag `auth`) are sent without the manager's token, as the
anonymous clients they serve would (a sign-out must not end the session the other cases run in). The event
stream is included: generated ids find no operation, so it answers problems, never an endless stream.
Schemathesis' stateful phase is off (the cases are independent, which keeps the run bounded and repeatable).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi import checks as openapi_checks

from gateway.main import create_app
from gateway.settings import GatewaySettings
from simfleet_devstack.platform import Platform
from tests.contract.conftest import ContractTenant, access_token, import_contract_lines, onboard_contract_tenant

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 20
"""Generated requests per operation in the fuzzing phase (the examples and coverage phases add their own): about
3,000 requests in all, under two minutes with the platform's start."""
REQUEST_DEADLINE_SECONDS = 20
"""Every answer within this (a slower one fails the case); no per-example timing beyond it, which a shared CI
machine would make flaky."""

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]

CONFIG = f"""
seed = 20261206

[generation]
max-examples = {MAX_EXAMPLES}
deterministic = true
database = "none"

[phases.stateful]
enabled = false
"""

DOCUMENT = create_app(GatewaySettings()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=SchemathesisConfig.from_str(CONFIG))


class ManagerSession:
    """The tenant's manager, signed in; signed in again if a case ended the session."""

    def __init__(self, platform: Platform, tenant: ContractTenant) -> None:
        self.platform = platform
        self.tenant = tenant
        self.token = access_token(platform, tenant)

    def renew(self) -> None:
        self.token = access_token(self.platform, self.tenant)


@pytest.fixture(scope="module")
def manager(platform: Platform) -> ManagerSession:
    tenant = onboard_contract_tenant(platform, 2)
    import_contract_lines(platform, tenant, 5)
    return ManagerSession(platform, tenant)


def test_the_platform_serves_the_document_tested(platform: Platform) -> None:
    answer = httpx.get(f"{platform.gateway_url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_the_gateway_answers_as_its_openapi_says(case: Any, platform: Platform, manager: ManagerSession) -> None:
    # Bearer-secured operations are called as the manager (the sign-in endpoints as the anonymous clients they
    # serve: a sign-out there must not end the session the other cases run in).
    secured = bool(case.operation.definition.raw.get("security")) and "auth" not in case.operation.tags

    def call() -> Any:
        if secured:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {manager.token}"}
        return case.call(base_url=platform.gateway_url, timeout=REQUEST_DEADLINE_SECONDS)

    response = call()
    if secured and response.status_code == 401:
        manager.renew()
        response = call()
    case.validate_response(response, checks=CHECKS)
