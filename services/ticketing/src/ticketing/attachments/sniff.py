"""What an uploaded file is, decided by its content as it streams past, and the name it is shown under.

The type never comes from the name or from what the uploader declared. The
allowed ones, by their first bytes: PDF (``%PDF-``), PNG (its 8-byte
signature), JPEG (``FF D8 FF``); DOCX and XLSX are ZIP archives (``PK\\x03\\x04``)
whose central directory names ``[Content_Types].xml`` and
``word/document.xml`` or ``xl/workbook.xml`` (read from the archive's end, kept
in a bounded tail while the bytes pass); anything else must be plain text:
valid UTF-8 throughout, without a NUL. An executable (``MZ``, ``\\x7fELF``)
fails all of these. A refusal comes as soon as the bytes show it: the first
bytes for an unknown binary, the first bad byte for text, the end for a ZIP.

Memory stays bounded whatever the file's size: the first bytes, an incremental
UTF-8 decoder's state, and at most twice :data:`ZIP_TAIL` bytes of a ZIP's end.
"""

from __future__ import annotations

import codecs
import re
import struct
import unicodedata

from simfleet_runtime.errors import InvalidArgument

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain; charset=utf-8"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    TEXT: (".txt", ".log", ".csv", ".text"),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
}
"""Each type's extensions; the first is given to a name that carries none of them."""

_MAGIC = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
)
_ZIP = b"PK\x03\x04"
_HEAD = 8
ZIP_TAIL = 256 * 1024
"""How much of a ZIP's end is read for its central directory (a document's is a few KiB); at most twice this is
kept while the bytes pass."""
_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_CONTENT_TYPES = "[Content_Types].xml"
_OFFICE = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX))

NAME_MAX = 200
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")


def not_allowed(detail: str) -> InvalidArgument:
    return InvalidArgument(
        f"the file is not one of the allowed types (PDF, PNG, JPEG, plain text, DOCX, XLSX): {detail}",
        reason="ATTACHMENT_TYPE_NOT_ALLOWED",
        field_violations={"content": detail},
    )


class Sniffer:
    """Feed it the bytes in order; :meth:`result` names the type, or a refusal is raised as soon as it is certain."""

    def __init__(self) -> None:
        self._head = b""
        self._kind: str | None = None  # a type, _ZIP_KIND or _TEXT_KIND once the head decided
        self._text = codecs.getincrementaldecoder("utf-8")("strict")
        self._tail = bytearray()
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def feed(self, data: bytes) -> None:
        if not data:
            return
        self._size += len(data)
        if self._kind is None:
            self._head += data
            if len(self._head) < _HEAD:
                if not _could_become_allowed(self._head):
                    raise not_allowed("its first bytes are of no allowed type")
                return
            self._kind = _decide(self._head)
            data, self._head = self._head, self._head[:_HEAD]
        self._take(data)

    def _take(self, data: bytes) -> None:
        if self._kind == _ZIP_KIND:
            self._tail += data
            if len(self._tail) > 2 * ZIP_TAIL:
                del self._tail[:-ZIP_TAIL]
        elif self._kind == _TEXT_KIND:
            _check_text(self._text, data, final=False)

    def result(self) -> str:
        """The type of everything fed (at its end)."""
        if self._size == 0:
            raise InvalidArgument(
                "the file is empty", reason="ATTACHMENT_EMPTY", field_violations={"content": "no bytes"}
            )
        if self._kind is None:  # shorter than a signature: only text can be that short
            self._kind = _decide(self._head)
            if self._kind != _TEXT_KIND:
                raise not_allowed("it is too short to be what it starts like")
            self._take(self._head)
        if self._kind == _TEXT_KIND:
            _check_text(self._text, b"", final=True)
            return TEXT
        if self._kind == _ZIP_KIND:
            return _office_type(bytes(self._tail[-ZIP_TAIL:]))
        return self._kind


_ZIP_KIND = "zip"
_TEXT_KIND = "text"


def _decide(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return _ZIP_KIND if head.startswith(_ZIP) else _TEXT_KIND


def _could_become_allowed(start: bytes) -> bool:
    if any(magic.startswith(start) or start.startswith(magic) for magic in (*(m for m, _ in _MAGIC), _ZIP)):
        return True
    try:
        _check_text(codecs.getincrementaldecoder("utf-8")("strict"), start, final=False)
    except InvalidArgument:
        return False
    return True


def _check_text(decoder: codecs.IncrementalDecoder, data: bytes, *, final: bool) -> None:
    if b"\x00" in data:
        raise not_allowed("it holds NUL bytes: it is not plain text, nor a known binary type")
    try:
        decoder.decode(data, final=final)
    except UnicodeDecodeError:
        raise not_allowed("it is not plain UTF-8 text, nor a known binary type") from None


def _office_type(tail: bytes) -> str:
    """DOCX or XLSX from the end of a ZIP archive: its central directory's names."""
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise not_allowed("a ZIP archive without its directory (only DOCX and XLSX are allowed)")
    # End of central directory: signature, two disk numbers, entries here, entries in all, its size, its offset.
    entries, directory_size = struct.unpack("<10xHI4x", tail[at : at + 20])
    start = at - directory_size
    if start < 0 or directory_size == 0:
        raise not_allowed("a ZIP archive whose directory cannot be read (only DOCX and XLSX are allowed)")
    names = set()
    position = start
    for _ in range(entries):
        if tail[position : position + 4] != _CENTRAL or position + 46 > at:
            raise not_allowed("a ZIP archive whose directory is damaged")
        name_length, extra_length, comment_length = struct.unpack("<HHH", tail[position + 28 : position + 34])
        names.add(tail[position + 46 : position + 46 + name_length].decode("utf-8", "replace"))
        position += 46 + name_length + extra_length + comment_length
    if _CONTENT_TYPES in names:
        for member, kind in _OFFICE:
            if member in names:
                return kind
    raise not_allowed("a ZIP archive that is neither a DOCX nor an XLSX document")


def clean_filename(raw: str, field: str = "filename") -> str:
    """The name to keep and show: refused (INVALID_FILENAME) when it holds path or control characters or is
    empty or too long; otherwise normalised (NFC), its blanks collapsed, characters Windows cannot save replaced
    by ``_``, its trailing dots and blanks dropped."""

    def refuse(why: str) -> InvalidArgument:
        return InvalidArgument(f"{field} {why}", reason="INVALID_FILENAME", field_violations={field: why})

    name = unicodedata.normalize("NFC", raw)
    if "/" in name or "\\" in name:
        raise refuse("must be a file's name without a path (no / or \\)")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") and c not in " " for c in name):
        raise refuse("must not hold control, format or unassigned characters")
    name = _SPACES.sub(" ", name).strip().rstrip(". ")
    name = _WINDOWS_RESERVED.sub("_", name)
    if not name or set(name) <= {"."}:
        raise refuse("must name a file (1 to 200 characters)")
    if len(name) > NAME_MAX:
        raise refuse(f"must be at most {NAME_MAX} characters")
    return name


def with_extension(name: str, content_type: str) -> str:
    """``name`` ending in an extension of ``content_type`` (the type's first one appended when it does not)."""
    allowed = EXTENSIONS[content_type]
    if name.lower().endswith(allowed):
        return name
    suffix = allowed[0]
    return name[: NAME_MAX - len(suffix)] + suffix
