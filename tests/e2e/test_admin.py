"""/v1/admin through the gateway (AC-1): operator staff onboard a customer whose manager then signs in."""

from __future__ import annotations

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_OPERATOR
from simfleet_runtime.testing import wait_until
from tests.helpers import inbox, problem, wait_for_sms_code

pytestmark = pytest.mark.e2e

ONBOARDING = {
    "legal_entity": {
        "name": "Northwind Freight LLC",
        "tax_number": "500100732259",
        "registration_number": "304500116000157",
        "tax_registration_reason_code": "",
    },
    "contracts": [{"number": "SF-E2E/0042", "signed_on": "2026-02-01"}],
    "general_account": {"name": "General account", "account_number": "4300000001"},
    "business_accounts": [
        {
            "name": "Head office",
            "account_number": "4300000002",
            "personal_accounts": [{"name": "Management", "account_number": "4300000003"}],
        }
    ],
    "profile_manager": {"phone": "+79994440001", "email": "it@northwind.example", "name": "Anna Petrova"},
}


def sign_in(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_operator_staff_onboard_a_customer_whose_manager_signs_in(platform: Platform, api: httpx.Client) -> None:
    staff = sign_in(api, DEMO_OPERATOR.phone, DEMO_OPERATOR.password)
    key = {**staff, "Idempotency-Key": "e2e-northwind"}

    assert problem(api.post("/v1/admin/customers", json=ONBOARDING, headers=staff), 422)  # no Idempotency-Key
    bad = {**ONBOARDING, "legal_entity": {**ONBOARDING["legal_entity"], "tax_number": "500100732258"}}
    invalid = problem(api.post("/v1/admin/customers", json=bad, headers={**staff, "Idempotency-Key": "e2e-bad"}), 422)
    assert "legal_entity.tax_number" in {e["field"] for e in invalid["errors"]}

    created = api.post("/v1/admin/customers", json=ONBOARDING, headers=key)
    assert created.status_code == 201, created.text
    body = created.json()
    customer = body["customer"]
    assert created.headers["location"] == f"/v1/admin/customers/{customer['id']}"
    assert [n["kind"] for n in body["nodes"]] == ["company", "general_account", "business_account", "personal_account"]
    again = api.post("/v1/admin/customers", json=ONBOARDING, headers=key)
    assert again.status_code == 201 and again.json()["customer"]["id"] == customer["id"]

    business = body["nodes"][2]
    account = api.post(
        f"/v1/admin/customers/{customer['id']}/accounts",
        json={
            "parent_id": business["id"],
            "kind": "personal_account",
            "name": "Couriers",
            "account_number": "4300000004",
        },
        headers=staff,
    )
    assert account.status_code == 201, account.text
    assert account.headers["Location"] == f"/v1/nodes/{account.json()['id']}"
    assert api.get(f"/v1/admin/customers/{customer['id']}", headers=staff).json()["status"] == "active"
    found = api.get("/v1/admin/customers", params={"q": "northwind"}, headers=staff).json()["items"]
    assert [c["id"] for c in found] == [customer["id"]]

    # The new manager was invited, signs in by code, and sees the new tree.
    phone = ONBOARDING["profile_manager"]["phone"]
    wait_until(lambda: inbox(platform, phone), what="the invitation")
    challenge = api.post("/v1/auth/otp", json={"phone": phone, "channel": "sms"}).json()["challenge_id"]
    code = wait_for_sms_code(platform, phone)
    tokens = api.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code}).json()
    manager = {"Authorization": f"Bearer {tokens['access_token']}"}
    names = {n["name"] for n in api.get("/v1/nodes", headers=manager).json()["items"]}
    assert names == {"Northwind Freight LLC", "General account", "Head office", "Management", "Couriers"}

    # Customers' users are not operator staff, and operator staff are no customer's users.
    demo = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    assert problem(api.get("/v1/admin/customers", headers=demo), 403)["reason"] == "OPERATOR_ONLY"
    assert problem(api.get("/v1/nodes", headers=staff), 403)["reason"] == "OPERATOR_TOKEN"
    assert problem(api.get("/v1/admin/customers"), 401)
