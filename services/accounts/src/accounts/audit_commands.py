"""accounts' commands as its action history names them (every gRPC method that changes something)."""

from __future__ import annotations

from typing import Any

from simfleet_runtime.audit import Command, obj

H = "/simfleet.accounts.v1.HierarchyService/"
A = "/simfleet.accounts.v1.AccountsAdminService/"


def _node(node_id: str) -> Any:
    return obj("node", node_id, node_id)


COMMANDS = {
    H + "CreateNode": Command(
        "hierarchy.node.create",
        lambda req, ans: [_node(ans.node.id), _node(req.parent_id)] if ans else [_node(req.parent_id)],
    ),
    H + "RenameNode": Command("hierarchy.node.rename", lambda req, _ans: [_node(req.node_id)]),
    H + "MoveNode": Command("hierarchy.node.move", lambda req, _ans: [_node(req.node_id), _node(req.new_parent_id)]),
    H + "DeleteNode": Command("hierarchy.node.delete", lambda req, _ans: [_node(req.node_id)]),
    A + "OnboardCustomer": Command(
        "customers.onboard",
        lambda _req, ans: [obj("customer", ans.customer.id, ans.customer.root_node_id)] if ans else [],
        customer=lambda _req, ans: ans.customer.id if ans else "",
    ),
    A + "CreateAccount": Command(
        "accounts.create",
        lambda req, ans: [_node(ans.node.id)] if ans else [_node(req.parent_id)],
        customer=lambda req, _ans: str(req.customer_id),
    ),
}
