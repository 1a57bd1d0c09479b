"""Sending the emails a transaction queued, after it committed: billing's outbox for mail, so none is lost.

A table of mails to send has ``email``, ``attempts``, ``next_attempt_at``,
``sent_at`` and ``last_error`` besides its key (its primary key columns). The
transaction that decides to mail inserts the row; a :class:`MailQueue` loop
sends the due ones through the SMTP relay (:mod:`simfleet_runtime.mail`) and
marks them sent. A relay that is down or answers 4xx makes the mail come back
later (growing pauses, at most an hour); a 5xx, or ``MAX_ATTEMPTS`` failures,
gives up on it (``last_error`` says why). A mail sent but not yet marked (a
crash in between) is sent again: at least once, with the same Message-ID.

Package receipts (:mod:`billing.packages.receipts`) and spending limits'
warnings (:mod:`billing.limits.emails`) are two such queues.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import sqlalchemy as sa

from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.mail import SmtpSender, is_permanent

log = logging.getLogger(__name__)

BATCH = 50
MAX_ATTEMPTS = 20
MAX_PAUSE_SECONDS = 3600.0


class MailQueue:
    """Sends the due rows of :attr:`table`; a subclass says what each row's message is."""

    table: sa.Table
    what = "mail"

    def __init__(self, *, db: Database, clock: Clock, smtp: SmtpSender, interval: float) -> None:
        self._db = db
        self._clock = clock
        self._smtp = smtp
        self._interval = interval

    async def message(self, row: Any) -> EmailMessage | None:
        """The message for ``row`` (None: nothing to send any more, left as it is)."""
        raise NotImplementedError

    def counted(self, outcome: str) -> None:
        """One more mail ``sent``, ``deferred`` or ``rejected`` (a metric)."""

    def _this(self, row: Any) -> sa.ColumnElement[bool]:
        return sa.and_(*(column == getattr(row, column.name) for column in self.table.primary_key.columns))

    async def send_due(self) -> int:
        """Send the mails whose next attempt is due; answers how many were sent."""
        c = self.table.c
        now = self._clock.now()
        async with self._db.sessions() as session:
            due = (
                await session.execute(
                    sa.select(self.table)
                    .where(c.sent_at.is_(None), c.attempts < MAX_ATTEMPTS, c.next_attempt_at <= now)
                    .order_by(c.next_attempt_at)
                    .limit(BATCH)
                )
            ).all()
        sent = 0
        for row in due:
            message = await self.message(row)
            if message is None:
                continue
            try:
                await self._smtp.send(message)
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self._failed(row, exc)
                continue
            async with self._db.transaction() as session:
                await session.execute(
                    sa.update(self.table)
                    .where(self._this(row))
                    .values(sent_at=self._clock.now(), attempts=c.attempts + 1, last_error="")
                )
            self.counted("sent")
            sent += 1
        return sent

    async def _failed(self, row: Any, exc: BaseException) -> None:
        permanent = is_permanent(exc)
        self.counted("rejected" if permanent else "deferred")
        pause = min(self._interval * 2 ** min(row.attempts, 12), MAX_PAUSE_SECONDS)
        async with self._db.transaction() as session:
            await session.execute(
                sa.update(self.table)
                .where(self._this(row))
                .values(
                    attempts=MAX_ATTEMPTS if permanent else self.table.c.attempts + 1,
                    next_attempt_at=self._clock.now() + timedelta(seconds=pause),
                    last_error=f"{type(exc).__name__}: {exc}"[:200],
                )
            )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.send_due()
            except Exception:  # the next pass tries again
                log.exception("sending %s failed; trying again", self.what)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue
