"""Inviting a number tells the inviter nothing about other customers (issue 10, item 6).

The number was unique across customers, so inviting a manager of another
company answered 409 PHONE_TAKEN: anyone with `users:manage` could test which
numbers were users of some other customer. A number is now a user of each
customer that invites it, and signs in to one at a time.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simfleet_devstack.platform import Platform
from tests.e2e.conftest import onboard_customer
from tests.helpers import codes_in, inbox, problem, wait_for_sms_code

pytestmark = pytest.mark.e2e
PASSWORD = "Invitation-Passw0rd-2026"


def bearer(api: httpx.Client, phone: str, **extra: str) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": phone, "password": PASSWORD, **extra})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def invite(api: httpx.Client, manager: dict[str, str], phone: str, root: str, key: str) -> httpx.Response:
    body = {
        "phone": phone,
        "email": f"{key}@invited.example",
        "name": "Invited Person",
        "grants": [{"role": "viewer", "node_id": root}],
    }
    return api.post("/v1/users", json=body, headers={**manager, "Idempotency-Key": key})


def shape(response: httpx.Response) -> tuple[int, list[str], list[str], Any]:
    body = response.json()
    return response.status_code, sorted(body), sorted(body["user"]), body["user"]["has_password"]


def test_inviting_another_customer_s_user_looks_like_inviting_anyone(platform: Platform, api: httpx.Client) -> None:
    theirs_phone, ours_phone, fresh_phone = "+79996940001", "+79996940002", "+79996940003"
    theirs = onboard_customer(
        platform, key="invite-theirs", n=94, name="Their Company LLC", phone=theirs_phone, password=PASSWORD
    )
    ours = onboard_customer(
        platform, key="invite-ours", n=95, name="Our Company LLC", phone=ours_phone, password=PASSWORD
    )
    manager = bearer(api, ours_phone)
    root = ours.customer.root_node_id

    of_theirs = invite(api, manager, theirs_phone, root, "invite-their-manager")
    of_nobody = invite(api, manager, fresh_phone, root, "invite-a-new-number")
    assert of_theirs.status_code == 201, of_theirs.text
    assert shape(of_theirs) == shape(of_nobody)  # nothing tells the two apart
    assert of_theirs.json()["user"]["customer_id"] == ours.customer.id
    # The same customer inviting the number twice is its own business, and is refused.
    assert problem(invite(api, manager, theirs_phone, root, "invite-again"), 409)["reason"] == "PHONE_TAKEN"

    # Their manager still signs in to their own company by default, and to ours when asking for it.
    home = api.get("/v1/me", headers=bearer(api, theirs_phone)).json()
    assert home["customer_id"] == theirs.customer.id
    assert [m["customer_id"] for m in home["memberships"]] == [theirs.customer.id, ours.customer.id]
    seen = len(codes_in(inbox(platform, theirs_phone)))
    challenge = api.post(
        "/v1/auth/otp", json={"phone": theirs_phone, "channel": "sms", "customer_id": ours.customer.id}
    )
    assert challenge.status_code == 202, challenge.text
    code = wait_for_sms_code(platform, theirs_phone, seen=seen)
    tokens = api.post("/v1/auth/otp/verify", json={"challenge_id": challenge.json()["challenge_id"], "code": code})
    assert tokens.status_code == 200, tokens.text
    in_ours = api.get("/v1/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}).json()
    assert in_ours["customer_id"] == ours.customer.id and in_ours["has_password"] is False
    # Their grants did not come along: in our company they see what our viewer grant shows.
    listed = api.get("/v1/nodes", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert listed.status_code == 200
    assert {n["id"] for n in listed.json()["items"]} >= {root}
    assert theirs.customer.root_node_id not in {n["id"] for n in listed.json()["items"]}


def test_the_chosen_customer_is_checked_at_the_edge(api: httpx.Client) -> None:
    for value in ("", "x" * 65, "a b", "../etc", "\u202e"):
        refused = api.post("/v1/auth/otp", json={"phone": "+79996940009", "channel": "sms", "customer_id": value})
        assert problem(refused, 422)["errors"][0]["field"] == "customer_id", value
