"""The calls accounts makes to identity: creating profile managers, fetching the JWKS.

Every call has a deadline; identity's domain errors come back as the same
domain errors (a taken phone number stays ALREADY_EXISTS with its reason), and
identity being unreachable is UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

from simfleet.identity.v1 import admin_pb2, admin_pb2_grpc
from simfleet_runtime import errors
from simfleet_runtime.context import OPERATOR_KEY

_ERRORS: dict[grpc.StatusCode, type[errors.DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
}


@dataclass(frozen=True)
class NewUser:
    request_id: str
    customer_id: str
    phone: str
    email: str
    display_name: str
    grants: Sequence[tuple[str, str]]
    """(role, node id) pairs."""
    invite: bool = True
    password: str = field(default="", repr=False)
    """A first password (optional); passed on, never kept."""


class IdentityClient:
    def __init__(self, channel: grpc.aio.Channel, *, operator_key: str, timeout: float) -> None:
        self._admin = admin_pb2_grpc.IdentityAdminServiceStub(channel)
        self._operator_key = operator_key
        self._timeout = timeout

    async def create_user(self, user: NewUser) -> str:
        """The new (or, for a repeated request id, the existing) user's id."""
        request = admin_pb2.CreateUserRequest(
            customer_id=user.customer_id,
            phone=user.phone,
            email=user.email,
            display_name=user.display_name,
            request_id=user.request_id,
            grants=[admin_pb2.GrantSpec(role=role, node_id=node) for role, node in user.grants],
            invite=user.invite,
            password=user.password,
        )
        try:
            response = await self._admin.CreateUser(
                request, timeout=self._timeout, metadata=((OPERATOR_KEY, self._operator_key),)
            )
        except grpc.aio.AioRpcError as exc:
            raise translate(exc) from exc
        return str(response.user.id)


def translate(exc: grpc.aio.AioRpcError) -> errors.DomainError:
    details = errors.read_error(exc)
    kind = _ERRORS.get(details.code)
    if kind is None:
        return errors.Unavailable(
            "identity cannot be reached now; try again", reason="IDENTITY_UNAVAILABLE", retry_after_seconds=5
        )
    return kind(
        details.message, reason=details.reason, metadata=details.metadata, field_violations=details.field_violations
    )
