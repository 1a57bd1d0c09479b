"""ticketing's gRPC API as the gateway uses it: one channel per process, the request's metadata on each call.

The caller's bearer token travels in the metadata; ticketing verifies it and
decides on scope itself (a ticket outside the caller's grants is NOT_FOUND).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import grpc

from gateway.settings import GatewaySettings
from gateway.upstream.identity import Metadata
from simfleet.ticketing.v1 import forms_pb2_grpc, tickets_pb2_grpc
from simfleet_runtime.grpc_server import make_channel

TICKET_SERVICE = "simfleet.ticketing.v1.TicketService"
FORM_SERVICE = "simfleet.ticketing.v1.FormService"

IDEMPOTENT_METHODS: Sequence[tuple[str, str]] = (
    (TICKET_SERVICE, "GetTicket"),
    (TICKET_SERVICE, "ListTickets"),
    (TICKET_SERVICE, "TicketHistory"),
    (FORM_SERVICE, "ListForms"),
    (FORM_SERVICE, "FillForm"),
)
"""Reads only (a filled form is written, not stored): a move or a note retried after a lost answer would be
refused or written twice."""

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def open_ticketing_channel(settings: GatewaySettings) -> grpc.aio.Channel:
    return make_channel(
        settings.ticketing_target, default_timeout=settings.grpc_timeout_seconds, idempotent=IDEMPOTENT_METHODS
    )


class TicketingStubs:
    """The stubs on one channel, shared by all requests."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout
        self.tickets = tickets_pb2_grpc.TicketServiceStub(channel)
        self.forms = forms_pb2_grpc.FormServiceStub(channel)

    def for_request(self, metadata: Metadata) -> Ticketing:
        return Ticketing(self, metadata)


class Ticketing:
    """ticketing as one request calls it: its metadata, the deadline."""

    def __init__(self, stubs: TicketingStubs, metadata: Metadata) -> None:
        self.tickets = stubs.tickets
        self.forms = stubs.forms
        self.metadata = metadata
        self._timeout = stubs.timeout

    async def call(self, method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req) -> Resp:
        return await method(request, timeout=self._timeout, metadata=self.metadata)
