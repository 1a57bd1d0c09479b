"""The caller's access token, from ``Authorization: Bearer <token>`` (RFC 6750).

The gateway does not verify tokens: it forwards them to the services, which
verify each one themselves (defence in depth). It only checks that the header
is well formed, so that nothing odd travels on in gRPC metadata.
"""

from __future__ import annotations

import re

from fastapi import Request

MAX_TOKEN_LENGTH = 4096
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


_TOKEN_KEY = "simfleet.bearer_token"
"""Where a request's scope keeps its bearer token once read (every dependency and the metadata ask for it)."""


def _split(request: Request) -> tuple[str, str]:
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return scheme.lower(), token.strip()


def has_bearer(request: Request) -> bool:
    """Whether the request presents a bearer token at all (well formed or not)."""
    scheme, token = _split(request)
    return scheme == "bearer" and bool(token)


def bearer_token(request: Request) -> str | None:
    """The well-formed bearer token of the request, if any."""
    scope = request.scope
    if _TOKEN_KEY not in scope:
        scope[_TOKEN_KEY] = _well_formed(request)
    token: str | None = scope[_TOKEN_KEY]
    return token


def _well_formed(request: Request) -> str | None:
    scheme, token = _split(request)
    if scheme != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(token):
        return None
    return token
