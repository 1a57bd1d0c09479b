"""Request bodies are JSON in UTF-8, without a byte order mark, or they are refused (415) unread.

Every body the API takes is ``application/json`` (RFC 8259: UTF-8, no BOM). A
request that carries a body (of any method) with another ``Content-Type``, or
none, or a ``charset`` other than UTF-8, is answered 415
``UNSUPPORTED_MEDIA_TYPE`` before any route sees it. So is a body that starts
with a byte order mark or is UTF-16/UTF-32 (a NUL among its first four bytes,
RFC 4627's detection): Python's JSON parser would otherwise decode either
silently, and what the gateway checked would not be what a proxy, a log or a
WAF in front of it saw. The body streams on untouched once its first bytes
have been looked at. The one exception is a file uploaded to a ticket
(``raw_paths``): its body is the file's bytes, whatever it declares, and
ticketing decides what it is from its content.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.problems import ProblemError, problem_response

JSON_MEDIA_TYPE = "application/json"
_BOMS = (b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")
_SNIFF_BYTES = 4
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def media_type_problem(content_type: str | None) -> ProblemError | None:
    """The problem with a body's ``Content-Type``, or None when it is JSON in UTF-8."""
    if not content_type:
        return ProblemError(415, "UNSUPPORTED_MEDIA_TYPE", "the body needs Content-Type: application/json")
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != JSON_MEDIA_TYPE:
        return ProblemError(
            415, "UNSUPPORTED_MEDIA_TYPE", f"the body must be application/json, not {media_type[:64]!r}"
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return ProblemError(415, "UNSUPPORTED_MEDIA_TYPE", "the body must be JSON in UTF-8")
    return None


def encoding_problem(start: bytes) -> ProblemError | None:
    """The problem with a body that starts with ``start`` (its first bytes), or None for plain UTF-8."""
    if start.startswith(_BOMS) or b"\x00" in start[:_SNIFF_BYTES]:
        return ProblemError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "the body must be JSON in UTF-8 without a byte order mark (not UTF-16 or UTF-32)",
        )
    return None


class JsonBodyMiddleware:
    def __init__(self, app: ASGIApp, *, raw_paths: re.Pattern[str] | None = None) -> None:
        self.app = app
        self._raw_paths = raw_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS_METHODS:
            await self.app(scope, receive, send)
            return
        if self._raw_paths is not None and scope["method"] == "POST" and self._raw_paths.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if "transfer-encoding" not in headers and (not declared.isdigit() or int(declared) == 0):
            await self.app(scope, receive, send)
            return

        # Read until the first few bytes are known (or the body ends), then hand them on as they came.
        buffered: list[Message] = []
        start = b""
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            start += message.get("body", b"")
            if len(start) >= _SNIFF_BYTES or not message.get("more_body", False):
                break

        problem = None
        if start:
            problem = media_type_problem(headers.get("content-type")) or encoding_problem(start)
        if problem is not None:
            state = scope.get("state", {})
            response = problem_response(problem, instance=scope["path"], request_id=str(state.get("request_id", "")))
            await response(scope, receive, send)
            return

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)
