"""Emailing purchase receipts after their purchases commit: a mail queue of its own, so none is lost.

The purchase's transaction inserts its ``package_receipts`` row; this loop
(:class:`billing.mailqueue.MailQueue`: retried on a relay down or a 4xx, given
up on a 5xx) sends the due ones and marks them sent. A receipt given up on can
still be read (``GetReceipt``). Its Message-ID comes from the purchase: sent
again after a crash, it is the same message.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa

from billing import metrics
from billing.mailqueue import MAX_ATTEMPTS, MailQueue
from billing.packages.models import RECEIPTS, DataPackage, PackagePurchase
from billing.packages.service import receipt_text

__all__ = ["MAX_ATTEMPTS", "ReceiptMailer"]


class ReceiptMailer(MailQueue):
    table = RECEIPTS
    what = "receipts"

    async def message(self, row: Any) -> EmailMessage | None:
        async with self._db.sessions() as session:
            purchase = await session.get(PackagePurchase, row.purchase_id)
            packages = list(
                (
                    await session.scalars(
                        sa.select(DataPackage)
                        .where(DataPackage.purchase_id == row.purchase_id)
                        .order_by(DataPackage.msisdn, DataPackage.id)
                    )
                ).all()
            )
        if purchase is None:
            return None
        return self._smtp.compose(
            to=row.email,
            subject=f"SIMfleet receipt: {purchase.offer_name}",
            body=receipt_text(purchase, packages),
            message_id=purchase.id.replace(":", "."),
        )

    def counted(self, outcome: str) -> None:
        metrics.PACKAGE_RECEIPTS.labels(outcome).inc()
