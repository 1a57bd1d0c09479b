"""What inventory asks identity before acting on an earlier request: the requester's access as it is now.

A scheduled operation starts long after its requester was checked. By then
they may have been disabled, or lost the grant that allowed it; the engine
asks identity (``GetUserAccess``, with the operator key) and runs the
operation with no more than what they still hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import grpc

from simfleet.identity.v1 import admin_pb2, admin_pb2_grpc
from simfleet_runtime.authz import Grant
from simfleet_runtime.context import OPERATOR_KEY


@dataclass(frozen=True)
class RequesterAccess:
    active: bool
    grants: tuple[Grant, ...]

    def roots(self, permission: str) -> tuple[str, ...]:
        if not self.active:
            return ()
        return tuple(dict.fromkeys(g.node_id for g in self.grants if permission in g.permissions))


NOBODY = RequesterAccess(active=False, grants=())
"""An unknown user holds nothing."""


class RequesterAuthority(Protocol):
    async def access(self, customer_id: str, user_id: str) -> RequesterAccess:
        """The user's access now; raises when identity cannot answer (the caller retries later)."""
        ...


class IdentityAuthority:
    def __init__(self, channel: Callable[[], grpc.aio.Channel], *, operator_key: str, timeout: float) -> None:
        self._channel = channel
        self._operator_key = operator_key
        self._timeout = timeout

    async def access(self, customer_id: str, user_id: str) -> RequesterAccess:
        stub = admin_pb2_grpc.IdentityAdminServiceStub(self._channel())
        try:
            answer = await stub.GetUserAccess(
                admin_pb2.GetUserAccessRequest(user_id=user_id, customer_id=customer_id),
                metadata=((OPERATOR_KEY, self._operator_key),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return NOBODY
            raise
        return RequesterAccess(
            active=answer.active,
            grants=tuple(Grant(g.node_id, frozenset(g.permissions), g.role) for g in answer.grants),
        )
