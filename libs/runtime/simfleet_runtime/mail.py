"""Sending email through an SMTP relay: the sender every service that mails uses.

Locally the relay is netsim's SMTP sink; in a cluster, the operator's mail
relay. :meth:`SmtpSender.send` raises what the relay answered:
``aiosmtplib.SMTPResponseException`` (see :func:`is_permanent` for a 5xx,
which sending again will not change), other ``aiosmtplib.SMTPException`` or
``OSError`` when it could not be reached. Callers decide when to try again
(a consumer's backoff, an outbox's next attempt).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib


def is_permanent(exc: BaseException) -> bool:
    """Whether the relay refused the message for good (a 5xx answer)."""
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500


class SmtpSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username or None
        self._password = password or None
        self._starttls = starttls
        self._timeout = timeout

    def compose(self, *, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
        """A plain-text message from the configured sender; ``message_id`` makes its Message-ID (stable per cause)."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(idstring=message_id, domain="simfleet.local")
        message.set_content(body)
        return message

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            start_tls=self._starttls,
            timeout=self._timeout,
        )


__all__ = ["SmtpSender", "is_permanent"]
