"""The two halves of an attachment's gRPC stream: an upload's first message and its bytes, a download's messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from simfleet_runtime.errors import InvalidArgument

PIECE_MAX = 1024 * 1024
"""The largest ``chunk`` one upload message may carry."""


def _refuse(message: str) -> InvalidArgument:
    return InvalidArgument(message, reason="INVALID_UPLOAD", field_violations={"part": message})


async def receive(requests: Any) -> tuple[Any, AsyncIterator[bytes]]:
    """An upload's first message (its ``start``: the ticket and the file's name), and then its bytes as they come."""
    messages = requests.__aiter__()
    try:
        first = await messages.__anext__()
    except StopAsyncIteration:
        raise _refuse("the first message names the ticket and the file") from None
    if first.WhichOneof("part") != "start":
        raise _refuse("the first message names the ticket and the file")

    async def pieces() -> AsyncIterator[bytes]:
        async for message in messages:
            if message.WhichOneof("part") != "chunk":
                raise _refuse("only the first message names the file; the others carry its bytes")
            if len(message.chunk) > PIECE_MAX:
                raise _refuse(f"a message carries at most {PIECE_MAX} bytes")
            yield message.chunk

    return first.start, pieces()
