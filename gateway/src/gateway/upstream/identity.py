"""identity's gRPC API as the gateway uses it.

One channel per process (made by :func:`open_identity_channel` with the
runtime's client interceptor: trace context, metrics, default deadline, retries
of the idempotent reads). Each request gets an :class:`Identity` that calls
with the request's metadata and an explicit deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.settings import GatewaySettings
from simfleet.identity.v1 import auth_pb2_grpc, profile_pb2_grpc, users_pb2_grpc
from simfleet_runtime.grpc_server import make_channel

log = logging.getLogger(__name__)

AUTH_SERVICE = "simfleet.identity.v1.AuthService"
PROFILE_SERVICE = "simfleet.identity.v1.ProfileService"
USERS_SERVICE = "simfleet.identity.v1.CustomerUserService"
ROLES_SERVICE = "simfleet.identity.v1.RoleService"

# Reads that are safe to send again when identity was momentarily unreachable.
IDEMPOTENT_METHODS: Sequence[tuple[str, str]] = (
    (AUTH_SERVICE, "GetJwks"),
    (PROFILE_SERVICE, "GetMe"),
    (PROFILE_SERVICE, "ListSignIns"),
    (USERS_SERVICE, "ListUsers"),
    (USERS_SERVICE, "GetUser"),
    (USERS_SERVICE, "ListGrants"),
    (ROLES_SERVICE, "ListPermissions"),
    (ROLES_SERVICE, "ListRoles"),
)

Metadata = tuple[tuple[str, str], ...]
Req = TypeVar("Req")
Resp = TypeVar("Resp")


def open_identity_channel(settings: GatewaySettings) -> grpc.aio.Channel:
    return make_channel(
        settings.identity_target,
        default_timeout=settings.grpc_timeout_seconds,
        idempotent=IDEMPOTENT_METHODS,
    )


class IdentityStubs:
    """The stubs on one channel, shared by all requests."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout
        self.auth = auth_pb2_grpc.AuthServiceStub(channel)
        self.profile = profile_pb2_grpc.ProfileServiceStub(channel)
        self.users = users_pb2_grpc.CustomerUserServiceStub(channel)
        self.roles = users_pb2_grpc.RoleServiceStub(channel)
        self._health: Any = health_pb2_grpc.HealthStub(channel)

    async def serving(self, service: str, *, deadline_seconds: float) -> bool:
        """Whether identity's gRPC health service says SERVING."""
        try:
            answer: Any = await self._health.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=deadline_seconds
            )
        except grpc.aio.AioRpcError as exc:
            log.info("identity health check failed: %s", exc.code().name)
            return False
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    def for_request(self, metadata: Metadata) -> Identity:
        return Identity(self, metadata)


class Identity:
    """identity as one request calls it: its metadata, the deadline."""

    def __init__(self, stubs: IdentityStubs, metadata: Metadata) -> None:
        self.auth = stubs.auth
        self.profile = stubs.profile
        self.users = stubs.users
        self.roles = stubs.roles
        self.metadata = metadata
        self._timeout = stubs.timeout

    async def call(self, method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req) -> Resp:
        return await method(request, timeout=self._timeout, metadata=self.metadata)
