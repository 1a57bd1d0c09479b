"""A user's access as it is now, asked of identity (``IdentityAdminService.GetUserAccess`` with the operator key).

For work a service does on a user's behalf long after it checked their token (a
scheduled operation starting, a notice about an event): by then the user may be
disabled or have lost the grant that allowed it. An unknown user holds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc

from simfleet.identity.v1 import admin_pb2, admin_pb2_grpc
from simfleet_runtime.authz import Grant
from simfleet_runtime.context import OPERATOR_KEY


@dataclass(frozen=True, slots=True)
class UserAccess:
    active: bool
    grants: tuple[Grant, ...]

    def may(self, permission: str, path: Sequence[str]) -> bool:
        """Whether ``permission`` holds at the node at ``path`` (root → node)."""
        if not self.active:
            return False
        on_path = set(path)
        return any(g.node_id in on_path and permission in g.permissions for g in self.grants)

    def roots(self, permission: str) -> tuple[str, ...]:
        """The nodes where a grant gives ``permission`` (each once, in the grants' order)."""
        if not self.active:
            return ()
        return tuple(dict.fromkeys(g.node_id for g in self.grants if permission in g.permissions))


NOBODY = UserAccess(active=False, grants=())
"""An unknown user holds nothing."""


class UserAccessSource(Protocol):
    async def access(self, customer_id: str, user_id: str) -> UserAccess:
        """The user's access now; raises when it cannot be known (the caller retries later)."""
        ...


class IdentityUserAccess:
    """:class:`UserAccessSource` answered by identity, with the operator key; the channel is opened on first use."""

    def __init__(self, channel: Callable[[], grpc.aio.Channel], *, operator_key: str, timeout: float) -> None:
        self._channel = channel
        self._operator_key = operator_key
        self._timeout = timeout

    async def access(self, customer_id: str, user_id: str) -> UserAccess:
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
        return UserAccess(
            active=answer.active,
            grants=tuple(Grant(g.node_id, frozenset(g.permissions), g.role) for g in answer.grants),
        )
