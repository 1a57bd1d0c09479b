"""The gRPC adapter of ``simfleet.netsim.v1.PaymentProviderService``: the simulated card acquirer."""

from __future__ import annotations

from typing import Any

import grpc

from netsim.convert import payment_faults_message, payment_message
from netsim.payments.faults import validate_payment_faults
from netsim.payments.service import AuthorizeRequest, PaymentProvider
from simfleet.netsim.v1 import payments_pb2, payments_pb2_grpc

SERVICE_NAME = payments_pb2.DESCRIPTOR.services_by_name["PaymentProviderService"].full_name


class PaymentProviderServicer(payments_pb2_grpc.PaymentProviderServiceServicer):
    def __init__(self, provider: PaymentProvider) -> None:
        self._provider = provider

    async def Authorize(
        self, request: payments_pb2.AuthorizeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> payments_pb2.AuthorizeResponse:
        outcome = await self._provider.authorize(
            AuthorizeRequest(
                payment_id=request.payment_id,
                amount=request.amount,
                currency=request.currency,
                card_token=request.card_token,
                description=request.description,
            )
        )
        return payments_pb2.AuthorizeResponse(payment=payment_message(outcome.payment))

    async def Capture(
        self, request: payments_pb2.CaptureRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> payments_pb2.CaptureResponse:
        outcome = await self._provider.capture(request.payment_id)
        return payments_pb2.CaptureResponse(payment=payment_message(outcome.payment))

    async def Void(
        self, request: payments_pb2.VoidRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> payments_pb2.VoidResponse:
        outcome = await self._provider.void(request.payment_id)
        return payments_pb2.VoidResponse(payment=payment_message(outcome.payment))

    async def GetPayment(
        self, request: payments_pb2.GetPaymentRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> payments_pb2.GetPaymentResponse:
        return payments_pb2.GetPaymentResponse(payment=payment_message(await self._provider.get(request.payment_id)))

    async def GetPaymentFaults(
        self, request: payments_pb2.GetPaymentFaultsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> payments_pb2.GetPaymentFaultsResponse:
        return payments_pb2.GetPaymentFaultsResponse(faults=payment_faults_message(await self._provider.faults.get()))

    async def SetPaymentFaults(
        self, request: payments_pb2.SetPaymentFaultsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> payments_pb2.SetPaymentFaultsResponse:
        wanted = request.faults
        faults = validate_payment_faults(
            latency_ms=wanted.latency_ms,
            decline_rate=wanted.decline_rate,
            lost_answer_rate=wanted.lost_answer_rate,
            outage=wanted.outage,
            declining_cards=list(wanted.declining_cards),
        )
        stored = await self._provider.faults.set(faults)
        return payments_pb2.SetPaymentFaultsResponse(faults=payment_faults_message(stored))
