"""What happens to every HTTP request before and after its route.

One pure-ASGI middleware, the outermost of the application:

* the request id: a sane incoming ``X-Request-ID`` is kept, otherwise a ULID is
  made; it is on every response and is forwarded to the services;
* the client's address (see :mod:`gateway.edge.client_address`);
* a server span continuing an incoming ``traceparent``, so the gRPC client
  spans of the call are its children;
* the body size limit (413 problem), larger on the few paths that take bulk bodies (by path, or by a pattern
  of paths: a ticket's attachments);
* RED metrics by route template and one access log line;
* a problem answer (500) for anything that escaped the exception handlers;
* the security headers of every answer: ``X-Content-Type-Options: nosniff``, a
  Content-Security-Policy that allows nothing and no framing (a page that needs
  more, the docs, sets its own), ``X-Frame-Options: DENY``, and
  ``Cache-Control: no-store`` on every answer to a request that carries
  ``Authorization`` and on every sign-in answer (``POST /v1/auth/...``: they
  hold tokens), so no shared or browser cache keeps them;
* the ``RateLimit-*`` fields a rate limit left in the request's state
  (:mod:`gateway.edge.rate_limit`), on every answer of a limited call.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge import metrics
from gateway.edge.client_address import ClientAddressResolver
from gateway.problems import ProblemError, problem_response
from simfleet_runtime.ids import new_id

log = logging.getLogger("gateway.access")
tracer = trace.get_tracer("simfleet.gateway")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
AUTH_PATH_PREFIX = "/v1/auth/"


def is_private_answer(method: str, path: str, headers: Headers) -> bool:
    """Whether the answer is for one caller only: an authenticated request, or a sign-in that answers tokens."""
    return "authorization" in headers or (path.startswith(AUTH_PATH_PREFIX) and method not in ("GET", "HEAD"))


_NOSNIFF = (b"x-content-type-options", b"nosniff")
_CSP = (b"content-security-policy", API_CONTENT_SECURITY_POLICY.encode())
_NO_FRAMES = (b"x-frame-options", b"DENY")
_NO_STORE = (b"cache-control", b"no-store")
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()


def edge_headers(
    raw: list[tuple[bytes, bytes]],
    *,
    request_id: str,
    private: bool,
    rate_limit: Mapping[str, str] | None = None,
) -> list[tuple[bytes, bytes]]:
    """A response's raw headers with the edge's fields: the request id, nosniff, the API's CSP and no framing
    (unless the route set its own), ``no-store`` on a private answer, and a rate limit's fields.

    The edge's own fields replace any the route set; one pass over the headers (this runs on every answer).
    """
    added = [(_REQUEST_ID, request_id.encode("latin-1")), _NOSNIFF]
    if private:
        added.append(_NO_STORE)
    if rate_limit:
        added += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in rate_limit.items()]
    replaced = {name for name, _ in added}
    kept = []
    has_csp = has_frames = False
    for header in raw:
        name = header[0].lower()
        if name in replaced:
            continue
        if name == b"content-security-policy":
            has_csp = True
        elif name == b"x-frame-options":
            has_frames = True
        kept.append(header)
    if not has_csp:
        kept.append(_CSP)
    if not has_frames:
        kept.append(_NO_FRAMES)
    kept += added
    return kept


class BodyTooLarge(StarletteHTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413)


def request_id_from(headers: Headers) -> str:
    incoming = headers.get("x-request-id", "")
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else new_id()


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _unsampled() -> Span:
    ids = RandomIdGenerator()
    return NonRecordingSpan(
        SpanContext(
            trace_id=ids.generate_trace_id(),
            span_id=ids.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.DEFAULT),
        )
    )


_CHILDREN_LIMIT = 10_000
"""Metric children kept per family; more label sets than this (they are bounded anyway) fall back to ``labels``."""


class _Children:
    """A labelled metric's children by their labels (``labels()`` takes a lock and builds a tuple each call)."""

    def __init__(self, family: Any) -> None:
        self._family = family
        self._children: dict[tuple[str, ...], Any] = {}

    def get(self, *labels: str) -> Any:
        child = self._children.get(labels)
        if child is None:
            child = self._family.labels(*labels)
            if len(self._children) < _CHILDREN_LIMIT:
                self._children[labels] = child
        return child


_REQUESTS = _Children(metrics.HTTP_REQUESTS)
_SECONDS = _Children(metrics.HTTP_SECONDS)
_ACCESS_MESSAGE = "%s %s %s"
_ACCESS_LOG_SOURCE = __file__


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        resolver: ClientAddressResolver,
        max_body_bytes: int,
        body_limits: Mapping[str, int] | None = None,
        pattern_limits: Sequence[tuple[re.Pattern[str], int]] = (),
        access_log: bool = True,
    ) -> None:
        self.app = app
        self._resolver = resolver
        self._max_body = max_body_bytes
        self._body_limits = dict(body_limits or {})
        self._pattern_limits = list(pattern_limits)
        self._access_log = access_log

    def _body_limit(self, path: str) -> int:
        if path in self._body_limits:
            return self._body_limits[path]
        for pattern, limit in self._pattern_limits:
            if pattern.fullmatch(path):
                return limit
        return self._max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        request_id = request_id_from(headers)
        client: Any = scope.get("client")
        client_address = self._resolver.resolve(client[0] if client else None, headers.get("x-forwarded-for"))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_address"] = client_address
        raw_method: str = scope["method"]
        method = raw_method if raw_method in _KNOWN_METHODS else "OTHER"
        path: str = scope["path"]
        max_body = self._body_limit(path)
        private = is_private_answer(raw_method, path, headers)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                message["headers"] = edge_headers(
                    list(message.get("headers", ())),
                    request_id=request_id,
                    private=private,
                    rate_limit=state.get("rate_limit_headers"),
                )
            await send(message)

        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge()
            return message

        async def answer(error: ProblemError) -> None:
            response = problem_response(error, instance=path, request_id=request_id)
            await response(scope, receive, send_with_id)

        metrics.HTTP_IN_FLIGHT.inc()
        if path in UNTRACED_PATHS:
            # Probes and scrapes come every few seconds from the cluster: an
            # unsampled context keeps them (and the health calls they make)
            # out of the trace backend.
            span_scope: AbstractContextManager[Span] = trace.use_span(_unsampled(), end_on_exit=False)
        else:
            span_scope = tracer.start_as_current_span(
                method,
                context=propagate.extract(headers),
                kind=SpanKind.SERVER,
                attributes={
                    "http.request.method": raw_method,
                    "url.path": path,
                    "client.address": client_address,
                    "simfleet.request_id": request_id,
                },
            )
        with span_scope as span:
            try:
                declared = headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_body:
                    await answer(ProblemError(413, "CONTENT_TOO_LARGE", "the request body is too large"))
                else:
                    await self.app(scope, receive_limited, send_with_id)
            except BodyTooLarge:
                if response_started:
                    raise
                await answer(ProblemError(413, "CONTENT_TOO_LARGE", "the request body is too large"))
            except Exception as exc:
                if response_started:
                    raise
                span.record_exception(exc)
                log.exception("unhandled error answering %s %s", raw_method, path)
                await answer(ProblemError(500, "INTERNAL_ERROR", "something went wrong on our side"))
            finally:
                route = route_template(scope)
                elapsed = time.perf_counter() - started
                metrics.HTTP_IN_FLIGHT.dec()
                _REQUESTS.get(method, route, str(status)).inc()
                _SECONDS.get(method, route).observe(elapsed)
                if span.is_recording():
                    span.update_name(method if route == UNMATCHED_ROUTE else f"{method} {route}")
                    attributes: dict[str, str | int] = {"http.response.status_code": status}
                    if route != UNMATCHED_ROUTE:
                        attributes["http.route"] = route
                    span.set_attributes(attributes)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR, str(status)))
                if self._access_log and log.isEnabledFor(logging.INFO):
                    # The record made as ``log.info`` makes it, without looking up the caller's frame (its
                    # file, line and function are in no log line: see the runtime's formatters).
                    log.handle(
                        log.makeRecord(
                            log.name,
                            logging.INFO,
                            _ACCESS_LOG_SOURCE,
                            0,
                            _ACCESS_MESSAGE,
                            (raw_method, path, status),
                            None,
                            extra={
                                "http_method": raw_method,
                                "http_route": route,
                                "http_status": status,
                                "duration_ms": round(elapsed * 1000, 2),
                                "request_id": request_id,
                                "client_address": client_address,
                            },
                        )
                    )
