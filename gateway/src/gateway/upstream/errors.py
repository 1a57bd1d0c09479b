"""A failed gRPC call as the frontend sees it: a problem with the right status.

The service's ``google.rpc`` details are read back with
:func:`simfleet_runtime.errors.read_error`, so its reason code (``OTP_INVALID``,
``RATE_LIMITED``...), field violations and RetryInfo reach the client unchanged.
A failure of the transport itself (service down, deadline passed) is a 503 the
client may retry; anything the gateway does not expect is a 502 whose cause is
logged, never sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.edge.bearer import has_bearer
from gateway.problems import FieldError, ProblemError, respond
from simfleet_runtime.errors import read_error

log = logging.getLogger(__name__)

_STATUS_DETAILS_KEY = "grpc-status-details-bin"

_SIMPLE = {
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
}


_API_NAMES = {
    "page_token": "cursor",
    "page_size": "limit",
    "order_by": "sort",
    "tariff_code": "tariff",
    "targets": "items",
    "msisdns": "lines",
    # Every endpoint that takes an idempotency key takes it as this header.
    "request_id": "Idempotency-Key",
    "idempotency_key": "Idempotency-Key",
}
"""Fields the gateway takes under another name than the services' requests: the caller is told the name they sent."""
_INDEX = re.compile(r"\[(\d+)\]")


def api_field(name: str, names: Mapping[str, str] | None = None) -> str:
    """A service's field path (``targets[3].msisdn``) as the API names it (``items.3.msisdn``).

    ``names``: what one endpoint calls a field otherwise (its body's ``name`` is the request's ``display_name``).
    """
    parts = _INDEX.sub(r".\1", name).split(".")
    first = (names or {}).get(parts[0]) or _API_NAMES.get(parts[0], parts[0])
    return ".".join([first, *parts[1:]])


@contextmanager
def fields_named(names: Mapping[str, str]) -> Iterator[None]:
    """Within, a service's refusal names the fields as this endpoint takes them (``names``: service → API)."""
    try:
        yield
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        raise problem_from_rpc_error(error, names=names) from error


def _has_details(error: grpc.aio.AioRpcError) -> bool:
    trailing: Any = error.trailing_metadata() or ()
    return any(key == _STATUS_DETAILS_KEY for key, _ in trailing)


def problem_from_rpc_error(
    error: grpc.aio.AioRpcError, *, bearer_sent: bool = False, names: Mapping[str, str] | None = None
) -> ProblemError:
    details = read_error(error)
    code = details.code
    message = details.message or "the request was refused"
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        violations = [FieldError(field=api_field(f, names), message=m) for f, m in details.field_violations.items()]
        return ProblemError(422 if violations else 400, details.reason, message, errors=violations)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        challenge = 'Bearer realm="simfleet"' + (', error="invalid_token"' if bearer_sent else "")
        return ProblemError(401, details.reason, message, headers={"WWW-Authenticate": challenge})
    if code in _SIMPLE:
        return ProblemError(_SIMPLE[code], details.reason, message)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ProblemError(429, details.reason, message, retry_after=details.retry_after_seconds or 1)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        if _has_details(error):
            # The service itself answered that it cannot serve now: its reason is meaningful.
            return ProblemError(503, details.reason, message, retry_after=details.retry_after_seconds or 1)
        log.warning("service unreachable: %s %s", code.name, details.message)
        return ProblemError(
            503, "SERVICE_UNAVAILABLE", "a service SIMfleet needs is not reachable; try again shortly", retry_after=1
        )
    log.error("unexpected answer from a service: %s %s", code.name, details.message)
    return ProblemError(502, "BAD_GATEWAY", "a service gave an unexpected answer")


async def _on_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, grpc.aio.AioRpcError)
    return respond(request, problem_from_rpc_error(exc, bearer_sent=has_bearer(request)))


def install_rpc_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(grpc.aio.AioRpcError, _on_rpc_error)
