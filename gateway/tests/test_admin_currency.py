"""/v1/admin/customers: the customer's currency and settlement method at onboarding (RUB and prepaid by default)."""

from __future__ import annotations

import copy

import pytest

from simfleet.accounts.v1 import admin_pb2 as pb
from simfleet_runtime.errors import InvalidArgument

from .test_admin import BEARER, ONBOARDING, customer


async def test_onboarding_passes_the_currency_and_the_method_and_answers_them(accounts_client, accounts):
    accounts.script(
        "OnboardCustomer",
        pb.OnboardCustomerResponse(customer=customer(currency="IRR", settlement_method="postpaid")),
        pb.OnboardCustomerResponse(customer=customer()),
    )
    body = {**copy.deepcopy(ONBOARDING), "currency": "IRR", "settlement_method": "postpaid"}
    response = await accounts_client.post(
        "/v1/admin/customers", headers={**BEARER, "Idempotency-Key": "onboard-irr"}, json=body
    )
    assert response.status_code == 201, response.text
    assert (response.json()["customer"]["currency"], response.json()["customer"]["settlement_method"]) == (
        "IRR",
        "postpaid",
    )
    request = accounts.last("OnboardCustomer").request
    assert (request.currency, request.settlement_method) == ("IRR", "postpaid")

    # Not given: RUB, prepaid.
    response = await accounts_client.post(
        "/v1/admin/customers", headers={**BEARER, "Idempotency-Key": "onboard-rub"}, json=ONBOARDING
    )
    assert response.status_code == 201, response.text
    request = accounts.last("OnboardCustomer").request
    assert (request.currency, request.settlement_method) == ("RUB", "prepaid")
    assert response.json()["customer"]["currency"] == "RUB"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "irr"}, "currency"),
        ({"currency": "RUBL"}, "currency"),
        ({"currency": 364}, "currency"),
        ({"settlement_method": "monthly"}, "settlement_method"),
    ],
)
async def test_a_malformed_currency_or_method_is_refused_before_accounts_is_asked(
    accounts_client, accounts, problem, change, field
):
    body = {**copy.deepcopy(ONBOARDING), **change}
    response = await accounts_client.post("/v1/admin/customers", headers={**BEARER, "Idempotency-Key": "k"}, json=body)
    assert field in {e["field"] for e in problem(response, 422, "VALIDATION_FAILED")["errors"]}
    assert accounts.calls == []


async def test_a_currency_not_in_use_is_refused_by_accounts(accounts_client, accounts, problem):
    accounts.script(
        "OnboardCustomer",
        InvalidArgument(
            "the onboarding request is not valid",
            field_violations={"currency": "an ISO 4217 currency code in use, in capitals, such as RUB or IRR"},
        ),
    )
    body = {**copy.deepcopy(ONBOARDING), "currency": "XYZ"}
    response = await accounts_client.post("/v1/admin/customers", headers={**BEARER, "Idempotency-Key": "k"}, json=body)
    assert "currency" in {e["field"] for e in problem(response, 422, "INVALID_ARGUMENT")["errors"]}
