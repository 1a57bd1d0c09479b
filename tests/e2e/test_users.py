"""/v1/users, grants, /v1/roles and /v1/permissions through the gateway against the real processes (ID-8 to ID-11).

The demo profile manager invites a head of a department, who signs in by
one-time code and sets a password; nobody can grant more than they hold or
reach outside their scope; a disabled user's token stops working in identity
at once and in accounts as soon as identity's event arrives.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER
from tests.helpers import problem, wait_for_sms_code

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "Head-of-Regions-2026"


def sign_in(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def nodes(api: httpx.Client, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in api.get("/v1/nodes", params={"limit": 1000}, headers=auth).json()["items"]}


def test_invite_sign_in_grant_and_disable(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    permissions = api.get("/v1/permissions", headers=manager).json()["items"]
    assert {"lines:block", "users:manage", "hierarchy:manage"} <= {p["name"] for p in permissions}
    roles = api.get("/v1/roles", headers=manager).json()["items"]
    assert [r["id"] for r in roles if r["predefined"]] == [
        "profile_manager",
        "account_manager",
        "number_manager",
        "viewer",
        "coordinator_assistant",
    ]
    page = api.get("/v1/roles", params={"limit": 2}, headers=manager).json()
    following = api.get("/v1/roles", params={"limit": 2, "cursor": page["next_cursor"]}, headers=manager).json()
    paged = [r["id"] for r in page["items"] + following["items"]]
    assert paged == ["profile_manager", "account_manager", "number_manager", "viewer"]
    tree = nodes(api, manager)
    regions, moscow, company = tree["Regions"], tree["Moscow"], tree["Demo Logistics LLC"]

    invite = {
        "phone": "+79995550001",
        "email": "head.of.regions@demo.example",
        "name": "Head of Regions",
        "grants": [{"role": "profile_manager", "node_id": regions["id"]}],
    }
    created = api.post("/v1/users", json=invite, headers={**manager, "Idempotency-Key": "invite-regions-1"})
    assert created.status_code == 201, created.text
    head = created.json()
    assert head["user"]["has_password"] is False and head["grants"][0]["role"] == "profile_manager"
    again = api.post("/v1/users", json=invite, headers={**manager, "Idempotency-Key": "invite-regions-1"})
    assert again.status_code == 201 and again.json()["user"]["id"] == head["user"]["id"]

    # The invitation arrives; the head signs in by code and sets a password (ID-8).
    challenge = api.post("/v1/auth/otp", json={"phone": invite["phone"], "channel": "sms"}).json()["challenge_id"]
    code = wait_for_sms_code(platform, invite["phone"])
    tokens = api.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code}).json()
    by_code = {"Authorization": f"Bearer {tokens['access_token']}"}
    changed = api.put("/v1/me/password", json={"current_password": "-", "new_password": NEW_PASSWORD}, headers=by_code)
    assert changed.status_code == 204, changed.text
    head_auth = sign_in(api, invite["phone"], NEW_PASSWORD)
    assert set(nodes(api, head_auth)) == {"Regions", "Moscow", "Saint Petersburg", "North-West branch"}

    # Nobody grants beyond their scope or what they hold there.
    helper = {"phone": "+79995550002", "email": "helper@demo.example", "name": "Regional helper"}
    outside = {**helper, "grants": [{"role": "viewer", "node_id": company["id"]}]}
    assert problem(api.post("/v1/users", json=outside, headers=head_auth), 404)["reason"] == "NODE_NOT_FOUND"
    inside = {**helper, "grants": [{"role": "number_manager", "node_id": moscow["id"]}]}
    made = api.post("/v1/users", json=inside, headers=head_auth)
    assert made.status_code == 201, made.text
    helper_id = made.json()["user"]["id"]
    assert problem(api.get(f"/v1/users/{head['user']['id']}", headers=sign_in_helper(platform, api)), 404)

    # Custom roles: from the catalogue, never wider than the creator.
    role = api.post(
        "/v1/roles", json={"name": "Fleet coordinator", "permissions": ["lines:read", "lines:block"]}, headers=manager
    )
    assert role.status_code == 201, role.text
    granted = api.post(
        f"/v1/users/{helper_id}/grants", json={"role": role.json()["id"], "node_id": regions["id"]}, headers=head_auth
    )
    assert granted.status_code == 201, granted.text
    assert granted.headers["Location"] == f"/v1/users/{helper_id}/grants/{granted.json()['id']}"
    assert problem(api.delete(f"/v1/roles/{role.json()['id']}", headers=manager), 409)["reason"] == "ROLE_IN_USE"
    first = api.get(f"/v1/users/{helper_id}/grants", params={"limit": 1}, headers=manager).json()
    rest = api.get(
        f"/v1/users/{helper_id}/grants", params={"limit": 1, "cursor": first["next_cursor"]}, headers=manager
    ).json()
    grants = first["items"] + rest["items"]
    assert rest["next_cursor"] is None
    assert {g["role_name"] for g in grants} == {"Number manager", "Fleet coordinator"}

    # Disabling: identity refuses at once, accounts as soon as identity's event arrives.
    assert (
        problem(api.post(f"/v1/users/{head['user']['id']}/disable", headers=head_auth), 409)["reason"] == "OWN_ACCESS"
    )
    disabled = api.post(f"/v1/users/{head['user']['id']}/disable", headers=manager)
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert problem(api.get("/v1/me", headers=head_auth), 401)
    deadline = time.monotonic() + 5
    while api.get("/v1/nodes", headers=head_auth).status_code != 401:
        assert time.monotonic() < deadline, "accounts still accepts a disabled user's token"
        time.sleep(0.05)
    assert problem(api.get("/v1/nodes", headers=head_auth), 401)["reason"] == "SESSION_ENDED"
    disabled_ids = [
        u["id"] for u in api.get("/v1/users", params={"status": "disabled"}, headers=manager).json()["items"]
    ]
    active_ids = [u["id"] for u in api.get("/v1/users", params={"status": "active"}, headers=manager).json()["items"]]
    assert head["user"]["id"] in disabled_ids and head["user"]["id"] not in active_ids


def sign_in_helper(platform: Platform, api: httpx.Client) -> dict[str, str]:
    """The regional helper signs in by code (they have no password): a number manager may not list users."""
    challenge = api.post("/v1/auth/otp", json={"phone": "+79995550002", "channel": "sms"}).json()["challenge_id"]
    code = wait_for_sms_code(platform, "+79995550002")
    tokens = api.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert problem(api.get("/v1/users", headers=auth), 403)["reason"] == "PERMISSION_MISSING"
    return auth
