"""Attachments through the platform (TK-2): a manager files a ticket with a photo (streamed up through the gateway
to ticketing's database), support downloads it from the back-office and answers with a file of its own, which the
manager downloads; an executable named .pdf, a file past 10 MiB, a name with a path and a note with six files are
refused with a problem and store nothing; nobody outside the ticket downloads anything."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_SUPPORT
from tests.e2e.conftest import OTHER_MANAGER_PASSWORD, OTHER_MANAGER_PHONE, onboard_other_customer
from tests.e2e.test_audit import sign_in
from tests.e2e.test_support_desk import file_ticket
from tests.helpers import problem

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2_400  # 614,408 bytes: three of the store's chunks
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(300_000)
LIMIT = 10 * 1024 * 1024


def pieces(data: bytes, size: int = 50_000) -> Iterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


def upload(
    api: httpx.Client,
    auth: dict[str, str],
    ticket_id: str,
    filename: str,
    data: bytes | Iterator[bytes],
    desk: bool = False,
) -> httpx.Response:
    prefix = "/v1/admin/tickets" if desk else "/v1/tickets"
    return api.post(
        f"{prefix}/{ticket_id}/attachments",
        params={"filename": filename},
        content=data,
        headers={**auth, "Content-Type": "application/octet-stream"},
        timeout=60,
    )


def stored(platform: Platform, ticket_id: str) -> tuple[int, int]:
    """The ticket's attachments in ticketing's database, and every chunk of stored bytes there."""

    async def count() -> tuple[int, int]:
        engine = create_async_engine(platform.database_url("ticketing"))
        try:
            async with engine.connect() as connection:
                attachments = await connection.scalar(
                    sa.text("SELECT count(*) FROM attachments WHERE ticket_id = :t"), {"t": ticket_id}
                )
                chunks = await connection.scalar(sa.text("SELECT count(*) FROM attachment_chunks"))
        finally:
            await engine.dispose()
        return int(attachments or 0), int(chunks or 0)

    return asyncio.run(count())


def test_a_ticket_with_files_both_ways_and_bad_files_refused(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    ticket: dict[str, Any] = file_ticket(api, manager, topic="Files e2e: the error on screen", severity="medium")
    ticket_id = ticket["id"]

    photo = upload(api, manager, ticket_id, "screen of the error.png", pieces(PNG))
    assert photo.status_code == 201, photo.text
    waiting = photo.json()
    assert (waiting["content_type"], waiting["size"], waiting["note_id"]) == ("image/png", len(PNG), None)
    assert photo.headers["location"] == f"/v1/tickets/{ticket_id}/attachments/{waiting['id']}"
    before = stored(platform, ticket_id)
    assert before[0] == 1

    # Refused, each with a problem, and nothing of them stored.
    disguised = problem(upload(api, manager, ticket_id, "invoice.pdf", pieces(EXE)), 415)
    assert disguised["reason"] == "ATTACHMENT_TYPE_NOT_ALLOWED"
    problem(upload(api, manager, ticket_id, "big.txt", pieces(b"a" * (LIMIT + 1), 1_000_000)), 413)
    problem(upload(api, manager, ticket_id, "big.txt", b"a" * (LIMIT + 1)), 413)  # declared too large: never read
    named = problem(upload(api, manager, ticket_id, "../../etc/passwd", b"root:x:0:0\n"), 422)
    assert named["reason"] == "INVALID_FILENAME"
    # Refused at once while megabytes are still on their way: the reason arrives, not a broken call.
    unknown = problem(upload(api, manager, "01JA5F6G7H8J9K0M1N2P3Q4R5S", "a.txt", pieces(b"a" * 3_000_000)), 404)
    assert unknown["reason"] == "TICKET_NOT_FOUND"
    assert stored(platform, ticket_id) == before

    pages = [upload(api, manager, ticket_id, f"page {i}.txt", f"page {i}\n".encode()).json()["id"] for i in range(5)]
    six = api.post(
        f"/v1/tickets/{ticket_id}/notes",
        json={"body": "Six files.", "attachment_ids": [waiting["id"], *pages]},
        headers=manager,
    )
    assert problem(six, 422)
    noted = api.post(
        f"/v1/tickets/{ticket_id}/notes",
        json={"body": "The screen and four pages.", "attachment_ids": [waiting["id"], *pages[:4]]},
        headers=manager,
    )
    assert noted.status_code == 201, noted.text
    assert [a["filename"] for a in noted.json()["note"]["attachments"]] == [
        "screen of the error.png",
        *(f"page {i}.txt" for i in range(4)),
    ]

    # Support reads the photo from the back-office and answers with a file of its own.
    support = sign_in(api, DEMO_SUPPORT.phone, DEMO_SUPPORT.password)
    seen = api.get(f"/v1/admin/tickets/{ticket_id}/attachments/{waiting['id']}", headers=support)
    assert seen.status_code == 200 and seen.content == PNG
    assert seen.headers["content-type"] == "image/png" and seen.headers["x-content-type-options"] == "nosniff"
    guide = upload(api, support, ticket_id, "Инструкция.txt", "Перезагрузите телефон.\n".encode(), desk=True)
    assert guide.status_code == 201, guide.text
    answered = api.post(
        f"/v1/admin/tickets/{ticket_id}/answers",
        json={"body": "Follow the guide, please.", "to_state": "resolved", "attachment_ids": [guide.json()["id"]]},
        headers=support,
    )
    assert answered.status_code == 201, answered.text

    details = api.get(f"/v1/tickets/{ticket_id}", headers=manager).json()
    (answer_note,) = [n for n in details["notes"] if n["author_kind"] == "support"]
    (file,) = answer_note["attachments"]
    got = api.get(f"/v1/tickets/{ticket_id}/attachments/{file['id']}", headers=manager)
    assert got.status_code == 200 and got.content.decode() == "Перезагрузите телефон.\n"
    assert unquote(got.headers["content-disposition"].split("filename*=UTF-8''")[1]) == "Инструкция.txt"

    # Nobody else downloads: another customer's manager finds nothing, a support token is no customer's.
    onboard_other_customer(platform)
    other = sign_in(api, OTHER_MANAGER_PHONE, OTHER_MANAGER_PASSWORD)
    assert problem(api.get(f"/v1/tickets/{ticket_id}/attachments/{file['id']}", headers=other), 404)
    assert problem(api.get(f"/v1/admin/tickets/{ticket_id}/attachments/{file['id']}", headers=other), 403)
    assert problem(api.get(f"/v1/tickets/{ticket_id}/attachments/{file['id']}", headers=support), 403)
    # The page no note took waits for its uploader only: support does not see it.
    assert problem(api.get(f"/v1/admin/tickets/{ticket_id}/attachments/{pages[4]}", headers=support), 404)

    closed = api.post(f"/v1/tickets/{ticket_id}/confirm-resolution", headers=manager)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    ended = problem(upload(api, manager, ticket_id, "late.txt", b"too late\n"), 409)
    assert ended["reason"] == "TICKET_ENDED"
