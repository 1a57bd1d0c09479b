"""inventory's commands as the action history names them (AU-1, AU-2), with the PUK reads it must record."""

from __future__ import annotations

from typing import Any

from simfleet_runtime.audit import Command, obj

L = "/simfleet.inventory.v1.LineService/"
OPS = "/simfleet.inventory.v1.OperationService/"
A = "/simfleet.inventory.v1.InventoryAdminService/"

PUK_READ = "lines.puk.read"
"""Written by the read itself, in its transaction (``LineService.puk``): no PUK leaves unrecorded."""
LOCATION_READ = "lines.location.read"
"""Written by the read itself (``LineService.location``): no handset's whereabouts leave unrecorded."""


def _operation(ans: Any) -> list[Any]:
    return [obj("operation", ans.operation.id, ans.operation.node_id)] if ans else []


COMMANDS = {
    # A refused read is recorded by the interceptor; a shown PUK by the read itself (fail-closed).
    L + "GetPuk": Command(PUK_READ, lambda req, _ans: [obj("line", str(req.msisdn))], in_transaction=True),
    L + "GetLocation": Command(LOCATION_READ, lambda req, _ans: [obj("line", str(req.msisdn))], in_transaction=True),
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
