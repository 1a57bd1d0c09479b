"""The OpenAPI 3.1 document at /openapi.json, as frontend teams read it.

FastAPI documents error responses as ``application/json``; ours are
``application/problem+json``, so the document says so.
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
  anything else is refused with 415 (`UNSUPPORTED_MEDIA_TYPE`).
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
    {"name": "me", "description": "The signed-in user."},
    {
        "name": "lines",
        "description": "The customer's lines (number, SIM, tariff, services, APNs), free numbers, reserve SIMs.",
    },
    {
        "name": "line operations",
        "description": "Every change to lines: accepted at once (202), run in the background, one item per line; "
        "followed by polling or Server-Sent Events.",
    },
    {"name": "operations", "description": "Probes for the platform."},
]


def _problem_media_types(schema: dict[str, Any]) -> None:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content")
                if str(code)[0] in "45" and content and "application/json" in content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content.pop("application/json"), **content}


def _unsupported_media_type(schema: dict[str, Any]) -> None:
    """Every operation that takes a body may answer 415 (see :mod:`gateway.edge.media_type`)."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                operation.setdefault("responses", {})["415"] = {
                    "description": "The body is not application/json in UTF-8 (or starts with a byte order mark)",
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }


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
            _unsupported_media_type(schema)
            document_edge_headers(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
