"""The call accounts makes to inventory: what a node holds, asked before deleting it (AC-3).

The caller's access token travels on (``authorization`` metadata), so inventory
authorises the original user itself. Every call has a deadline. Only an answer
decides: inventory unreachable, the deadline passed, or a refusal accounts
cannot read as "nothing there" (inventory's copy of the tree lagging behind)
is UNAVAILABLE with ``INVENTORY_UNAVAILABLE``, and the node stays. A token
inventory no longer takes (a session ended meanwhile) stays UNAUTHENTICATED.
"""

from __future__ import annotations

import logging

import grpc

from accounts.hierarchy.service import Holdings
from simfleet.inventory.v1 import nodes_pb2, nodes_pb2_grpc
from simfleet_runtime import errors
from simfleet_runtime.context import caller_metadata

log = logging.getLogger(__name__)

SERVICE = "simfleet.inventory.v1.NodeHoldingsService"
IDEMPOTENT = ((SERVICE, "GetNodeHoldings"),)
"""A read: retried on UNAVAILABLE within the deadline."""


class InventoryClient:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._holdings = nodes_pb2_grpc.NodeHoldingsServiceStub(channel)
        self._timeout = timeout

    async def holdings(self, node_id: str) -> Holdings:
        try:
            answer = await self._holdings.GetNodeHoldings(
                nodes_pb2.GetNodeHoldingsRequest(node_id=node_id), timeout=self._timeout, metadata=caller_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            raise translate(exc) from exc
        return Holdings(lines=dict(answer.lines), operations=answer.operations, items=answer.items)


def translate(exc: grpc.aio.AioRpcError) -> errors.DomainError:
    details = errors.read_error(exc)
    if details.code == grpc.StatusCode.UNAUTHENTICATED:
        return errors.Unauthenticated(details.message, reason=details.reason)
    log.warning("inventory did not say what a node holds: %s %s", details.code.name, details.reason)
    return errors.Unavailable(
        "inventory could not confirm that the node holds no lines, so it is not deleted; try again",
        reason="INVENTORY_UNAVAILABLE",
        retry_after_seconds=2,
    )
