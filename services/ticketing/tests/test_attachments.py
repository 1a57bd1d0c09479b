"""Attachments over a real channel: uploads streamed in, taken by the uploader's next note, streamed out to whoever
may read the ticket; oversized, disguised, badly named and surplus uploads refused with nothing stored; waiting
uploads expiring."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import grpc
import pytest
import sqlalchemy as sa

from simfleet.ticketing.v1 import support_pb2, tickets_pb2
from simfleet_runtime.authz import Grant
from simfleet_runtime.errors import read_error
from ticketing import metrics
from ticketing.attachments.models import Attachment, AttachmentChunk
from ticketing.attachments.storage import CHUNK_SIZE

from .conftest import READER, WRITER, Running, failure  # type: ignore[import-not-found]

DAY = 86_400.0
PIECE = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2_400  # 614,408 bytes: three chunks of the store
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(70_000)


async def messages(ticket_id: str, filename: str, data: bytes, piece: int = PIECE) -> AsyncIterator[object]:
    yield tickets_pb2.UploadAttachmentRequest(
        start=tickets_pb2.AttachmentUpload(ticket_id=ticket_id, filename=filename)
    )
    for at in range(0, len(data), piece):
        yield tickets_pb2.UploadAttachmentRequest(chunk=data[at : at + piece])


async def support_messages(ticket_id: str, filename: str, data: bytes) -> AsyncIterator[object]:
    yield support_pb2.UploadSupportAttachmentRequest(
        start=tickets_pb2.AttachmentUpload(ticket_id=ticket_id, filename=filename)
    )
    for at in range(0, len(data), PIECE):
        yield support_pb2.UploadSupportAttachmentRequest(chunk=data[at : at + PIECE])


async def upload(
    running: Running, ticket_id: str, filename: str, data: bytes, metadata: object = None
) -> tickets_pb2.Attachment:
    answer = await running.tickets.UploadAttachment(
        messages(ticket_id, filename, data), metadata=metadata or running.manager()
    )
    return answer.attachment


async def download(running: Running, ticket_id: str, attachment_id: str, metadata: object) -> tuple[object, bytes]:
    call = running.tickets.DownloadAttachment(
        tickets_pb2.DownloadAttachmentRequest(ticket_id=ticket_id, attachment_id=attachment_id), metadata=metadata
    )
    first = None
    content = []
    async for message in call:
        if first is None:
            first = message.attachment
        else:
            content.append(message.chunk)
    return first, b"".join(content)


async def stored(running: Running) -> tuple[int, int]:
    """How many attachments, and chunks of their bytes, the database holds."""
    async with running.db.sessions() as session:
        attachments = await session.scalar(sa.select(sa.func.count()).select_from(Attachment))
        chunks = await session.scalar(sa.select(sa.func.count()).select_from(AttachmentChunk))
    return int(attachments or 0), int(chunks or 0)


async def test_a_customer_attaches_a_file_to_a_note_and_everyone_who_reads_the_ticket_downloads_it(
    running: Running,
) -> None:
    ticket = await running.file()
    waiting = await upload(running, ticket.id, "  photo of the error.png ", PNG)
    assert (waiting.filename, waiting.content_type, waiting.size) == ("photo of the error.png", "image/png", len(PNG))
    assert waiting.sha256 == hashlib.sha256(PNG).hexdigest()
    assert waiting.note_id == "" and waiting.HasField("expires_at") and waiting.uploader_kind == "customer"
    assert await stored(running) == (1, -(-len(PNG) // CHUNK_SIZE))

    # Waiting, it is its uploader's alone: nobody else sees it yet.
    _, content = await download(running, ticket.id, waiting.id, running.manager())
    assert content == PNG
    colleague = running.bearer(Grant(running.company, WRITER), user="user-2")
    code, reason, _, _ = await failure(download(running, ticket.id, waiting.id, colleague))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "ATTACHMENT_NOT_FOUND")

    noted = await running.tickets.AddNote(
        tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="The screen, see the photo.", attachment_ids=[waiting.id]),
        metadata=running.manager(),
    )
    assert [(a.id, a.note_id) for a in noted.note.attachments] == [(waiting.id, noted.note.id)]
    assert not noted.note.attachments[0].HasField("expires_at")
    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=ticket.id), metadata=running.manager())
    assert [[a.filename for a in n.attachments] for n in got.notes] == [["photo of the error.png"]]

    # Whoever may read the ticket downloads it; support too; nobody outside the ticket's scope.
    reader = running.bearer(Grant(running.branch, READER), user="user-3")
    for metadata in (colleague, reader):
        described, content = await download(running, ticket.id, waiting.id, metadata)
        assert content == PNG and described.content_type == "image/png"  # type: ignore[attr-defined]
    shown = running.desk.DownloadSupportAttachment(
        support_pb2.DownloadSupportAttachmentRequest(ticket_id=ticket.id, attachment_id=waiting.id),
        metadata=running.support(),
    )
    assert b"".join([m.chunk async for m in shown]) == PNG
    outsider = running.bearer(Grant(running.other_branch, WRITER), user="user-4")
    code, reason, _, _ = await failure(download(running, ticket.id, waiting.id, outsider))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "TICKET_NOT_FOUND")
    code, _, _, _ = await failure(download(running, ticket.id, waiting.id, running.support("customers:read")))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # an operator token on the customer's API


async def test_support_answers_with_an_attachment_the_customer_downloads(running: Running) -> None:
    ticket = await running.file()
    agent = running.support()
    answer = await running.desk.UploadSupportAttachment(
        support_messages(ticket.id, "guide.txt", b"Restart, then wait.\n"), metadata=agent
    )
    assert (answer.attachment.content_type, answer.attachment.uploader_kind) == ("text/plain; charset=utf-8", "support")
    answered = await running.desk.Answer(
        support_pb2.AnswerRequest(ticket_id=ticket.id, body="See the guide.", attachment_ids=[answer.attachment.id]),
        metadata=agent,
    )
    assert [a.id for a in answered.note.attachments] == [answer.attachment.id]
    _, content = await download(running, ticket.id, answer.attachment.id, running.manager())
    assert content == b"Restart, then wait.\n"
    # A customer cannot put support's upload in their own note.
    code, reason, violations, _ = await failure(
        running.tickets.AddNote(
            tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="Mine now?", attachment_ids=[answer.attachment.id]),
            metadata=running.manager(),
        )
    )
    assert (code, reason, list(violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ATTACHMENT_NOT_FOUND",
        ["attachment_ids[0]"],
    )


async def test_an_oversized_upload_stops_being_read_at_the_limit_and_stores_nothing(running: Running) -> None:
    ticket = await running.file()
    sent = 0
    endless = 64 * 1024 * 1024

    async def huge() -> AsyncIterator[object]:
        nonlocal sent
        yield tickets_pb2.UploadAttachmentRequest(
            start=tickets_pb2.AttachmentUpload(ticket_id=ticket.id, filename="huge.txt")
        )
        while sent < endless:
            sent += PIECE
            yield tickets_pb2.UploadAttachmentRequest(chunk=b"a" * PIECE)

    too_large = metrics.ATTACHMENTS.labels("customer", "too_large")
    before = too_large._value.get()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await running.tickets.UploadAttachment(huge(), metadata=running.manager())
    # ticketing refuses it (its figure counts it) and ends the call; the client, still sending, may hear that as
    # its own failed send (INTERNAL) rather than the refusal: gRPC's race, which the gateway never meets, as it
    # stops at the same limit before ticketing does.
    assert too_large._value.get() == before + 1
    details = read_error(refused.value)
    assert (details.code, details.reason) in (
        (grpc.StatusCode.INVALID_ARGUMENT, "ATTACHMENT_TOO_LARGE"),
        (grpc.StatusCode.INTERNAL, "INTERNAL"),
    )
    assert sent < endless  # the service stopped reading; the client was not drained to the end
    assert await stored(running) == (0, 0)


async def test_refused_uploads_store_nothing(running: Running) -> None:
    ticket = await running.file()
    cases = [
        ("invoice.pdf", EXE, "ATTACHMENT_TYPE_NOT_ALLOWED"),  # an executable named .pdf
        ("../../etc/passwd", b"root:x:0:0\n", "INVALID_FILENAME"),
        ("C:\\Windows\\notes.txt", b"text\n", "INVALID_FILENAME"),
        ("bell\x07.txt", b"text\n", "INVALID_FILENAME"),
        ("empty.txt", b"", "ATTACHMENT_EMPTY"),
    ]
    for filename, data, expected in cases:
        code, reason, _, _ = await failure(
            running.tickets.UploadAttachment(messages(ticket.id, filename, data), metadata=running.manager())
        )
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, expected), filename
    assert await stored(running) == (0, 0)

    async def no_start() -> AsyncIterator[object]:
        yield tickets_pb2.UploadAttachmentRequest(chunk=b"data first")

    code, reason, _, _ = await failure(running.tickets.UploadAttachment(no_start(), metadata=running.manager()))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_UPLOAD")

    # Only who may write in the ticket uploads to it.
    code, _, _, _ = await failure(
        running.tickets.UploadAttachment(
            messages(ticket.id, "a.txt", b"text"), metadata=running.bearer(Grant(running.company, READER))
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    # Refused at its first message while the uploader still sends megabytes: it hears why, not a broken call.
    code, reason, _, _ = await failure(
        running.tickets.UploadAttachment(
            messages(ticket.id, "a.txt", b"a" * 3_000_000), metadata=running.bearer(Grant(running.other_branch, WRITER))
        )
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "TICKET_NOT_FOUND")
    code, reason, _, _ = await failure(
        running.tickets.UploadAttachment(messages(ticket.id, "invoice.pdf", EXE * 30), metadata=running.manager())
    )
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "ATTACHMENT_TYPE_NOT_ALLOWED")
    assert await stored(running) == (0, 0)


async def test_a_note_takes_at_most_five_and_a_refused_note_leaves_them_waiting(running: Running) -> None:
    ticket = await running.file()
    ids = [(await upload(running, ticket.id, f"page {i}.txt", f"page {i}\n".encode())).id for i in range(6)]
    code, reason, violations, _ = await failure(
        running.tickets.AddNote(
            tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="Six pages.", attachment_ids=ids),
            metadata=running.manager(),
        )
    )
    assert (code, reason, list(violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "TOO_MANY_ATTACHMENTS",
        ["attachment_ids"],
    )
    got = await running.tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id=ticket.id), metadata=running.manager())
    assert got.ticket.note_count == 0
    noted = await running.tickets.AddNote(
        tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="Five pages.", attachment_ids=ids[:5]),
        metadata=running.manager(),
    )
    assert [a.filename for a in noted.note.attachments] == [f"page {i}.txt" for i in range(5)]
    # Taken once: a second note cannot take them again.
    code, reason, _, _ = await failure(
        running.tickets.AddNote(
            tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="Again.", attachment_ids=[ids[0]]),
            metadata=running.manager(),
        )
    )
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "ATTACHMENT_NOT_FOUND")


async def test_the_sweep_deletes_what_crashes_left_an_upload_cut_off_and_bytes_whose_row_is_gone(
    running: Running,
) -> None:
    ticket = await running.file()
    kept = await upload(running, ticket.id, "kept.txt", b"kept\n")
    await running.tickets.AddNote(
        tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="Here.", attachment_ids=[kept.id]),
        metadata=running.manager(),
    )
    # The expiry deleted this upload's row and the process died before its bytes went.
    orphaned = await upload(running, ticket.id, "orphaned.png", PNG)
    # And this upload was cut off half-way by a crash: its row still uploading, two chunks written.
    cut_off = await upload(running, ticket.id, "cut off.png", PNG)
    async with running.db.transaction() as session:
        await session.execute(sa.delete(Attachment).where(Attachment.id == orphaned.id))
        began = await session.scalar(sa.select(Attachment.created_at).where(Attachment.id == cut_off.id))
        assert began is not None
        await session.execute(
            sa.update(Attachment)
            .where(Attachment.id == cut_off.id)
            .values(
                state="uploading",
                size=0,
                sha256="",
                expires_at=began + running.ticketing.attachments.limits.uploading_ttl,
            )
        )
        await session.execute(
            sa.delete(AttachmentChunk).where(AttachmentChunk.blob_key == cut_off.id, AttachmentChunk.seq == 2)
        )
    assert await stored(running) == (2, 1 + 3 + 2)

    await running.ticketing.sweeper.once()  # within the hour: the cut-off upload may still be going on
    assert await stored(running) == (2, 1 + 2)
    running.move_clock(2 * 3600)
    await running.ticketing.sweeper.once()
    assert await stored(running) == (1, 1)
    _, content = await download(running, ticket.id, kept.id, running.manager())
    assert content == b"kept\n"


async def test_the_walk_for_orphans_goes_through_every_key_in_batches(running: Running) -> None:
    ticket = await running.file()
    files = [await upload(running, ticket.id, f"file {i}.txt", f"file {i}\n".encode()) for i in range(5)]
    async with running.db.transaction() as session:
        await session.execute(sa.delete(Attachment).where(Attachment.id.in_([f.id for f in files[1::2]])))
    attachments = running.ticketing.attachments
    assert [await attachments.collect_orphans(batch=2) for _ in range(3)] == [1, 1, 0]
    assert await stored(running) == (3, 3)
    assert await attachments.collect_orphans(batch=2) == 0  # started over: nothing left


async def test_an_upload_no_note_takes_expires_and_an_ended_ticket_takes_none(running: Running) -> None:
    ticket = await running.file()
    kept = await upload(running, ticket.id, "kept.txt", b"kept\n")
    forgotten = await upload(running, ticket.id, "forgotten.txt", b"forgotten\n")
    await running.tickets.AddNote(
        tickets_pb2.AddNoteRequest(ticket_id=ticket.id, body="Here.", attachment_ids=[kept.id]),
        metadata=running.manager(),
    )
    running.move_clock(2 * DAY)
    assert await running.ticketing.attachments.expire() == 1
    assert await stored(running) == (1, 1)
    code, _, _, _ = await failure(download(running, ticket.id, forgotten.id, running.manager()))
    assert code == grpc.StatusCode.NOT_FOUND
    _, content = await download(running, ticket.id, kept.id, running.manager())
    assert content == b"kept\n"

    await running.tickets.CancelTicket(tickets_pb2.CancelTicketRequest(ticket_id=ticket.id), metadata=running.manager())
    code, reason, _, _ = await failure(
        running.tickets.UploadAttachment(messages(ticket.id, "late.txt", b"late\n"), metadata=running.manager())
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TICKET_ENDED")
    assert await stored(running) == (1, 1)
