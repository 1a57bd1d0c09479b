"""Tickets' files at the gateway on a scripted ticketing: an upload's raw body streamed on in pieces with its name,
a body past the limit stopped (413) without ticketing completing anything, ticketing's refusals as 413/415/422
problems, a download streamed with its type, Content-Disposition (RFC 6266 filename*) and nosniff, and the notes'
attachment ids sent on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import unquote

import httpx
import pytest

from gateway.main import create_app
from gateway.tickets.attachments import content_disposition
from gateway.upstream.identity import open_identity_channel
from gateway.upstream.ticketing import open_ticketing_channel
from simfleet.ticketing.v1 import support_pb2 as spb
from simfleet.ticketing.v1 import tickets_pb2 as pb
from simfleet_runtime.errors import InvalidArgument, NotFound

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, _ts, make_settings
from .scripted import ScriptedServices
from .test_tickets import TICKET, ticket

BEARER = {"Authorization": "Bearer access.token.1"}
ATTACHMENT = "01JA5F6G7H8J9K0M1N2P3Q4R6A"
LIMIT = 300_000
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 600  # 153,609 bytes: three pieces of 64 KiB


def described(**changes: object) -> pb.Attachment:
    fields: dict[str, object] = {
        "id": ATTACHMENT,
        "ticket_id": TICKET,
        "filename": "Счёт №5.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "sha256": "ab" * 32,
        "uploaded_by": "u-1",
        "uploader_kind": "customer",
        "created_at": _ts(1_768_469_400),
        "expires_at": _ts(1_768_555_800),
    }
    fields.update(changes)
    return pb.Attachment(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def ticketing_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices(
        "ticketing",
        pb.DESCRIPTOR.services_by_name["TicketService"],
        spb.DESCRIPTOR.services_by_name["SupportService"],
    )
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def ticketing(ticketing_server: ScriptedServices) -> AsyncIterator[ScriptedServices]:
    ticketing_server.reset()
    yield ticketing_server
    ticketing_server.reset()


@pytest.fixture
async def client(identity: ScriptedIdentity, ticketing: ScriptedServices) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(identity.target, ticketing_target=ticketing.target, max_attachment_bytes=LIMIT)
    identity_channel, ticketing_channel = open_identity_channel(settings), open_ticketing_channel(settings)
    app = create_app(settings, identity_channel=identity_channel, ticketing_channel=ticketing_channel)
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client
    await identity_channel.close()
    await ticketing_channel.close()


async def body_in_pieces(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


async def test_an_upload_streams_the_raw_body_on_in_pieces_with_its_name(client, ticketing):
    ticketing.script("UploadAttachment", pb.UploadAttachmentResponse(attachment=described()))
    response = await client.post(
        f"/v1/tickets/{TICKET}/attachments",
        params={"filename": "Счёт №5.pdf"},
        content=body_in_pieces(PDF),
        headers={**BEARER, "Content-Type": "image/gif"},  # not believed, not refused: ticketing looks at the bytes
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/tickets/{TICKET}/attachments/{ATTACHMENT}"
    answer = response.json()
    assert (answer["id"], answer["filename"], answer["content_type"], answer["note_id"]) == (
        ATTACHMENT,
        "Счёт №5.pdf",
        "application/pdf",
        None,
    )
    assert answer["expires_at"] == "2026-01-16T09:30:00Z"
    call = ticketing.last("UploadAttachment")
    assert call.metadata["authorization"] == "Bearer access.token.1"
    start, *chunks = call.request
    assert (start.WhichOneof("part"), start.start.ticket_id, start.start.filename) == ("start", TICKET, "Счёт №5.pdf")
    assert all(c.WhichOneof("part") == "chunk" and len(c.chunk) <= 64 * 1024 for c in chunks)
    assert b"".join(c.chunk for c in chunks) == PDF


async def test_support_uploads_on_its_own_route(client, ticketing):
    ticketing.script("UploadSupportAttachment", spb.UploadSupportAttachmentResponse(attachment=described()))
    response = await client.post(
        f"/v1/admin/tickets/{TICKET}/attachments", params={"filename": "guide.pdf"}, content=PDF, headers=BEARER
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/admin/tickets/{TICKET}/attachments/{ATTACHMENT}"
    start, *chunks = ticketing.last("UploadSupportAttachment").request
    assert start.start.filename == "guide.pdf" and b"".join(c.chunk for c in chunks) == PDF


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_past_the_limit_is_a_413_and_ticketing_completes_nothing(client, ticketing, declared):
    data = b"a" * (LIMIT + 1)
    content = data if declared else body_in_pieces(data)
    response = await client.post(
        f"/v1/tickets/{TICKET}/attachments", params={"filename": "big.txt"}, content=content, headers=BEARER
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for call in ticketing.calls:  # cut off before its end: never more than the limit reached ticketing
        assert sum(len(m.chunk) for m in call.request) <= LIMIT


@pytest.mark.parametrize(
    ("reason", "status"),
    [("ATTACHMENT_TYPE_NOT_ALLOWED", 415), ("ATTACHMENT_TOO_LARGE", 413), ("INVALID_FILENAME", 422)],
)
async def test_ticketings_refusals_are_problems(client, ticketing, reason, status):
    ticketing.script("UploadAttachment", InvalidArgument("refused", reason=reason, field_violations={"content": "x"}))
    response = await client.post(
        f"/v1/tickets/{TICKET}/attachments", params={"filename": "invoice.pdf"}, content=b"MZ\x90\x00", headers=BEARER
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["reason"] == reason


async def test_an_upload_needs_a_name_and_a_token(client, ticketing):
    missing = await client.post(f"/v1/tickets/{TICKET}/attachments", content=PDF, headers=BEARER)
    assert missing.status_code == 422
    assert "filename" in {e["field"] for e in missing.json()["errors"]}
    too_long = await client.post(
        f"/v1/tickets/{TICKET}/attachments", params={"filename": "x" * 201}, content=PDF, headers=BEARER
    )
    assert too_long.status_code == 422
    anonymous = await client.post(f"/v1/tickets/{TICKET}/attachments", params={"filename": "a.pdf"}, content=PDF)
    assert anonymous.status_code == 401
    assert ticketing.count("UploadAttachment") == 0


async def test_a_download_streams_the_file_with_its_type_and_name(client, ticketing):
    pieces = [PDF[at : at + 65_536] for at in range(0, len(PDF), 65_536)]
    ticketing.script(
        "DownloadAttachment",
        [pb.DownloadAttachmentResponse(attachment=described())]
        + [pb.DownloadAttachmentResponse(chunk=p) for p in pieces],
    )
    response = await client.get(
        f"/v1/tickets/{TICKET}/attachments/{ATTACHMENT}", headers={**BEARER, "Accept-Encoding": "identity"}
    )
    assert response.status_code == 200, response.text
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(PDF))
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Счёт №5.pdf"
    request = ticketing.last("DownloadAttachment").request
    assert (request.ticket_id, request.attachment_id) == (TICKET, ATTACHMENT)


async def test_a_download_refused_by_ticketing_is_a_problem(client, ticketing):
    ticketing.script("DownloadSupportAttachment", NotFound("no", reason="ATTACHMENT_NOT_FOUND"))
    response = await client.get(f"/v1/admin/tickets/{TICKET}/attachments/{ATTACHMENT}", headers=BEARER)
    assert response.status_code == 404
    assert response.json()["reason"] == "ATTACHMENT_NOT_FOUND"


@pytest.mark.parametrize(
    ("name", "ascii_part"),
    [
        ("report.pdf", 'filename="report.pdf"'),
        ("Счёт.pdf", 'filename="attachment.pdf"'),
        ('a "quoted" \\ name%.txt', 'filename="a _quoted_ _ name_.txt"'),
        ("café.txt", 'filename="cafe.txt"'),
    ],
)
def test_content_disposition_has_a_safe_ascii_name_and_the_exact_one(name, ascii_part):
    header = content_disposition(name)
    assert ascii_part in header
    assert "\r" not in header and "\n" not in header
    assert unquote(header.split("filename*=UTF-8''")[1]) == name


async def test_notes_and_answers_send_their_attachment_ids(client, ticketing):
    note = pb.Note(
        id="n-1", author_kind="customer", author_id="u-1", body="See.", attachments=[described(note_id="n-1")]
    )
    ticketing.script("AddNote", pb.AddNoteResponse(note=note, ticket=ticket()))
    noted = await client.post(
        f"/v1/tickets/{TICKET}/notes", json={"body": "See.", "attachment_ids": [ATTACHMENT]}, headers=BEARER
    )
    assert noted.status_code == 201, noted.text
    assert noted.json()["note"]["attachments"][0]["note_id"] == "n-1"
    assert list(ticketing.last("AddNote").request.attachment_ids) == [ATTACHMENT]
    six = await client.post(
        f"/v1/tickets/{TICKET}/notes", json={"body": "Six.", "attachment_ids": [ATTACHMENT] * 6}, headers=BEARER
    )
    assert six.status_code == 422 and ticketing.count("AddNote") == 1
    ticketing.script("Answer", spb.AnswerResponse(note=note, ticket=ticket()))
    answered = await client.post(
        f"/v1/admin/tickets/{TICKET}/answers", json={"body": "See.", "attachment_ids": [ATTACHMENT]}, headers=BEARER
    )
    assert answered.status_code == 201, answered.text
    assert list(ticketing.last("Answer").request.attachment_ids) == [ATTACHMENT]
