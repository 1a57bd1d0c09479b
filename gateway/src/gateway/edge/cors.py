"""CORS (the Fetch standard) with an allow-list of origins from ``GATEWAY_CORS_ORIGINS``.

* A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``)
  from an allowed origin, for a method and headers the API takes, is answered
  ``204`` with ``Access-Control-Allow-Origin`` (the origin), ``-Allow-Methods``,
  ``-Allow-Headers``, ``-Max-Age`` and ``Vary: Origin``; it never reaches a route.
* Any other preflight (an origin not on the list, an odd method or header) is
  a ``403`` problem ``CORS_NOT_ALLOWED`` with no CORS header at all, so the
  browser refuses the call.
* An actual request from an allowed origin gets ``Access-Control-Allow-Origin``
  and ``Access-Control-Expose-Headers`` (the headers frontends read); from any
  other origin, none.

Tokens travel in ``Authorization``, not in cookies: credentials are not allowed.
``*`` in the list allows every origin (answered ``*``).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.problems import ProblemError, problem_response

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-None-Match",
    "Last-Event-ID",
    "X-Request-ID",
    "traceparent",
    "tracestate",
)
EXPOSED_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "Location",
    "Idempotent-Replayed",
    "ETag",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
MAX_AGE_SECONDS = 600


class CorsMiddleware:
    def __init__(self, app: ASGIApp, *, origins: Iterable[str]) -> None:
        self.app = app
        allowed = {origin.strip().rstrip("/").lower() for origin in origins if origin.strip()}
        self._any = "*" in allowed
        self._origins = frozenset(allowed - {"*"})
        self._methods = frozenset(ALLOWED_METHODS)
        self._headers = frozenset(h.lower() for h in ALLOWED_HEADERS)

    def allowed(self, origin: str) -> bool:
        return self._any or origin.rstrip("/").lower() in self._origins

    def _allow_origin(self, origin: str) -> str:
        return "*" if self._any else origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(scope, receive, send, headers, origin)
            return
        if not self.allowed(origin):
            await self.app(scope, receive, send)
            return
        allow_origin = self._allow_origin(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["Access-Control-Allow-Origin"] = allow_origin
                response_headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
                response_headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, receive: Receive, send: Send, headers: Headers, origin: str) -> None:
        method = headers["access-control-request-method"].strip().upper()
        requested = [h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",")]
        requested = [h for h in requested if h]
        if not self.allowed(origin) or method not in self._methods or any(h not in self._headers for h in requested):
            state = scope.get("state", {})
            problem = ProblemError(
                403, "CORS_NOT_ALLOWED", "this origin, method or header may not call the API from a browser"
            )
            response = problem_response(problem, instance=scope["path"], request_id=str(state.get("request_id", "")))
            response.headers["Vary"] = "Origin"
            await response(scope, receive, send)
            return
        answer = Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": self._allow_origin(origin),
                "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
                "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
                "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
                "Vary": "Origin",
            },
        )
        await answer(scope, receive, send)
