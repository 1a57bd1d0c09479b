"""Hands queued emails to the SMTP relay (a durable consumer of identity's stream).

Locally the relay is netsim's SMTP sink; in a cluster, the operator's mail
relay. A relay that refuses or is unreachable makes the message come back later
(the consumer's backoff); a message the relay rejects permanently (5xx) is
dead-lettered.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from identity import metrics
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.bus import Event, PermanentError


class Mailer:
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

    def compose(self, request: ev.EmailRequested) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = request.to_address
        message["Subject"] = request.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(idstring=request.message_id, domain="simfleet.local")
        message.set_content(request.body)
        return message

    async def handle(self, _session: AsyncSession, event: Event) -> None:
        request = ev.EmailRequested.FromString(event.data)
        try:
            await aiosmtplib.send(
                self.compose(request),
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            metrics.EMAILS.labels("rejected" if exc.code >= 500 else "deferred").inc()
            if exc.code >= 500:
                raise PermanentError(f"relay rejected the message: {exc.code} {exc.message}") from exc
            raise
        except (aiosmtplib.SMTPException, OSError):
            metrics.EMAILS.labels("deferred").inc()
            raise
        metrics.EMAILS.labels("sent").inc()
