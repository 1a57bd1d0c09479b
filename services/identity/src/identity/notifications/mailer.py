"""Hands queued emails to the SMTP relay (a durable consumer of identity's stream).

Locally the relay is netsim's SMTP sink; in a cluster, the operator's mail
relay. A relay that refuses or is unreachable makes the message come back later
(the consumer's backoff); a message the relay rejects permanently (5xx) is
dead-lettered.
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from identity import metrics
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.bus import Event, PermanentError
from simfleet_runtime.mail import SmtpSender, is_permanent


class Mailer:
    """identity's emails (EmailRequested on its stream) through the runtime's SMTP sender."""

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
        self._smtp = SmtpSender(
            host=host,
            port=port,
            sender=sender,
            username=username,
            password=password,
            starttls=starttls,
            timeout=timeout,
        )

    def compose(self, request: ev.EmailRequested) -> EmailMessage:
        return self._smtp.compose(
            to=request.to_address, subject=request.subject, body=request.body, message_id=request.message_id
        )

    async def handle(self, _session: AsyncSession, event: Event) -> None:
        request = ev.EmailRequested.FromString(event.data)
        try:
            await self._smtp.send(self.compose(request))
        except aiosmtplib.SMTPResponseException as exc:
            metrics.EMAILS.labels("rejected" if is_permanent(exc) else "deferred").inc()
            if is_permanent(exc):
                raise PermanentError(f"relay rejected the message: {exc.code} {exc.message}") from exc
            raise
        except (aiosmtplib.SMTPException, OSError):
            metrics.EMAILS.labels("deferred").inc()
            raise
        metrics.EMAILS.labels("sent").inc()
