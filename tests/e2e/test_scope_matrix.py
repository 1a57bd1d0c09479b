"""Every row of the scope matrix: each predefined role and a custom one, granted at the company or a department.

Objects lie inside the caller's scope (under the department "Inside"), in the
company outside a department grant (under "Outside"), or at another customer.
The matrix brings two customers of its own, so that the nodes, lines and
operations it leaves behind never show in what other tests see of the demo
customer. Every mismatch is reported at once, as "role@level place row: got X,
expected Y".
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest

from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from tests.e2e.conftest import onboard_customer
from tests.e2e.scope_matrix import ROWS, Place, Row
from tests.helpers import new_user

pytestmark = pytest.mark.e2e
PASSWORD = "Matrix-Passw0rd-2026"
MATRIX_MANAGER = "+79996660001"
RIVAL_MANAGER = "+79996660002"
_names = itertools.count(1)


def sign_in(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass
class Area:
    """Where objects of one place are made: a parent node, its customer, and a token that may change it."""

    parent_id: str
    customer_id: str
    owner: dict[str, str]


@dataclass
class Subject:
    label: str
    auth: dict[str, str]
    permissions: frozenset[str]
    department_only: bool


def fill(value: Any, node: str, user: str, n: int, line: str = "") -> Any:
    if isinstance(value, dict):
        return {k: fill(v, node, user, n, line) for k, v in value.items()}
    if isinstance(value, str):
        value = value.replace("{node}", node).replace("{user}", user).replace("{line}", line)
        return f"{value} {n}" if value in ("Renamed", "Child") else value
    return value


def call(api: httpx.Client, platform: Platform, subject: Subject, row: Row, area: Area) -> int:
    n = next(_names)
    created = api.post(
        "/v1/nodes", json={"parent_id": area.parent_id, "name": f"Matrix {n}", "kind": "city"}, headers=area.owner
    )
    assert created.status_code == 201, created.text
    node = created.json()["id"]
    if row.path.startswith("/v1/users"):
        # identity learns of new nodes from accounts' events: wait until its copy of the tree has this one.
        deadline = time.monotonic() + 10
        while api.get("/v1/users", params={"node_id": node}, headers=area.owner).status_code == 404:
            assert time.monotonic() < deadline, "identity never learnt of the node"
            time.sleep(0.02)
    line = ""
    if row.obj == "line" or row.path.startswith(("/v1/lines", "/v1/operations")):
        # inventory learns of new nodes from accounts' events too.
        deadline = time.monotonic() + 10
        while api.get("/v1/lines", params={"node_id": node}, headers=area.owner).status_code == 404:
            assert time.monotonic() < deadline, "inventory never learnt of the node"
            time.sleep(0.02)
    if row.obj == "line":
        line = f"+79994{n:06d}"
        with grpc.insecure_channel(platform.inventory_target) as channel:
            inventory_admin_grpc.InventoryAdminServiceStub(channel).ImportLines(
                inventory_admin.ImportLinesRequest(
                    customer_id=area.customer_id,
                    lines=[
                        inventory_admin.ImportedLine(
                            msisdn=line,
                            sim=demo_sim(5_000_000 + n),
                            node_id=node,
                            personal_account_id=node,
                            tariff_code="BIZ-S",
                            state=lines_pb2.LINE_STATE_ACTIVE,
                        )
                    ],
                ),
                metadata=((OPERATOR_KEY, platform.config.operator_key),),
                timeout=10,
            )
    user = ""
    if row.obj == "user":
        target = new_user(platform, password="", customer_id=area.customer_id, grants=(("viewer", node),))
        found = api.get("/v1/users", params={"q": target.phone}, headers=area.owner).json()["items"]
        user = found[0]["id"]
    answer = api.request(
        row.method, fill(row.path, node, user, n, line), json=fill(row.body, node, user, n, line), headers=subject.auth
    )
    if answer.status_code == 201 and row.obj == "node" and row.method == "POST":
        api.delete(f"/v1/nodes/{answer.json()['id']}", headers=area.owner)
    if answer.status_code >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    api.delete(f"/v1/nodes/{node}", headers=area.owner)
    return answer.status_code


def test_the_scope_matrix(platform: Platform, api: httpx.Client) -> None:
    matrix = onboard_customer(
        platform, key="matrix", n=66, name="Matrix Holding LLC", phone=MATRIX_MANAGER, password=PASSWORD
    )
    rival = onboard_customer(
        platform, key="rival", n=67, name="Rival Holding LLC", phone=RIVAL_MANAGER, password=PASSWORD
    )
    manager = sign_in(api, MATRIX_MANAGER, PASSWORD)
    company = matrix.customer.root_node_id
    inside, outside = (
        api.post("/v1/nodes", json={"parent_id": company, "name": name, "kind": "department"}, headers=manager)
        for name in ("Inside", "Outside")
    )
    assert inside.status_code == outside.status_code == 201, (inside.text, outside.text)
    # Users are granted the department below: identity learns of it from accounts' events.
    deadline = time.monotonic() + 10
    while api.get("/v1/users", params={"node_id": inside.json()["id"]}, headers=manager).status_code == 404:
        assert time.monotonic() < deadline, "identity never learnt of the department"
        time.sleep(0.02)
    areas: dict[Place, Area] = {
        "inside": Area(inside.json()["id"], matrix.customer.id, manager),
        "outside": Area(outside.json()["id"], matrix.customer.id, manager),
        "other customer": Area(rival.customer.root_node_id, rival.customer.id, sign_in(api, RIVAL_MANAGER, PASSWORD)),
    }

    custom = api.post(
        "/v1/roles",
        json={"name": "Matrix custom", "permissions": ["lines:read", "hierarchy:manage", "audit:read"]},
        headers=manager,
    )
    assert custom.status_code == 201, custom.text
    roles = {r["id"]: frozenset(r["permissions"]) for r in api.get("/v1/roles", headers=manager).json()["items"]}
    predefined = ("profile_manager", "account_manager", "number_manager", "viewer", "coordinator_assistant")
    subjects = []
    for role_id, permissions in roles.items():
        assert role_id in predefined or role_id == custom.json()["id"], role_id  # the customer is the matrix's own
        for level, node in (("company", company), ("department", areas["inside"].parent_id)):
            user = new_user(platform, password=PASSWORD, customer_id=matrix.customer.id, grants=((role_id, node),))
            label = f"{'custom' if role_id == custom.json()['id'] else role_id}@{level}"
            subjects.append(Subject(label, sign_in(api, user.phone, PASSWORD), permissions, level == "department"))
    assert len(subjects) == 12

    wrong = []
    for subject, (place, area), row in itertools.product(subjects, areas.items(), ROWS):
        in_scope = place == "inside" or (place == "outside" and not subject.department_only)
        expected = row.expected(subject.permissions if in_scope else None)
        got = call(api, platform, subject, row, area)
        if got != expected:
            wrong.append(f"{subject.label} {place} {row.name}: got {got}, expected {expected}")
    assert not wrong, f"{len(wrong)} answers differ:\n" + "\n".join(wrong)
    assert api.delete(f"/v1/roles/{custom.json()['id']}", headers=manager).status_code in (204, 409)
