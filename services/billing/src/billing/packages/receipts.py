"""Emailing purchase receipts after their purchases commit: an outbox of its own, so none is lost.

The purchase's transaction inserts its ``package_receipts`` row; this loop
sends the due ones through the SMTP relay (:mod:`simfleet_runtime.mail`) and
marks them sent. A relay that is down or answers 4xx makes the receipt come
back later (growing pauses, at most an hour); a 5xx, or ``MAX_ATTEMPTS``
failures, gives up on it (``last_error`` says why): the buyer can still read
the receipt (``GetReceipt``). A receipt sent but not yet marked (a crash in
between) is sent again: at least once, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiosmtplib
import sqlalchemy as sa

from billing import metrics
from billing.packages.models import RECEIPTS, DataPackage, PackagePurchase
from billing.packages.service import receipt_text
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.mail import SmtpSender, is_permanent

log = logging.getLogger(__name__)

BATCH = 50
MAX_ATTEMPTS = 20
MAX_PAUSE_SECONDS = 3600.0
R = RECEIPTS.c


class ReceiptMailer:
    def __init__(self, *, db: Database, clock: Clock, smtp: SmtpSender, interval: float) -> None:
        self._db = db
        self._clock = clock
        self._smtp = smtp
        self._interval = interval

    async def send_due(self) -> int:
        """Send the receipts whose next attempt is due; answers how many were sent."""
        now = self._clock.now()
        async with self._db.sessions() as session:
            due = (
                await session.execute(
                    sa.select(R.purchase_id, R.email, R.attempts)
                    .where(R.sent_at.is_(None), R.attempts < MAX_ATTEMPTS, R.next_attempt_at <= now)
                    .order_by(R.next_attempt_at)
                    .limit(BATCH)
                )
            ).all()
        sent = 0
        for receipt in due:
            async with self._db.sessions() as session:
                purchase = await session.get(PackagePurchase, receipt.purchase_id)
                packages = list(
                    (
                        await session.scalars(
                            sa.select(DataPackage)
                            .where(DataPackage.purchase_id == receipt.purchase_id)
                            .order_by(DataPackage.msisdn, DataPackage.id)
                        )
                    ).all()
                )
            if purchase is None:
                continue
            message = self._smtp.compose(
                to=receipt.email,
                subject=f"SIMfleet receipt: {purchase.offer_name}",
                body=receipt_text(purchase, packages),
                message_id=purchase.id.replace(":", "."),
            )
            try:
                await self._smtp.send(message)
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self._failed(receipt.purchase_id, receipt.attempts, exc)
                continue
            async with self._db.transaction() as session:
                await session.execute(
                    sa.update(RECEIPTS)
                    .where(R.purchase_id == receipt.purchase_id)
                    .values(sent_at=self._clock.now(), attempts=R.attempts + 1, last_error="")
                )
            metrics.PACKAGE_RECEIPTS.labels("sent").inc()
            sent += 1
        return sent

    async def _failed(self, purchase_id: str, attempts: int, exc: BaseException) -> None:
        permanent = is_permanent(exc)
        metrics.PACKAGE_RECEIPTS.labels("rejected" if permanent else "deferred").inc()
        pause = min(self._interval * 2 ** min(attempts, 12), MAX_PAUSE_SECONDS)
        async with self._db.transaction() as session:
            await session.execute(
                sa.update(RECEIPTS)
                .where(R.purchase_id == purchase_id)
                .values(
                    attempts=MAX_ATTEMPTS if permanent else R.attempts + 1,
                    next_attempt_at=self._clock.now() + timedelta(seconds=pause),
                    last_error=f"{type(exc).__name__}: {exc}"[:200],
                )
            )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.send_due()
            except Exception:  # the next pass tries again
                log.exception("sending receipts failed; trying again")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue
