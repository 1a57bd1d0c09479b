"""/v1/nodes through the gateway against the real processes (AC-2, AC-3): the tree, its changes, scope.

Users with narrower grants are created the back-office way (identity's
CreateUser with grants); a second customer is onboarded to prove that one
customer's node ids mean nothing to another's users.
"""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest

from simfleet.accounts.v1 import admin_pb2, admin_pb2_grpc
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_TAX_NUMBER, demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from tests.e2e.conftest import (
    OTHER_MANAGER_PASSWORD,
    OTHER_MANAGER_PHONE,
    onboard_customer,
    onboard_other_customer,
)
from tests.helpers import new_user, problem

pytestmark = pytest.mark.e2e
PASSWORD = "Scope-Passw0rd-2026"


def bearer(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def operator(platform: Platform) -> tuple[tuple[str, str], ...]:
    return ((OPERATOR_KEY, platform.config.operator_key),)


def demo(platform: Platform) -> admin_pb2.Customer:
    with grpc.insecure_channel(platform.accounts_target) as channel:
        found = admin_pb2_grpc.AccountsAdminServiceStub(channel).ListCustomers(
            admin_pb2.ListCustomersRequest(query=DEMO_TAX_NUMBER), metadata=operator(platform), timeout=5
        )
    return found.customers[0]


def by_name(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in nodes}


@pytest.fixture(scope="module")
def manager(platform: Platform) -> dict[str, str]:
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        return bearer(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)


def test_the_manager_sees_the_whole_tree_flat_and_nested(platform: Platform, api: httpx.Client, manager: Any) -> None:
    customer = demo(platform)
    flat = api.get("/v1/nodes", params={"limit": 5}, headers=manager)
    assert flat.status_code == 200, flat.text
    page = flat.json()
    assert len(page["items"]) == 5 and page["next_cursor"]
    assert page["items"][0]["id"] == customer.root_node_id and page["items"][0]["parent_id"] is None
    following = api.get("/v1/nodes", params={"limit": 5, "cursor": page["next_cursor"]}, headers=manager).json()
    assert not {n["id"] for n in following["items"]} & {n["id"] for n in page["items"]}

    tree = api.get("/v1/nodes", params={"view": "tree"}, headers=manager).json()["items"]
    (company,) = tree
    assert company["kind"] == "company"
    children = by_name(company["children"])
    assert children["Regions"]["kind"] == "department"
    assert {c["name"] for c in children["Regions"]["children"]} == {"Moscow", "Saint Petersburg", "North-West branch"}
    general = next(c for c in company["children"] if c["kind"] == "general_account")
    assert len(general["children"]) == 3 and general["account_number"]

    accounts = api.get("/v1/nodes", params={"kind": ["personal_account"], "sort": "name"}, headers=manager).json()
    assert [n["name"] for n in accounts["items"]] == sorted(n["name"] for n in accounts["items"])
    assert len(accounts["items"]) == 6


def test_create_rename_move_summarise_and_delete(platform: Platform, api: httpx.Client, manager: Any) -> None:
    customer = demo(platform)
    created = api.post(
        "/v1/nodes",
        json={"parent_id": customer.root_node_id, "name": "Procurement", "kind": "department"},
        headers=manager,
    )
    assert created.status_code == 201, created.text
    node = created.json()
    assert created.headers["location"] == f"/v1/nodes/{node['id']}"
    team = api.post("/v1/nodes", json={"parent_id": node["id"], "name": "Tenders"}, headers=manager).json()

    problem(
        api.post("/v1/nodes", json={"parent_id": customer.root_node_id, "name": "procurement"}, headers=manager), 409
    )
    invalid = problem(api.post("/v1/nodes", json={"parent_id": "nope", "name": ""}, headers=manager), 422)
    assert {e["field"] for e in invalid["errors"]} >= {"parent_id", "name"}

    renamed = api.patch(f"/v1/nodes/{node['id']}", json={"name": "Purchasing"}, headers=manager)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Purchasing"

    regions = by_name(api.get("/v1/nodes", params={"q": "regions"}, headers=manager).json()["items"])["Regions"]
    moved = api.post(f"/v1/nodes/{node['id']}/move", json={"parent_id": regions["id"]}, headers=manager)
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved_nodes"] == 2 and moved.json()["node"]["depth"] == 2
    below = api.get(f"/v1/nodes/{node['id']}/children", headers=manager).json()["items"]
    assert [n["id"] for n in below] == [team["id"]] and below[0]["path"].startswith(regions["path"])
    into_itself = problem(
        api.post(f"/v1/nodes/{node['id']}/move", json={"parent_id": team["id"]}, headers=manager), 409
    )
    assert into_itself["reason"] == "MOVE_INTO_SUBTREE"

    summary = api.get(f"/v1/nodes/{regions['id']}/summary", headers=manager).json()
    assert summary["descendants"] == 5 and summary["figures"] == []

    assert problem(api.delete(f"/v1/nodes/{node['id']}", headers=manager), 409)["reason"] == "NODE_NOT_EMPTY"
    assert api.delete(f"/v1/nodes/{team['id']}", headers=manager).status_code == 204
    assert api.delete(f"/v1/nodes/{node['id']}", headers=manager).status_code == 204
    assert problem(api.get(f"/v1/nodes/{node['id']}", headers=manager), 404)["reason"] == "NODE_NOT_FOUND"


def test_scope_and_permissions_decide_each_answer(platform: Platform, api: httpx.Client, manager: Any) -> None:
    customer = demo(platform)
    nodes = by_name(api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"])
    regions, moscow, finance = nodes["Regions"], nodes["Moscow"], nodes["Finance"]

    head = new_user(platform, password=PASSWORD, customer_id=customer.id, grants=(("profile_manager", regions["id"]),))
    viewer = new_user(platform, password=PASSWORD, customer_id=customer.id, grants=(("viewer", customer.root_node_id),))
    nobody = new_user(platform, password=PASSWORD, customer_id=customer.id)
    head_auth = bearer(api, head.phone, PASSWORD)
    viewer_auth = bearer(api, viewer.phone, PASSWORD)

    seen = api.get("/v1/nodes", params={"limit": 1000}, headers=head_auth).json()["items"]
    assert {n["name"] for n in seen} == {"Regions", "Moscow", "Saint Petersburg", "North-West branch"}
    # (who, method, path, body) → status
    matrix: list[tuple[dict[str, str], str, str, dict[str, Any] | None, int]] = [
        (head_auth, "GET", f"/v1/nodes/{moscow['id']}", None, 200),
        (head_auth, "GET", f"/v1/nodes/{finance['id']}", None, 404),
        (head_auth, "GET", f"/v1/nodes/{customer.root_node_id}", None, 404),
        (head_auth, "PATCH", f"/v1/nodes/{finance['id']}", {"name": "Taken"}, 404),
        (head_auth, "POST", f"/v1/nodes/{moscow['id']}/move", {"parent_id": finance["id"]}, 404),
        (viewer_auth, "GET", f"/v1/nodes/{finance['id']}", None, 200),
        (viewer_auth, "GET", f"/v1/nodes/{finance['id']}/summary", None, 200),
        (viewer_auth, "PATCH", f"/v1/nodes/{finance['id']}", {"name": "Mine"}, 403),
        (viewer_auth, "POST", "/v1/nodes", {"parent_id": finance["id"], "name": "Mine"}, 403),
        (viewer_auth, "DELETE", f"/v1/nodes/{moscow['id']}", None, 403),
        ({}, "GET", "/v1/nodes", None, 401),
        ({"Authorization": "Bearer not-a-token"}, "GET", "/v1/nodes", None, 401),
    ]
    for headers, method, path, body, expected in matrix:
        answer = api.request(method, path, json=body, headers=headers)
        assert answer.status_code == expected, (method, path, answer.status_code, answer.text)
        if expected >= 400:
            assert answer.headers["content-type"].startswith("application/problem+json")
    assert api.get("/v1/nodes", headers=bearer(api, nobody.phone, PASSWORD)).json()["items"] == []


def test_another_customers_nodes_are_not_found(platform: Platform, api: httpx.Client, manager: Any) -> None:
    other = onboard_other_customer(platform)
    other_auth = bearer(api, OTHER_MANAGER_PHONE, OTHER_MANAGER_PASSWORD)
    mine = {n["id"] for n in api.get("/v1/nodes", headers=other_auth).json()["items"]}
    assert mine == {n.id for n in other.nodes}
    demo_root = demo(platform).root_node_id
    assert problem(api.get(f"/v1/nodes/{demo_root}", headers=other_auth), 404)["reason"] == "NODE_NOT_FOUND"
    assert (
        problem(api.get(f"/v1/nodes/{other.customer.root_node_id}", headers=manager), 404)["reason"] == "NODE_NOT_FOUND"
    )


def test_moving_a_department_carries_its_users_scope(platform: Platform, api: httpx.Client, manager: Any) -> None:
    customer = demo(platform)
    nodes = by_name(api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"])
    audit = api.post("/v1/nodes", json={"parent_id": customer.root_node_id, "name": "Internal audit"}, headers=manager)
    team = api.post("/v1/nodes", json={"parent_id": audit.json()["id"], "name": "Audit team"}, headers=manager)
    assert audit.status_code == team.status_code == 201
    head = new_user(
        platform, password=PASSWORD, customer_id=customer.id, grants=(("profile_manager", audit.json()["id"]),)
    )
    head_auth = bearer(api, head.phone, PASSWORD)
    try:
        moved = api.post(
            f"/v1/nodes/{audit.json()['id']}/move", json={"parent_id": nodes["Finance"]["id"]}, headers=manager
        )
        assert moved.status_code == 200, moved.text
        # The head's grant names the node, not its place: after the move they see the same subtree, at its new path.
        seen = {n["name"]: n for n in api.get("/v1/nodes", headers=head_auth).json()["items"]}
        assert set(seen) == {"Internal audit", "Audit team"}
        assert seen["Audit team"]["path"].startswith(nodes["Finance"]["path"])
        assert problem(api.get(f"/v1/nodes/{nodes['Finance']['id']}", headers=head_auth), 404)
        renamed = api.patch(f"/v1/nodes/{team.json()['id']}", json={"name": "Audit squad"}, headers=head_auth)
        assert renamed.status_code == 200
    finally:
        api.delete(f"/v1/nodes/{team.json()['id']}", headers=manager)
        api.delete(f"/v1/nodes/{audit.json()['id']}", headers=manager)


def test_a_node_is_not_deleted_under_a_line_imported_a_moment_ago(platform: Platform, api: httpx.Client) -> None:
    """accounts' line figures arrive seconds later; inventory's answer at the time of the deletion decides.

    A customer of its own, so that the line and the node it keeps change no other test's counts.
    """
    phone = "+79996680001"
    onboarded = onboard_customer(
        platform, key="node-deletion", n=68, name="Deletion Check LLC", phone=phone, password=PASSWORD
    )
    owner = bearer(api, phone, PASSWORD)
    created = api.post(
        "/v1/nodes",
        json={"parent_id": onboarded.customer.root_node_id, "name": "Field engineers", "kind": "department"},
        headers=owner,
    )
    assert created.status_code == 201, created.text
    node = created.json()["id"]
    with grpc.insecure_channel(platform.inventory_target) as channel:
        inventory_admin_grpc.InventoryAdminServiceStub(channel).ImportLines(
            inventory_admin.ImportLinesRequest(
                customer_id=onboarded.customer.id,
                lines=[
                    inventory_admin.ImportedLine(
                        msisdn="+79996680101",
                        sim=demo_sim(6_680_101),
                        node_id=node,
                        personal_account_id=node,
                        tariff_code="BIZ-S",
                        state=lines_pb2.LINE_STATE_ACTIVE,
                    )
                ],
            ),
            metadata=operator(platform),
            timeout=10,
        )

    refused = problem(api.delete(f"/v1/nodes/{node}", headers=owner), 409)
    assert refused["reason"] == "NODE_NOT_EMPTY"
    still = api.get(f"/v1/nodes/{node}", headers=owner)
    assert still.status_code == 200 and still.json()["id"] == node
