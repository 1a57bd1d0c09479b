"""Emailing spending limits' warnings after their notices commit (the mail queue of :mod:`billing.mailqueue`).

The sweep's transaction that claims a limit's notice for a period inserts a
``limit_emails`` row for each email address the warning names, beside the SMS
it sends to phone numbers: once per limit, period and address. This loop sends
the due ones through the SMTP relay, tries again on a relay down or a 4xx, and
gives up on a 5xx (``last_error`` says why).
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from billing import metrics
from billing.limits.models import EMAILS
from billing.mailqueue import MailQueue

SUBJECT = "SIMfleet: spending limit reached"


class LimitEmailer(MailQueue):
    table = EMAILS
    what = "spending limits' warnings"

    async def message(self, row: Any) -> EmailMessage | None:
        return self._smtp.compose(
            to=row.email, subject=SUBJECT, body=f"{row.text}\n", message_id=f"limit.{row.limit_id}.{row.id}"
        )

    def counted(self, outcome: str) -> None:
        metrics.LIMIT_EMAILS.labels(outcome).inc()
