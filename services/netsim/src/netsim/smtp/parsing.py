"""Reading a received message: sender, subject and a text body, with MIME decoded."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

SUBJECT_MAX = 998


@dataclass(frozen=True)
class ParsedMail:
    from_address: str
    subject: str
    body: str


def parse_message(raw: bytes, *, envelope_from: str) -> ParsedMail:
    """Parse RFC 5322 bytes: encoded-word headers, transfer encodings and charsets are decoded.

    The body is the ``text/plain`` part when there is one, else the ``text/html``
    part, else empty (a message of attachments only).
    """
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return ParsedMail(
        from_address=_sender(message, envelope_from),
        subject=" ".join(str(message.get("subject", "")).split())[:SUBJECT_MAX],
        body=_text_body(message),
    )


def _sender(message: EmailMessage, envelope_from: str) -> str:
    header = message.get("from")
    addresses = getattr(header, "addresses", ())
    for address in addresses:
        if address.addr_spec:
            return str(address.addr_spec)
    return envelope_from


def _text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        # An unknown or lying charset: keep what can be read.
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content.replace("\r\n", "\n") if isinstance(content, str) else ""
