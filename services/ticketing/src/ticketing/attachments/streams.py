"""An upload's gRPC stream: its first message, its bytes, and how a refusal reaches an uploader still sending.

gRPC ends a call as soon as the service answers; a client still sending then
fails its own send and may report that (INTERNAL) instead of the service's
answer. So a refusal that comes before the upload's end (the ticket is not
found, the first bytes are an executable's) is answered only once the rest of
the upload has been read and dropped, up to the size limit: the uploader hears
the reason. A file past the limit is the exception: reading stops there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from simfleet_runtime.errors import DomainError, InvalidArgument

PIECE_MAX = 1024 * 1024
"""The largest ``chunk`` one upload message may carry."""
TOO_LARGE = "ATTACHMENT_TOO_LARGE"


def _refuse(message: str) -> InvalidArgument:
    return InvalidArgument(message, reason="INVALID_UPLOAD", field_violations={"part": message})


class Upload:
    """The stream after its first message: ``start`` names the ticket and the file, :meth:`pieces` are its bytes."""

    def __init__(self, start: Any, messages: Any) -> None:
        self.start = start
        self._messages = messages
        self.received = 0

    async def pieces(self) -> AsyncIterator[bytes]:
        async for message in self._messages:
            if message.WhichOneof("part") != "chunk":
                raise _refuse("only the first message names the file; the others carry its bytes")
            if len(message.chunk) > PIECE_MAX:
                raise _refuse(f"a message carries at most {PIECE_MAX} bytes")
            self.received += len(message.chunk)
            yield message.chunk

    @asynccontextmanager
    async def refusals_heard(self, limit: int) -> AsyncIterator[None]:
        """Within, a refusal is raised once the rest of the upload is read and dropped (at most ``limit`` bytes in
        all), except a refusal for size, raised at once."""
        try:
            yield
        except DomainError as refused:
            if refused.reason != TOO_LARGE:
                with suppress(DomainError):
                    async for _ in self.pieces():
                        if self.received > limit:
                            break
            raise


async def receive(requests: Any) -> Upload:
    """The upload whose first message (its ``start``: the ticket and the file's name) has been read."""
    messages = requests.__aiter__()
    try:
        first = await messages.__anext__()
    except StopAsyncIteration:
        raise _refuse("the first message names the ticket and the file") from None
    if first.WhichOneof("part") != "start":
        raise _refuse("the first message names the ticket and the file")
    return Upload(first.start, messages)
