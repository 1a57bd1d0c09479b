"""notifications' gRPC API as the gateway uses it: one channel per process, the request's metadata on each call.

The caller's bearer token travels in the metadata; notifications verifies it
and answers for the token's user only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import grpc

from gateway.settings import GatewaySettings
from gateway.upstream.identity import Metadata
from simfleet.notifications.v1 import notices_pb2_grpc
from simfleet_runtime.grpc_server import make_channel

NOTICE_SERVICE = "simfleet.notifications.v1.NoticeService"

IDEMPOTENT_METHODS: Sequence[tuple[str, str]] = (
    (NOTICE_SERVICE, "GetPreferences"),
    (NOTICE_SERVICE, "UpdatePreferences"),
    (NOTICE_SERVICE, "ListNotices"),
)
"""All three: saving the same preferences twice leaves what once does."""

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def open_notifications_channel(settings: GatewaySettings) -> grpc.aio.Channel:
    return make_channel(
        settings.notifications_target, default_timeout=settings.grpc_timeout_seconds, idempotent=IDEMPOTENT_METHODS
    )


class NotificationsStubs:
    """The stubs on one channel, shared by all requests."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout
        self.notices = notices_pb2_grpc.NoticeServiceStub(channel)

    def for_request(self, metadata: Metadata) -> Notifications:
        return Notifications(self, metadata)


class Notifications:
    """notifications as one request calls it: its metadata, the deadline."""

    def __init__(self, stubs: NotificationsStubs, metadata: Metadata) -> None:
        self.notices = stubs.notices
        self.metadata = metadata
        self._timeout = stubs.timeout

    async def call(self, method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req) -> Resp:
        return await method(request, timeout=self._timeout, metadata=self.metadata)
