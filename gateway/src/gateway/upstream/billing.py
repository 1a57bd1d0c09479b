"""billing's gRPC API as the gateway uses it: one channel per process, the request's metadata on each call.

The caller's bearer token travels in the metadata; billing verifies it and
decides on scope itself (a personal account outside the caller's grants is NOT_FOUND).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import grpc

from gateway.settings import GatewaySettings
from gateway.upstream.identity import Metadata
from simfleet.billing.v1 import (
    catalogue_pb2_grpc,
    ledger_pb2_grpc,
    limits_pb2_grpc,
    packages_pb2_grpc,
    payments_pb2_grpc,
    promised_pb2_grpc,
    settlement_pb2_grpc,
    usage_pb2_grpc,
)
from simfleet_runtime.grpc_server import make_channel

LEDGER_SERVICE = "simfleet.billing.v1.LedgerService"
USAGE_SERVICE = "simfleet.billing.v1.UsageService"
PAYMENT_SERVICE = "simfleet.billing.v1.PaymentService"
PROMISED_SERVICE = "simfleet.billing.v1.PromisedPaymentService"
SETTLEMENT_SERVICE = "simfleet.billing.v1.SettlementMethodService"
LIMITS_SERVICE = "simfleet.billing.v1.SpendingLimitService"
PACKAGE_SERVICE = "simfleet.billing.v1.PackageService"
CATALOGUE_SERVICE = "simfleet.billing.v1.CatalogueService"

IDEMPOTENT_METHODS: Sequence[tuple[str, str]] = (
    (LEDGER_SERVICE, "GetBalance"),
    (LEDGER_SERVICE, "ListPostings"),
    (LEDGER_SERVICE, "SetBillDelivery"),
    (USAGE_SERVICE, "GetLineUsage"),
    (PAYMENT_SERVICE, "GetPayment"),
    (PAYMENT_SERVICE, "ListPayments"),
    (PAYMENT_SERVICE, "GetAutoPayment"),
    (PAYMENT_SERVICE, "SetAutoPayment"),
    (PAYMENT_SERVICE, "DeleteAutoPayment"),
    (PROMISED_SERVICE, "GetPromisedPayment"),
    (PROMISED_SERVICE, "ListPromisedPayments"),
    (PROMISED_SERVICE, "RepayPromisedPayment"),
    (SETTLEMENT_SERVICE, "GetSettlementMethod"),
    (LIMITS_SERVICE, "GetSpendingLimit"),
    (LIMITS_SERVICE, "ListSpendingLimits"),
    (LIMITS_SERVICE, "UpdateSpendingLimit"),
    (PACKAGE_SERVICE, "ListOffers"),
    (PACKAGE_SERVICE, "GetPurchase"),
    (PACKAGE_SERVICE, "ListPurchases"),
    (PACKAGE_SERVICE, "GetReceipt"),
    (CATALOGUE_SERVICE, "ListOptions"),
    (CATALOGUE_SERVICE, "GetPriceList"),
    (CATALOGUE_SERVICE, "CheckAvailability"),
)

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def open_billing_channel(settings: GatewaySettings) -> grpc.aio.Channel:
    return make_channel(
        settings.billing_target, default_timeout=settings.grpc_timeout_seconds, idempotent=IDEMPOTENT_METHODS
    )


class BillingStubs:
    """The stubs on one channel, shared by all requests."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout
        self.ledger = ledger_pb2_grpc.LedgerServiceStub(channel)
        self.usage = usage_pb2_grpc.UsageServiceStub(channel)
        self.payments = payments_pb2_grpc.PaymentServiceStub(channel)
        self.promised = promised_pb2_grpc.PromisedPaymentServiceStub(channel)
        self.settlement = settlement_pb2_grpc.SettlementMethodServiceStub(channel)
        self.limits = limits_pb2_grpc.SpendingLimitServiceStub(channel)
        self.packages = packages_pb2_grpc.PackageServiceStub(channel)
        self.catalogue = catalogue_pb2_grpc.CatalogueServiceStub(channel)

    def for_request(self, metadata: Metadata) -> Billing:
        return Billing(self, metadata)


class Billing:
    """billing as one request calls it: its metadata, the deadline."""

    def __init__(self, stubs: BillingStubs, metadata: Metadata) -> None:
        self.ledger = stubs.ledger
        self.usage = stubs.usage
        self.payments = stubs.payments
        self.promised = stubs.promised
        self.settlement = stubs.settlement
        self.limits = stubs.limits
        self.packages = stubs.packages
        self.catalogue = stubs.catalogue
        self.metadata = metadata
        self._timeout = stubs.timeout

    async def call(self, method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req) -> Resp:
        return await method(request, timeout=self._timeout, metadata=self.metadata)
