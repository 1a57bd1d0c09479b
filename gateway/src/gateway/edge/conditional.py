"""ETags on JSON read answers, and ``If-None-Match`` answered ``304 Not Modified`` (RFC 9110 §8.8.3, §13.1.2).

A successful ``GET`` whose answer is one JSON body (a resource, or a page of
a list) gets ``ETag: W/"<hash>"``, a SHA-256 of the body (weak: the same JSON
may travel gzip-compressed or not). A request whose ``If-None-Match`` names
that tag (or ``*``) gets ``304`` with the tag and no body, so a client polling
a resource (an operation, a line) downloads it only when it changed. The
services are still asked each time: the tag says whether the answer changed,
not whether to skip the work. Streams (server-sent events) pass untouched.
"""

from __future__ import annotations

import base64
import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_TYPES = ("application/json",)


def etag_of(body: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()[:18]).decode()
    return f'W/"{digest}"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def none_match(header: str, etag: str) -> bool:
    """Whether ``If-None-Match: header`` matches ``etag`` (weak comparison, as the header requires)."""
    if header.strip() == "*":
        return True
    return any(_opaque(candidate) == _opaque(etag) for candidate in header.split(",") if candidate.strip())


class ConditionalGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def send_tagged(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                content_type = Headers(raw=message["headers"]).get("content-type", "")
                if message["status"] != 200 or not content_type.startswith(JSON_TYPES):
                    passing = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            etag = etag_of(body)
            headers = MutableHeaders(scope=start)
            headers["ETag"] = etag
            if if_none_match is not None and none_match(if_none_match, etag):
                start["status"] = 304
                del headers["content-length"]
                del headers["content-type"]
                await send(start)
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_tagged)
