"""Files of tickets' notes (TK-2) through the gateway: streamed to ticketing as they arrive, and back.

An upload is ``POST .../tickets/{ticket_id}/attachments?filename=<name>`` whose
body is the file's bytes, raw (any ``Content-Type``: it is not believed;
ticketing decides the type from the content). The body is read with
``request.stream()`` and passed on in pieces of :data:`PIECE` bytes on a
client-streaming gRPC call, so the gateway never holds more than a piece of
it; past ``GATEWAY_MAX_ATTACHMENT_BYTES`` reading stops (413) and the call is
cancelled, so ticketing stores nothing. A raw body (not multipart) keeps the
streaming simple and the file byte-exact; the name travels in the query,
percent-encoded UTF-8.

A download streams ticketing's server-streaming answer as it comes, with
``Content-Disposition: attachment`` (an ASCII ``filename`` and the exact name
as RFC 6266/8187 ``filename*``), the type ticketing found, its length, and
``X-Content-Type-Options: nosniff`` (as every answer of the gateway).
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import grpc
from fastapi import Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.problems import Problem, ProblemError
from gateway.upstream.errors import problem_from_rpc_error
from gateway.upstream.ticketing import Ticketing
from simfleet.ticketing.v1 import tickets_pb2 as pb

UPLOAD_PATHS = re.compile(r"/v1/(?:admin/)?tickets/[^/]+/attachments")
"""The paths whose POST bodies are files: not JSON, and up to the attachments' limit."""
PIECE = 64 * 1024
_STATUS_BY_REASON = {"ATTACHMENT_TOO_LARGE": 413, "ATTACHMENT_TYPE_NOT_ALLOWED": 415, "ATTACHMENT_EMPTY": 422}
_EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]
_ASCII_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\%]')

ATTACHMENT_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA5F6G7H8J9K0M1N2P3Q4R6A",
    "note_id": None,
    "filename": "photo of the error.png",
    "content_type": "image/png",
    "size": 614_408,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uploader_kind": "customer",
    "uploaded_by": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
    "created_at": "2026-12-07T10:00:00Z",
    "expires_at": "2026-12-08T10:00:00Z",
}


class AttachmentResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ATTACHMENT_EXAMPLE]})

    id: str
    note_id: str | None = Field(description="the note it belongs to; null while it waits for one")
    filename: str = Field(description="the cleaned name; its extension matches its type")
    content_type: str = Field(description="decided by the content: PDF, PNG, JPEG, plain text, DOCX or XLSX")
    size: int = Field(description="bytes")
    sha256: str = Field(description="hex SHA-256 of the content")
    uploader_kind: str = Field(description="customer or support")
    uploaded_by: str
    created_at: datetime
    expires_at: datetime | None = Field(
        description="while it waits for a note: when it is deleted unless a note takes it"
    )

    @classmethod
    def from_proto(cls, a: pb.Attachment) -> AttachmentResponse:
        return cls(
            id=a.id,
            note_id=a.note_id or None,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            uploader_kind=a.uploader_kind,
            uploaded_by=a.uploaded_by,
            created_at=a.created_at.ToDatetime(tzinfo=UTC),
            expires_at=a.expires_at.ToDatetime(tzinfo=UTC) if a.HasField("expires_at") else None,
        )


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes as they are (any Content-Type; the type is decided by the content).",
        "content": {
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary", "examples": ["%PDF-1.7 ..."]},
            }
        },
    },
}
UPLOAD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "The file is larger than 10 MiB (nothing is stored)"},
    415: {
        "model": Problem,
        "description": "The content is none of PDF, PNG, JPEG, plain UTF-8 text, DOCX, XLSX (nothing is stored)",
    },
}
DOWNLOAD_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, with `Content-Disposition: attachment` (`filename*` is the exact name).",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary", "examples": ["%PDF-1.7 ..."]}}
        },
        "headers": {
            "Content-Disposition": {
                "description": "attachment; filename=\"<ASCII>\"; filename*=UTF-8''<the exact name>",
                "required": True,
                "schema": {"type": "string"},
            }
        },
    }
}


async def upload(
    request: Request,
    ticketing: Ticketing,
    method: Callable[..., Any],
    message: type[Any],
    ticket_id: str,
    filename: str,
    max_bytes: int,
) -> pb.Attachment:
    """Stream the request's body to ``method`` (a client-streaming upload), ``message`` being its request type."""
    call = method(metadata=ticketing.metadata, timeout=ticketing.transfer_timeout)
    finished = False
    try:
        try:
            await call.write(message(start=pb.AttachmentUpload(ticket_id=ticket_id, filename=filename)))
            size = 0
            async for piece in request.stream():
                size += len(piece)
                if size > max_bytes:
                    raise ProblemError(
                        413, "ATTACHMENT_TOO_LARGE", f"an attachment is at most {max_bytes} bytes: nothing was stored"
                    )
                for at in range(0, len(piece), PIECE):
                    await call.write(message(chunk=piece[at : at + PIECE]))
            await call.done_writing()
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            pass  # ticketing ended the call (a refusal): its status is read below
        try:
            answer = await call
        except grpc.aio.AioRpcError as error:
            raise attachment_problem(error) from error
        finished = True
        return answer.attachment  # type: ignore[no-any-return]
    finally:
        if not finished:
            call.cancel()  # the caller went, or the body was refused: ticketing drops what it received


def attachment_problem(error: grpc.aio.AioRpcError) -> ProblemError:
    problem = problem_from_rpc_error(error, bearer_sent=True)
    status = _STATUS_BY_REASON.get(problem.reason)
    if status is not None:
        problem.status = status
    return problem


async def download(ticketing: Ticketing, method: Callable[..., Any], request: Any) -> StreamingResponse:
    """Answer with the attachment ``method`` (a server-streaming download) streams, as it streams."""
    call = method(request, metadata=ticketing.metadata, timeout=ticketing.transfer_timeout)
    try:
        first = await call.read()
    except BaseException:
        call.cancel()
        raise
    if first is _EOF or not first.HasField("attachment"):
        call.cancel()
        raise ProblemError(502, "BAD_GATEWAY", "a service gave an unexpected answer")
    described = first.attachment

    async def content() -> AsyncIterator[bytes]:
        try:
            while True:
                message = await call.read()
                if message is _EOF:
                    return
                yield message.chunk
        finally:
            call.cancel()

    return StreamingResponse(
        content(),
        media_type=described.content_type,
        headers={
            "Content-Disposition": content_disposition(described.filename),
            "Content-Length": str(described.size),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the exact name as ``filename*`` (RFC 6266)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = _ASCII_UNSAFE.sub("_", ascii_name).strip()
    if not ascii_name or ascii_name.startswith("."):
        ascii_name = "attachment" + ascii_name
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
