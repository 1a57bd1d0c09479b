"""The OpenAPI 3.1 document at /openapi.json, as frontend teams read it.

FastAPI documents error responses as ``application/json``; ours are
``application/problem+json``, so the document says so. Every operation has an
``operationId`` set on its route (camelCase verb and noun, e.g. ``listLines``:
generated clients name their functions after it), every tag a description, and
the headers answers carry are documented: ``X-Request-ID`` on every answer and
``Retry-After`` on every 429 and 503 (added here), ``Location`` and
``Idempotent-Replayed`` by the routes that send them (:func:`sends`). The
problems the edge answers before any route (413 to a body too large, 415 to
one that is not UTF-8 JSON) are documented on every operation that takes a
body; the edge's own headers (``ETag``, ``RateLimit-*``) by
:func:`gateway.edge.openapi_headers.document_edge_headers`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.edge.openapi_headers import document_edge_headers
from gateway.problems import PROBLEM_MEDIA_TYPE

DESCRIPTION = """\
The REST/JSON API of SIMfleet for web and mobile apps.

* Sign in with `POST /v1/auth/otp` then `POST /v1/auth/otp/verify`, or with
  `POST /v1/auth/password`; send the access token as `Authorization: Bearer <token>`;
  renew it with `POST /v1/auth/refresh` (refresh tokens are single use).
* Errors are `application/problem+json` (RFC 9457) with a stable `reason`
  (e.g. `OTP_INVALID`, `RATE_LIMITED`); 422 answers list the fields in `errors`;
  429 and 503 answers carry `Retry-After`.
* Request bodies are `application/json` in UTF-8 without a byte order mark;
  anything else is refused with 415 (`UNSUPPORTED_MEDIA_TYPE`). The one exception is a file
  uploaded to a ticket (`POST .../tickets/{ticket_id}/attachments`): its body is the file's raw bytes.
* Every response has an `X-Request-ID` (send your own to correlate).
* Reads of JSON carry a weak `ETag`; send it back as `If-None-Match` to get
  `304 Not Modified` while it is current. Answers of 1 KB and more are
  gzip-compressed for clients that send `Accept-Encoding: gzip`.
* Rate-limited calls (sign-in) carry `RateLimit-Limit`, `RateLimit-Remaining`,
  `RateLimit-Reset` and `RateLimit-Policy` (IETF draft
  draft-ietf-httpapi-ratelimit-headers), their 429s `Retry-After` too.
* Browsers may call the API from the origins the deployment allows (CORS,
  `GATEWAY_CORS_ORIGINS`); preflights are answered 204.
"""

TAGS = [
    {"name": "auth", "description": "Sign-in, sessions, password reset, the keys that verify tokens."},
    {"name": "me", "description": "The signed-in user: profile, password, sign-in history."},
    {
        "name": "hierarchy",
        "description": "The customer's company tree: departments, branches and cities, and the figures of each.",
    },
    {
        "name": "users",
        "description": "The customer's users and their grants (a role at a node of the hierarchy); inviting, "
        "disabling and enabling them.",
    },
    {"name": "roles", "description": "The permission catalogue and the customer's custom roles."},
    {"name": "audit", "description": "The action history: every command answered and every sign-in."},
    {
        "name": "back-office",
        "description": "For operator staff only: corporate customers, their onboarding and accounts.",
    },
    {
        "name": "lines",
        "description": "The customer's lines (number, SIM, tariff, services, APNs), free numbers, reserve SIMs.",
    },
    {
        "name": "line operations",
        "description": "Every change to lines: accepted at once (202), run in the background, one item per line; "
        "followed by polling or Server-Sent Events.",
    },
    {
        "name": "billing",
        "description": "A personal account's money: its balance, settlement method and credit limit, its movements, "
        "where its bills go. Amounts are integers of minor units with their currency, and written for people in "
        "the caller's language (Accept-Language).",
    },
    {
        "name": "tickets",
        "description": "The customer's tickets: filed, listed, read with their conversation and history (TMF621 "
        "states), written in, cancelled, reopened, their resolution confirmed.",
    },
    {
        "name": "support desk",
        "description": "For the operator's support staff only: every customer's tickets in one queue, assigned, "
        "moved through their states and answered, with their response and resolution times against the targets.",
    },
    {"name": "health", "description": "Liveness and readiness probes for the platform."},
]

RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (the one sent, or a new one); quote it when reporting a problem.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "Location": {
        "description": "The path of the resource the request created (or, replayed, created before).",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Idempotent-Replayed": {
        "description": "`true`: the `Idempotency-Key` was used before and this is the first request's result.",
        "required": True,
        "schema": {"type": "string", "enum": ["true"]},
    },
}
_RETRYABLE = ("429", "503")
BODY_PROBLEMS = {
    "413": "The request body is too large",
    "415": "The body is not application/json in UTF-8 (or starts with a byte order mark)",
}
"""What the edge answers to any request with a body, before a route sees it (see :mod:`gateway.edge`)."""


def sends(*headers: str) -> dict[str, Any]:
    """The OpenAPI of a response that carries ``headers`` (keys of :data:`RESPONSE_HEADERS`), for ``responses=``."""
    return {"headers": {name: RESPONSE_HEADERS[name] for name in headers}}


def _problem_media_types(schema: dict[str, Any]) -> None:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content")
                if str(code)[0] in "45" and content and "application/json" in content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content.pop("application/json"), **content}


def _body_problems(schema: dict[str, Any]) -> None:
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                for code, description in BODY_PROBLEMS.items():
                    operation["responses"].setdefault(code, {"description": description, "content": problem})


def _document_headers(schema: dict[str, Any]) -> None:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for code, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers["X-Request-ID"] = RESPONSE_HEADERS["X-Request-ID"]
                if str(code) in _RETRYABLE:
                    headers["Retry-After"] = RESPONSE_HEADERS["Retry-After"]


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=TAGS,
            )
            _problem_media_types(schema)
            _body_problems(schema)
            document_edge_headers(schema)
            _document_headers(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
