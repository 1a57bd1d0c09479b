"""Escalation through anything that changes what a grant means: a custom role's permissions, a node move, and grants
that keep working after their removal."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from simfleet_devstack.platform import Platform
from tests.e2e.conftest import onboard_customer
from tests.helpers import new_user, problem

pytestmark = pytest.mark.e2e
PASSWORD = "Escalation-Passw0rd-2026"


def signed_in(api: httpx.Client, phone: str) -> dict[str, Any]:
    response = api.post("/v1/auth/password", json={"phone": phone, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_a_department_role_manager_cannot_widen_a_company_wide_role(platform: Platform, api: httpx.Client) -> None:
    owner_phone = "+79996910001"
    customer = onboard_customer(
        platform, key="escalation-role", n=91, name="Escalation Role LLC", phone=owner_phone, password=PASSWORD
    )
    root = customer.customer.root_node_id
    owner = bearer(signed_in(api, owner_phone))
    sales = api.post("/v1/nodes", json={"parent_id": root, "name": "Sales", "kind": "department"}, headers=owner)
    assert sales.status_code == 201, sales.text
    narrow = api.post("/v1/roles", json={"name": "Narrow", "permissions": ["lines:read"]}, headers=owner)
    assert narrow.status_code == 201, narrow.text
    role_id = narrow.json()["id"]
    attacker = new_user(
        platform,
        password=PASSWORD,
        customer_id=customer.customer.id,
        grants=(("profile_manager", sales.json()["id"]), (role_id, root)),
    )
    victim = new_user(platform, password=PASSWORD, customer_id=customer.customer.id, grants=(("viewer", root),))
    tokens = signed_in(api, attacker.phone)

    widened = api.put(
        f"/v1/roles/{role_id}",
        json={"name": "Narrow", "permissions": ["lines:read", "users:manage"]},
        headers=bearer(tokens),
    )
    assert problem(widened, 403)["reason"] == "ROLE_GRANTED_BEYOND_YOU"
    role = next(r for r in api.get("/v1/roles", headers=owner).json()["items"] if r["id"] == role_id)
    assert role["permissions"] == ["lines:read"]
    refreshed = api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    after = bearer(refreshed.json())
    # The company's users are still beyond the attacker's reach.
    assert problem(api.post(f"/v1/users/{_user_id(api, owner, victim.phone)}/disable", headers=after), 404)


def test_a_removed_grant_stops_working_everywhere_within_seconds(platform: Platform, api: httpx.Client) -> None:
    owner_phone = "+79996920001"
    customer = onboard_customer(
        platform, key="escalation-grants", n=92, name="Escalation Grants LLC", phone=owner_phone, password=PASSWORD
    )
    root = customer.customer.root_node_id
    owner = bearer(signed_in(api, owner_phone))
    ops = api.post("/v1/nodes", json={"parent_id": root, "name": "Ops", "kind": "department"}, headers=owner)
    assert ops.status_code == 201, ops.text
    user = new_user(
        platform,
        password=PASSWORD,
        customer_id=customer.customer.id,
        grants=(("viewer", root), ("viewer", ops.json()["id"])),
    )
    tokens = signed_in(api, user.phone)
    auth = bearer(tokens)
    assert api.get(f"/v1/nodes/{root}", headers=auth).status_code == 200  # accounts
    assert api.get("/v1/lines", headers=auth).status_code == 200  # inventory
    user_id = _user_id(api, owner, user.phone)
    grants = api.get(f"/v1/users/{user_id}/grants", headers=owner).json()["items"]
    company_wide = next(g for g in grants if g["node_id"] == root)
    removed = api.delete(f"/v1/users/{user_id}/grants/{company_wide['id']}", headers=owner)
    assert removed.status_code == 204, removed.text

    # Within seconds (not at the token's expiry) accounts and inventory refuse the token issued before.
    for path in (f"/v1/nodes/{root}", "/v1/lines"):
        deadline = time.monotonic() + 5
        while (answer := api.get(path, headers=auth)).status_code != 401:
            assert time.monotonic() < deadline, f"{path} still accepts a token with a removed grant"
            time.sleep(0.05)
        assert problem(answer, 401)["reason"] == "GRANTS_CHANGED"
    # A refresh gives a token with the grants as they are now.
    refreshed = api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    now = bearer(refreshed.json())
    assert problem(api.get(f"/v1/nodes/{root}", headers=now), 404)
    assert api.get(f"/v1/nodes/{ops.json()['id']}", headers=now).status_code == 200


def _user_id(api: httpx.Client, auth: dict[str, str], phone: str) -> str:
    users = api.get("/v1/users", params={"limit": 1000}, headers=auth).json()["items"]
    return str(next(u["id"] for u in users if u["phone"] == phone))
