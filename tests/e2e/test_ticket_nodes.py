"""A ticket whose node is deleted through the platform moves up to the parent and stays visible to the right users:
the manager (whose grant is over the company) reads and lists it there, support still finds it. (That a grant over
the deleted node itself reaches nothing is services/ticketing/tests/test_deleted_nodes.py.)"""

from __future__ import annotations

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_SUPPORT
from simfleet_runtime.testing import wait_until
from tests.e2e.test_audit import sign_in
from tests.e2e.test_support_desk import file_ticket
from tests.helpers import problem

pytestmark = pytest.mark.e2e


def test_a_deleted_departments_ticket_moves_up_to_its_parent(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    nodes = {n["name"]: n for n in api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]}
    parent = nodes["Regions"]["id"]
    created = api.post(
        "/v1/nodes", json={"parent_id": parent, "name": "Short-lived office", "kind": "department"}, headers=manager
    )
    assert created.status_code == 201, created.text
    office = created.json()["id"]
    ticket = file_ticket(api, manager, node_id=office, topic="Nodes e2e: the office's printer SIM")
    assert ticket["node_id"] == office

    deleted = api.delete(f"/v1/nodes/{office}", headers=manager)
    assert deleted.status_code == 204, deleted.text

    def moved() -> dict[str, object] | None:
        answer = api.get(f"/v1/tickets/{ticket['id']}", headers=manager)
        assert answer.status_code == 200, answer.text  # never lost on the way
        details: dict[str, object] = answer.json()
        return details if details["ticket"]["node_id"] == parent else None  # type: ignore[index]

    details = wait_until(moved, 20, "the ticket moved to the parent", interval=0.2)
    assert [h["action"] for h in details["history"]] == ["created", "node_changed"]  # type: ignore[index]
    under_parent = api.get("/v1/tickets", params={"node_id": parent, "q": "Nodes e2e"}, headers=manager).json()
    assert [t["id"] for t in under_parent["items"]] == [ticket["id"]]
    assert problem(api.get("/v1/tickets", params={"node_id": office}, headers=manager), 404)
    support = sign_in(api, DEMO_SUPPORT.phone, DEMO_SUPPORT.password)
    desk = api.get(f"/v1/admin/tickets/{ticket['id']}", headers=support).json()
    assert desk["ticket"]["node_id"] == parent
