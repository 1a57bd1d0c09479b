"""JSON answers built as plain values and rendered with orjson, for the reads that carry many items.

FastAPI renders a returned model by validating it against the route's
response model and serializing that: for a page of lines, 50 to 1,000 nested
models built from the service's messages and then taken apart again, most of
the gateway's CPU on ``GET /v1/lines``. A route that answers :class:`JsonAnswer`
builds the JSON values straight from the messages; its ``response_model``
still documents the body, and a test holds each builder to what the model
would give for the same message.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

JSON_MEDIA_TYPE = "application/json"
NO_STORE = {"Cache-Control": "no-store"}
"""The headers of an answer no cache may keep (a signed-in user's reads)."""


class JsonAnswer(Response):
    """A JSON body from plain values (datetimes as RFC 3339 with ``Z``, as the models write them)."""

    media_type = JSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_UTC_Z)
