"""The payment provider as billing calls it: netsim's simulated acquirer (`simfleet.netsim.v1.PaymentProviderService`).

Every call names the payment by its id, so asking again after a lost answer
is safe: the provider answers the first outcome. What billing needs from an
answer is the provider's state of the payment, or that it did not answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from simfleet.netsim.v1 import payments_pb2 as pb
from simfleet.netsim.v1 import payments_pb2_grpc
from simfleet_runtime.grpc_server import Channels

SERVICE = "simfleet.netsim.v1.PaymentProviderService"
IDEMPOTENT = tuple((SERVICE, method) for method in ("Authorize", "Capture", "Void", "GetPayment"))
UNANSWERED = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.CANCELLED,
)


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    """The provider's payment after a call; ``state`` 0 (unspecified) when it did not answer or has none."""

    state: int
    reason: str = ""
    answered: bool = True


NO_ANSWER = ProviderAnswer(pb.PAYMENT_STATE_UNSPECIFIED, "the payment provider did not answer", answered=False)


class PaymentProvider:
    def __init__(self, *, channels: Channels, target: str, timeout: float) -> None:
        self._channels = channels
        self._target = target
        self._timeout = timeout

    def _acquirer(self) -> payments_pb2_grpc.PaymentProviderServiceStub:
        channel = self._channels.get(self._target, default_timeout=self._timeout, idempotent=IDEMPOTENT)
        return payments_pb2_grpc.PaymentProviderServiceStub(channel)

    async def authorize(
        self, payment_id: str, amount: int, currency: str, card_token: str, description: str
    ) -> ProviderAnswer:
        request = pb.AuthorizeRequest(
            payment_id=payment_id, amount=amount, currency=currency, card_token=card_token, description=description
        )
        return await self._call(self._acquirer().Authorize, request)

    async def capture(self, payment_id: str) -> ProviderAnswer:
        return await self._call(self._acquirer().Capture, pb.CaptureRequest(payment_id=payment_id))

    async def void(self, payment_id: str) -> ProviderAnswer:
        return await self._call(self._acquirer().Void, pb.VoidRequest(payment_id=payment_id))

    async def read(self, payment_id: str) -> ProviderAnswer:
        return await self._call(self._acquirer().GetPayment, pb.GetPaymentRequest(payment_id=payment_id))

    async def _call(self, method: object, request: object) -> ProviderAnswer:
        try:
            answer = await method(request, timeout=self._timeout)  # type: ignore[operator]
        except grpc.aio.AioRpcError as error:
            if error.code() in UNANSWERED:
                return NO_ANSWER
            # Refused for good (an invalid request, a payment it cannot move): the payment fails.
            return ProviderAnswer(pb.PAYMENT_STATE_UNSPECIFIED, f"{error.code().name}: {error.details()}")
        payment = answer.payment
        return ProviderAnswer(payment.state, payment.decline_reason)
