"""accounts' commands as its action history names them (every gRPC method that changes something)."""

from __future__ import annotations

from typing import Any

from simfleet_runtime.audit import Command, obj

H = "/simfleet.accounts.v1.HierarchyService/"
A = "/simfleet.accounts.v1.AccountsAdminService/"


NODE_CREATE = "hierarchy.node.create"
NODE_RENAME = "hierarchy.node.rename"
NODE_MOVE = "hierarchy.node.move"
NODE_DELETE = "hierarchy.node.delete"
ONBOARD = "customers.onboard"
ACCOUNT_CREATE = "accounts.create"
"""Written by each command in the transaction of its change (``in_transaction``): the change and its event
commit together. The interceptor records refusals, and a command that changed nothing (a replay, a node
renamed to its name)."""


def _node(node_id: str) -> Any:
    return obj("node", node_id, node_id)


COMMANDS = {
    H + "CreateNode": Command(
        NODE_CREATE,
        lambda req, ans: [_node(ans.node.id), _node(req.parent_id)] if ans else [_node(req.parent_id)],
        in_transaction=True,
    ),
    H + "RenameNode": Command(NODE_RENAME, lambda req, _ans: [_node(req.node_id)], in_transaction=True),
    H + "MoveNode": Command(
        NODE_MOVE, lambda req, _ans: [_node(req.node_id), _node(req.new_parent_id)], in_transaction=True
    ),
    H + "DeleteNode": Command(NODE_DELETE, lambda req, _ans: [_node(req.node_id)], in_transaction=True),
    A + "OnboardCustomer": Command(
        ONBOARD,
        lambda _req, ans: [obj("customer", ans.customer.id, ans.customer.root_node_id)] if ans else [],
        customer=lambda _req, ans: ans.customer.id if ans else "",
        in_transaction=True,
    ),
    A + "CreateAccount": Command(
        ACCOUNT_CREATE,
        lambda req, ans: [_node(ans.node.id)] if ans else [_node(req.parent_id)],
        customer=lambda req, _ans: str(req.customer_id),
        in_transaction=True,
    ),
}
