"""Attachments' content and names: the type decided by the bytes (whatever the name), refused early where the bytes
show it, names cleaned or refused; and the database store streaming a file larger than its chunks in and out."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from simfleet_runtime.db import Database
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import new_id
from simfleet_runtime.migrations import upgrade_async
from ticketing.attachments import sniff
from ticketing.attachments.models import CHUNKS
from ticketing.attachments.sniff import Sniffer, clean_filename, with_extension
from ticketing.attachments.storage import DatabaseStore
from ticketing.main import MIGRATIONS

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(300)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(300)


def office(*members: str, padding: int = 0) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            archive.writestr(member, "<xml/>")
        if padding:
            archive.writestr("media/big.bin", bytes(range(256)) * (padding // 256), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


DOCX = office("[Content_Types].xml", "_rels/.rels", "word/document.xml")
XLSX = office("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml")


def sniffed(data: bytes, piece: int = 7) -> str:
    sniffer = Sniffer()
    for at in range(0, len(data), piece):
        sniffer.feed(data[at : at + piece])
    return sniffer.result()


def refusal(data: bytes, piece: int = 7) -> tuple[str, int]:
    """The refusal's reason, and how many bytes had been fed when it came."""
    sniffer = Sniffer()
    fed = 0

    def feed_all() -> None:
        nonlocal fed
        for at in range(0, len(data), piece):
            fed += len(data[at : at + piece])
            sniffer.feed(data[at : at + piece])
        sniffer.result()

    with pytest.raises(InvalidArgument) as refused:
        feed_all()
    return refused.value.reason, fed


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF, sniff.PDF),
        (PNG, sniff.PNG),
        (JPEG, sniff.JPEG),
        ("Счёт за ноябрь: 1 200 ₽\nLine two.\n".encode(), sniff.TEXT),
        (b"ok", sniff.TEXT),
        (DOCX, sniff.DOCX),
        (XLSX, sniff.XLSX),
        (office("[Content_Types].xml", "word/document.xml", padding=600_000), sniff.DOCX),
    ],
)
@pytest.mark.parametrize("piece", [1, 7, 65_536])
def test_the_type_comes_from_the_content(data: bytes, expected: str, piece: int) -> None:
    assert sniffed(data, piece) == expected


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (EXE, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        (ELF, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        (b"GIF89a" + bytes(100), "ATTACHMENT_TYPE_NOT_ALLOWED"),
        (b"fine text, then a NUL\x00", "ATTACHMENT_TYPE_NOT_ALLOWED"),
        (b"Latin-1 \xe9t\xe9", "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("cut in the middle: й".encode()[:-1], "ATTACHMENT_TYPE_NOT_ALLOWED"),
        (office("[Content_Types].xml", "payload.exe"), "ATTACHMENT_TYPE_NOT_ALLOWED"),  # a ZIP, not a document
        (office("word/document.xml"), "ATTACHMENT_TYPE_NOT_ALLOWED"),  # no content types: not OOXML
        (DOCX[:-22], "ATTACHMENT_TYPE_NOT_ALLOWED"),  # cut before its directory's end
        (b"\xff\xd8\xff", "ATTACHMENT_TYPE_NOT_ALLOWED"),  # only a signature, no image
        (b"", "ATTACHMENT_EMPTY"),
    ],
)
def test_anything_else_is_refused(data: bytes, reason: str) -> None:
    assert refusal(data)[0] == reason


def test_a_disguised_executable_is_refused_at_its_first_bytes_not_its_end() -> None:
    big = EXE + bytes(5_000_000)
    _, fed = refusal(big, piece=65_536)
    assert fed == 65_536
    _, fed = refusal(b"\x00\x01" + bytes(1000), piece=1)
    assert fed <= 2


def test_a_zip_tail_is_bounded_whatever_the_size() -> None:
    sniffer = Sniffer()
    data = office("[Content_Types].xml", "xl/workbook.xml", padding=2_000_000)
    for at in range(0, len(data), 65_536):
        sniffer.feed(data[at : at + 65_536])
        assert len(sniffer._tail) <= 2 * sniff.ZIP_TAIL
    assert sniffer.result() == sniff.XLSX


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("  Счёт   ноябрь.pdf  ", "Счёт ноябрь.pdf"),
        ("e\u0301te\u0301.txt", "\u00e9t\u00e9.txt"),  # NFC
        ('what?<is>:"this"|*.txt', "what__is___this___.txt"),
        ("trailing dots... ", "trailing dots"),
        (".hidden.txt", ".hidden.txt"),
    ],
)
def test_names_are_cleaned(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd",
        "..\\..\\boot.ini",
        "dir/report.pdf",
        "C:\\report.pdf",
        "report\x00.pdf",
        "line\nbreak.txt",
        "tab\tname.txt",
        "rtl\u202efdp.exe",  # a right-to-left override that shows "exe.pdf"
        "",
        "   ",
        "..",
        ".",
        "x" * 201,
    ],
)
def test_names_with_paths_or_control_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        clean_filename(raw)
    assert refused.value.reason == "INVALID_FILENAME"


def test_a_name_gets_the_extension_of_its_content() -> None:
    assert with_extension("scan.PDF", sniff.PDF) == "scan.PDF"
    assert with_extension("photo.jpeg", sniff.JPEG) == "photo.jpeg"
    assert with_extension("invoice.pdf", sniff.PNG) == "invoice.pdf.png"
    assert with_extension("notes", sniff.TEXT) == "notes.txt"
    assert len(with_extension("x" * 200, sniff.DOCX)) == 200


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    await upgrade_async(MIGRATIONS, url)
    db = Database(url)
    yield db
    await db.dispose()


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


async def test_the_store_streams_a_file_larger_than_its_chunks_in_and_out(database: Database) -> None:
    store = DatabaseStore(database, chunk_size=1024)
    data = bytes(range(256)) * 41 + b"tail"  # 10,500 bytes: ten full chunks and a part
    key = new_id()
    assert await store.put(key, pieces(data, 333)) == len(data)
    async with database.sessions() as session:
        sizes = [len(d) for (d,) in await session.execute(sa.select(CHUNKS.c.data).order_by(CHUNKS.c.seq))]
    assert sizes == [1024] * 10 + [260]
    read = [piece async for piece in store.open(key)]
    assert [len(p) for p in read] == sizes  # one row at a time, never the whole file
    assert b"".join(read) == data
    await store.delete(key)
    assert await store.chunk_count(key) == 0
    assert [piece async for piece in store.open(key)] == []


async def test_a_put_that_fails_midway_leaves_nothing(database: Database) -> None:
    store = DatabaseStore(database, chunk_size=1024)

    async def broken() -> AsyncIterator[bytes]:
        yield bytes(3000)
        raise InvalidArgument("too large", reason="ATTACHMENT_TOO_LARGE")

    key = new_id()
    with pytest.raises(InvalidArgument):
        await store.put(key, broken())
    assert await store.chunk_count(key) == 0


async def test_an_empty_file_is_one_empty_chunk_and_reads_back_empty(database: Database) -> None:
    store = DatabaseStore(database, chunk_size=1024)
    key = new_id()
    assert await store.put(key, pieces(b"", 10)) == 0
    assert await store.chunk_count(key) == 1
    assert b"".join([p async for p in store.open(key)]) == b""
