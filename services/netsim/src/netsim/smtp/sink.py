"""The SMTP sink: an aiosmtpd server inside the service's own event loop.

:class:`MailboxHandler` is the aiosmtpd handler: it refuses recipients that are
not addresses, and for each message stores one row per recipient mailbox before
answering 250 (a database failure answers 451, so the sender tries again).
:class:`SmtpSink` runs the listener as a runtime task: it binds on start, and
when the stop event fires it stops accepting, lets messages being stored finish
(bounded), and closes the remaining connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from netsim import metrics
from netsim.smtp.addresses import mailbox_key
from netsim.smtp.parsing import parse_message
from netsim.smtp.service import store_mail
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import InvalidArgument

log = logging.getLogger(__name__)


class MailboxHandler:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            key = mailbox_key(address)
        except InvalidArgument:
            return "553 5.1.3 Recipient address not valid"
        envelope.rcpt_tos.append(key)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        self._in_flight += 1
        self._idle.clear()
        try:
            try:
                mail = parse_message(raw, envelope_from=envelope.mail_from or "")
            except Exception:  # a message we cannot read is refused, not fatal
                log.warning("cannot parse a received message", exc_info=True)
                return "554 5.6.0 Message could not be parsed"
            try:
                async with self._db.transaction() as session_db:
                    rows = await store_mail(
                        session_db, recipients=envelope.rcpt_tos, mail=mail, size_bytes=len(raw), clock=self._clock
                    )
            except Exception:  # the sender keeps the message and retries
                log.exception("storing a received message failed")
                return "451 4.3.0 Mailbox unavailable, try again later"
            metrics.MAIL_RECEIVED.inc(len(rows))
            log.info("mail received", extra={"recipients": len(rows), "size_bytes": len(raw)})
            return "250 Message accepted for delivery"
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def wait_idle(self, seconds: float) -> None:
        """Wait (at most ``seconds``) until no message is being stored."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._idle.wait()


class SmtpSink:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        host: str,
        port: int,
        hostname: str,
        max_message_bytes: int,
        grace_seconds: float = 5.0,
    ) -> None:
        self.handler = MailboxHandler(db=db, clock=clock)
        self._host = host
        self._port = port
        self._hostname = hostname
        self._max_bytes = max_message_bytes
        self._grace = grace_seconds
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._server: asyncio.Server | None = None
        self._bound = asyncio.Event()

    @property
    def port(self) -> int:
        """The port it listens on (the real one when configured with 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def wait_bound(self) -> None:
        await self._bound.wait()

    def _protocol(self) -> SMTP:
        protocol = SMTP(
            self.handler,
            hostname=self._hostname,
            data_size_limit=self._max_bytes,
            enable_SMTPUTF8=True,
            loop=asyncio.get_running_loop(),
        )
        self._connections.add(protocol)
        return protocol

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self._host, self._port)
        self._bound.set()
        log.info("smtp sink listening", extra={"smtp_host": self._host, "smtp_port": self.port})
        try:
            await stop.wait()
        finally:
            await self._close()

    async def _close(self) -> None:
        server = self._server
        if server is None:
            return
        server.close()
        await self.handler.wait_idle(self._grace)
        for protocol in list(self._connections):
            transport: Any = protocol.transport
            if transport is not None:
                transport.close()
        await server.wait_closed()
        log.info("smtp sink stopped")
