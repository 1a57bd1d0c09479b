"""accounts' gRPC API as the gateway uses it: one channel per process, the request's metadata on each call.

The caller's bearer token travels in the metadata; accounts verifies it and
decides on scope itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import grpc

from gateway.settings import GatewaySettings
from gateway.upstream.identity import Metadata
from simfleet.accounts.v1 import admin_pb2_grpc, audit_pb2_grpc, hierarchy_pb2_grpc
from simfleet_runtime.grpc_server import make_channel

HIERARCHY_SERVICE = "simfleet.accounts.v1.HierarchyService"

IDEMPOTENT_METHODS: Sequence[tuple[str, str]] = (
    (HIERARCHY_SERVICE, "ListNodes"),
    (HIERARCHY_SERVICE, "GetNode"),
    (HIERARCHY_SERVICE, "GetNodeSummary"),
    ("simfleet.accounts.v1.AuditService", "ListAuditEvents"),
    ("simfleet.accounts.v1.AccountsAdminService", "GetCustomer"),
    ("simfleet.accounts.v1.AccountsAdminService", "ListCustomers"),
)

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def open_accounts_channel(settings: GatewaySettings) -> grpc.aio.Channel:
    return make_channel(
        settings.accounts_target, default_timeout=settings.grpc_timeout_seconds, idempotent=IDEMPOTENT_METHODS
    )


class AccountsStubs:
    """The stubs on one channel, shared by all requests."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout
        self.hierarchy = hierarchy_pb2_grpc.HierarchyServiceStub(channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(channel)
        self.admin = admin_pb2_grpc.AccountsAdminServiceStub(channel)

    def for_request(self, metadata: Metadata) -> Accounts:
        return Accounts(self, metadata)


class Accounts:
    """accounts as one request calls it: its metadata, the deadline."""

    def __init__(self, stubs: AccountsStubs, metadata: Metadata) -> None:
        self.hierarchy = stubs.hierarchy
        self.audit = stubs.audit
        self.admin = stubs.admin
        self.metadata = metadata
        self._timeout = stubs.timeout

    async def call(self, method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req) -> Resp:
        return await method(request, timeout=self._timeout, metadata=self.metadata)
