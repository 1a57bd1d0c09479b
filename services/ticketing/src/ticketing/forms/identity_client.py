"""The call ticketing makes to identity for a form: the applicant's own name, phone and email.

Asked with the caller's token (``ProfileService.GetMe``); identity unreachable is
UNAVAILABLE ``IDENTITY_UNAVAILABLE``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from simfleet.identity.v1 import profile_pb2, profile_pb2_grpc
from simfleet_runtime import errors
from simfleet_runtime.context import caller_metadata

log = logging.getLogger(__name__)

SERVICE = "simfleet.identity.v1.ProfileService"
IDEMPOTENT = ((SERVICE, "GetMe"),)
"""A read: retried on UNAVAILABLE within the deadline."""


@dataclass(frozen=True)
class Applicant:
    name: str
    phone: str
    email: str


class IdentityClient:
    def __init__(self, channel: Callable[[], grpc.aio.Channel], *, timeout: float) -> None:
        # The channel is opened on first use, on the loop that serves (never at wiring time).
        self._channel = channel
        self._timeout = timeout

    async def me(self) -> Applicant:
        try:
            answer = await profile_pb2_grpc.ProfileServiceStub(self._channel()).GetMe(
                profile_pb2.GetMeRequest(), timeout=self._timeout, metadata=caller_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            details = errors.read_error(exc)
            if details.code == grpc.StatusCode.UNAUTHENTICATED:
                raise errors.Unauthenticated(details.message, reason=details.reason) from exc
            log.warning("identity did not show the applicant for a form: %s %s", details.code.name, details.reason)
            raise errors.Unavailable(
                "identity did not answer, so the form cannot be filled in; try again",
                reason="IDENTITY_UNAVAILABLE",
                retry_after_seconds=2,
            ) from exc
        user = answer.user
        return Applicant(name=user.display_name, phone=user.phone, email=user.email)
