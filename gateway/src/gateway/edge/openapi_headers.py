"""What the edge adds to answers, written into the OpenAPI document: ETag/304 on reads, RateLimit-* on limited calls."""

from __future__ import annotations

from typing import Any

_ETAG = {
    "description": 'A weak tag of this JSON (`W/"..."`); send it as `If-None-Match` to get 304 while it is current',
    "schema": {"type": "string"},
}
_RATE_LIMIT = {
    "RateLimit-Limit": "calls this client address may make at once (the burst)",
    "RateLimit-Remaining": "calls left now",
    "RateLimit-Reset": "seconds until all RateLimit-Limit calls are available again",
    "RateLimit-Policy": "the policy: `<burst>;w=<seconds an empty allowance takes to refill>`",
}


SIGN_IN_PREFIX = "/v1/auth/"
"""The sign-in calls (every POST under it) go through the per-address limiter (``gateway.deps.limit_sign_in``)."""


def document_edge_headers(schema: dict[str, Any]) -> None:
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            responses = operation.get("responses", {})
            ok = responses.get("200", {})
            if method == "get" and "application/json" in ok.get("content", {}):
                ok.setdefault("headers", {})["ETag"] = _ETAG
                responses["304"] = {
                    "description": "Not Modified: the `If-None-Match` tag is still the answer's",
                    "headers": {"ETag": _ETAG},
                }
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "If-None-Match" for p in parameters):
                    parameters.append(
                        {
                            "name": "If-None-Match",
                            "in": "header",
                            "required": False,
                            "description": "the ETag of the answer you hold: 304 with no body while it is current",
                            "schema": {"type": "string"},
                        }
                    )
            if method == "post" and path.startswith(SIGN_IN_PREFIX):
                headers = {
                    name: {"description": text, "schema": {"type": "integer"}} for name, text in _RATE_LIMIT.items()
                }
                headers["RateLimit-Policy"]["schema"] = {"type": "string"}
                for code, response in responses.items():
                    if code.startswith(("2", "4")):
                        response.setdefault("headers", {}).update(headers)
