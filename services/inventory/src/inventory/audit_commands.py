"""inventory's commands as the action history names them (AU-1, AU-2), with the PUK reads it must record."""

from __future__ import annotations

from typing import Any

from simfleet_runtime.audit import Command, obj

L = "/simfleet.inventory.v1.LineService/"
OPS = "/simfleet.inventory.v1.OperationService/"
A = "/simfleet.inventory.v1.InventoryAdminService/"


def _operation(ans: Any) -> list[Any]:
    return [obj("operation", ans.operation.id, ans.operation.node_id)] if ans else []


COMMANDS = {
    L + "GetPuk": Command("lines.puk.read", lambda req, _ans: [obj("line", str(req.msisdn))]),
    OPS + "CreateOperation": Command("operations.create", lambda _req, ans: _operation(ans)),
    OPS + "OrderSims": Command(
        "operations.order_sims", lambda req, ans: _operation(ans) or [obj("node", req.node_id, req.node_id)]
    ),
    OPS + "CancelOperation": Command("operations.cancel", lambda req, _ans: [obj("operation", str(req.operation_id))]),
    A + "ImportStock": Command(
        "inventory.stock.import", lambda req, _ans: [], customer=lambda req, _ans: str(req.customer_id)
    ),
    A + "ImportLines": Command(
        "inventory.lines.import", lambda req, _ans: [], customer=lambda req, _ans: str(req.customer_id)
    ),
}
