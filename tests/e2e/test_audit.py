"""The action history through the gateway (AU-1): commands of every service and sign-ins, within the reader's scope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER
from simfleet_runtime.testing import wait_until
from tests.helpers import new_user, problem

pytestmark = pytest.mark.e2e
PASSWORD = "Audit-Passw0rd-2026"


def sign_in(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def history(api: httpx.Client, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = api.get("/v1/audit-events", params={"limit": 1000, **params}, headers=auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_the_history_holds_commands_and_sign_ins_within_scope(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    items = api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]
    by_name = {n["name"]: n for n in items}
    regions, finance, company = by_name["Regions"], by_name["Finance"], by_name["Demo Logistics LLC"]
    me = api.get("/v1/me", headers=manager).json()

    # Two changes, in different parts of the tree, and one refused.
    in_regions = api.post(
        "/v1/nodes", json={"parent_id": regions["id"], "name": "Kazan", "kind": "city"}, headers=manager
    )
    assert in_regions.status_code == 201
    in_finance = api.post("/v1/nodes", json={"parent_id": finance["id"], "name": "Payroll"}, headers=manager)
    assert in_finance.status_code == 201
    try:
        problem(api.post("/v1/nodes", json={"parent_id": company["id"], "name": "head office"}, headers=manager), 409)

        everything = wait_until(
            lambda: [e for e in history(api, manager, action="hierarchy.node.create") if e["objects"]],
            10,
            "the node changes",
            interval=0.1,
        )
        kazan = next(e for e in everything if e["objects"][0]["id"] == in_regions.json()["id"])
        assert kazan["result"] == "succeeded" and kazan["service"] == "accounts" and kazan["trace_id"]
        assert (kazan["actor_id"], kazan["actor_kind"]) == (me["id"], "user")
        wait_until(
            lambda: any(e["reason"] == "NODE_NAME_TAKEN" for e in history(api, manager, action="hierarchy")),
            10,
            "refusal",
            interval=0.1,
        )
        sign_ins = wait_until(lambda: history(api, manager, action="auth.sign_in"), 10, "sign-ins", interval=0.1)
        assert {e["service"] for e in sign_ins} == {"identity"}
        assert any(e["action"] == "auth.sign_in.password" and e["result"] == "succeeded" for e in sign_ins)

        # A reader at Regions sees what happened in Regions only, not the company's sign-ins.
        head = new_user(
            platform,
            password=PASSWORD,
            customer_id=me["customer_id"],
            grants=(("profile_manager", regions["id"]),),
        )
        head_auth = sign_in(api, head.phone, PASSWORD)
        seen = history(api, head_auth)
        touched = {o["id"] for e in seen for o in e["objects"]}
        assert in_regions.json()["id"] in touched and in_finance.json()["id"] not in touched
        assert not [e for e in seen if e["action"].startswith("auth.sign_in")]
        assert problem(api.get("/v1/audit-events", params={"node_id": finance["id"]}, headers=head_auth), 404)

        # Without audit:read there is no history to read.
        viewer = new_user(
            platform, password=PASSWORD, customer_id=me["customer_id"], grants=(("viewer", company["id"]),)
        )
        refused = problem(api.get("/v1/audit-events", headers=sign_in(api, viewer.phone, PASSWORD)), 403)
        assert refused["reason"] == "PERMISSION_MISSING"

        # Identity's commands are part of it: the manager disabling the viewer.
        viewer_id = api.get("/v1/users", params={"q": viewer.phone}, headers=manager).json()["items"][0]["id"]
        assert api.post(f"/v1/users/{viewer_id}/disable", headers=manager).status_code == 200
        disabled = wait_until(
            lambda: history(api, manager, action="users.disable", object_id=viewer_id),
            10,
            "the disabling",
            interval=0.1,
        )
        assert disabled[0]["service"] == "identity" and disabled[0]["result"] == "succeeded"
    finally:  # the other tests of the package know the demo tree exactly
        for node in (in_regions, in_finance):
            api.delete(f"/v1/nodes/{node.json()['id']}", headers=manager)


def test_the_history_holds_the_groups_of_lines_made_changed_deleted_and_refused(
    platform: Platform, api: httpx.Client
) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    items = api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]
    by_name = {n["name"]: n for n in items}
    regions, company = by_name["Regions"], by_name["Demo Logistics LLC"]
    me = api.get("/v1/me", headers=manager).json()

    made = api.post(
        "/v1/lines/groups",
        json={"node_id": regions["id"], "name": "Audited couriers", "icon": "truck", "colour": "orange"},
        headers=manager,
    )
    assert made.status_code == 201, made.text
    group_id = made.json()["id"]
    try:
        renamed = api.patch(f"/v1/lines/groups/{group_id}", json={"name": "Audited drivers"}, headers=manager)
        assert renamed.status_code == 200, renamed.text
        # A viewer sees the group and may not delete it: refused, and recorded as refused.
        viewer = new_user(
            platform, password=PASSWORD, customer_id=me["customer_id"], grants=(("viewer", company["id"]),)
        )
        refused = problem(api.delete(f"/v1/lines/groups/{group_id}", headers=sign_in(api, viewer.phone, PASSWORD)), 403)
        assert refused["reason"] == "PERMISSION_MISSING"
    finally:  # the other tests of the package know the demo tree's groups exactly
        deleted = api.delete(f"/v1/lines/groups/{group_id}", headers=manager)
    assert deleted.status_code == 204, deleted.text

    def the_four() -> list[dict[str, Any]]:
        found = history(api, manager, action="lines.groups", object_id=group_id)
        return found if len(found) == 4 else []

    events = wait_until(the_four, 10, "the group's four records", interval=0.1)
    assert {(e["action"], e["result"]) for e in events} == {
        ("lines.groups.create", "succeeded"),
        ("lines.groups.update", "succeeded"),
        ("lines.groups.delete", "failed"),
        ("lines.groups.delete", "succeeded"),
    }
    assert {e["service"] for e in events} == {"inventory"}
    [failed] = [e for e in events if e["result"] == "failed"]
    assert failed["reason"] == "PERMISSION_MISSING" and failed["actor_id"] != me["id"]
    assert {e["actor_id"] for e in events if e["result"] == "succeeded"} == {me["id"]}
    made_event = next(e for e in events if e["action"] == "lines.groups.create")
    assert {(o["kind"], o["id"]) for o in made_event["objects"]} == {("line_group", group_id), ("node", regions["id"])}
