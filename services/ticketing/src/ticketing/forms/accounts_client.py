"""The calls ticketing makes to accounts for a form: the names of the node it is for and of the company.

Asked with the caller's token, so accounts shows only what the caller may see:
a node accounts does not show is NOT_FOUND here too; accounts unreachable is
UNAVAILABLE ``ACCOUNTS_UNAVAILABLE`` (nothing is filled in from a guess).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from simfleet.accounts.v1 import hierarchy_pb2, hierarchy_pb2_grpc
from simfleet_runtime import errors
from simfleet_runtime.context import caller_metadata

log = logging.getLogger(__name__)

SERVICE = "simfleet.accounts.v1.HierarchyService"
IDEMPOTENT = ((SERVICE, "GetNode"),)
"""A read: retried on UNAVAILABLE within the deadline."""


@dataclass(frozen=True)
class NodeFacts:
    name: str
    account_number: str
    root_id: str


class AccountsClient:
    def __init__(self, channel: Callable[[], grpc.aio.Channel], *, timeout: float) -> None:
        # The channel is opened on first use, on the loop that serves (never at wiring time).
        self._channel = channel
        self._timeout = timeout

    async def node(self, node_id: str) -> NodeFacts | None:
        """The node as the caller may see it; None when accounts does not show it to the caller."""
        try:
            answer = await hierarchy_pb2_grpc.HierarchyServiceStub(self._channel()).GetNode(
                hierarchy_pb2.GetNodeRequest(node_id=node_id), timeout=self._timeout, metadata=caller_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            details = errors.read_error(exc)
            if details.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
                return None
            if details.code == grpc.StatusCode.UNAUTHENTICATED:
                raise errors.Unauthenticated(details.message, reason=details.reason) from exc
            log.warning("accounts did not show a node for a form: %s %s", details.code.name, details.reason)
            raise errors.Unavailable(
                "accounts did not answer, so the form cannot be filled in; try again",
                reason="ACCOUNTS_UNAVAILABLE",
                retry_after_seconds=2,
            ) from exc
        node = answer.node
        root = next((part for part in node.path.split("/") if part), node.id)
        return NodeFacts(name=node.name, account_number=node.account_number, root_id=root)
