"""inventory's commands as the action history names them (AU-1, AU-2), with the PUK reads it must record."""

from __future__ import annotations

from typing import Any

from simfleet_runtime.audit import Command, obj

L = "/simfleet.inventory.v1.LineService/"
OPS = "/simfleet.inventory.v1.OperationService/"
A = "/simfleet.inventory.v1.InventoryAdminService/"
G = "/simfleet.inventory.v1.LineGroupService/"

PUK_READ = "lines.puk.read"
"""Written by the read itself, in its transaction (``LineService.puk``): no PUK leaves unrecorded."""
LOCATION_READ = "lines.location.read"
"""Written by the read itself (``LineService.location``): no handset's whereabouts leave unrecorded."""
OPERATION_CREATE = "operations.create"
ORDER_SIMS = "operations.order_sims"
OPERATION_CANCEL = "operations.cancel"
STOCK_IMPORT = "inventory.stock.import"
LINES_IMPORT = "inventory.lines.import"
GROUP_CREATE = "lines.groups.create"
GROUP_UPDATE = "lines.groups.update"
GROUP_DELETE = "lines.groups.delete"
"""Written by each command in the transaction of its change (``in_transaction``): the change and its event
commit together. The interceptor records refusals, and a replayed idempotent request (no transaction)."""


def _operation(ans: Any) -> list[Any]:
    return [obj("operation", ans.operation.id, ans.operation.node_id)] if ans else []


def group_objects(group_id: str, node_id: str) -> list[Any]:
    """A group's command touches the group and, what a reader of the history filters by, its node."""
    return [obj("line_group", group_id, node_id), obj("node", node_id, node_id)]


COMMANDS = {
    # A refused read is recorded by the interceptor; a shown PUK by the read itself (fail-closed).
    L + "GetPuk": Command(PUK_READ, lambda req, _ans: [obj("line", str(req.msisdn))], in_transaction=True),
    L + "GetLocation": Command(LOCATION_READ, lambda req, _ans: [obj("line", str(req.msisdn))], in_transaction=True),
    OPS + "CreateOperation": Command(OPERATION_CREATE, lambda _req, ans: _operation(ans), in_transaction=True),
    OPS + "OrderSims": Command(
        ORDER_SIMS,
        lambda req, ans: _operation(ans) or [obj("node", req.node_id, req.node_id)],
        in_transaction=True,
    ),
    OPS + "CancelOperation": Command(
        OPERATION_CANCEL, lambda req, _ans: [obj("operation", str(req.operation_id))], in_transaction=True
    ),
    A + "ImportStock": Command(
        STOCK_IMPORT, lambda req, _ans: [], customer=lambda req, _ans: str(req.customer_id), in_transaction=True
    ),
    A + "ImportLines": Command(
        LINES_IMPORT, lambda req, _ans: [], customer=lambda req, _ans: str(req.customer_id), in_transaction=True
    ),
    # A refusal names what the request did: the node a group was to be made at, the group to change.
    G + "CreateLineGroup": Command(
        GROUP_CREATE,
        lambda req, ans: (
            group_objects(ans.group.id, ans.group.node_id) if ans else [obj("node", req.node_id, req.node_id)]
        ),
        in_transaction=True,
    ),
    G + "UpdateLineGroup": Command(GROUP_UPDATE, lambda req, _ans: [obj("line_group", req.id)], in_transaction=True),
    G + "DeleteLineGroup": Command(GROUP_DELETE, lambda req, _ans: [obj("line_group", req.id)], in_transaction=True),
}
