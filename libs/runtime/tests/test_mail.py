"""The SMTP sender every service mails through: the message it composes, what it hands the relay, what is final."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from simfleet_runtime.mail import SmtpSender, is_permanent


async def test_a_message_is_composed_and_handed_to_the_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[tuple[EmailMessage, dict[str, Any]]] = []

    async def send(message: EmailMessage, **options: Any) -> None:
        handed.append((message, options))

    monkeypatch.setattr(aiosmtplib, "send", send)
    sender = SmtpSender(host="relay.test", port=2525, sender="SIMfleet <no-reply@simfleet.local>", timeout=3.0)
    message = sender.compose(to="a@example.com", subject="Receipt", body="Amount: 1.00 RUB\n", message_id="pkg.1")
    await sender.send(message)
    ((sent, options),) = handed
    assert (sent["From"], sent["To"], sent["Subject"]) == (
        "SIMfleet <no-reply@simfleet.local>",
        "a@example.com",
        "Receipt",
    )
    assert "pkg.1" in sent["Message-ID"] and sent.get_content() == "Amount: 1.00 RUB\n"
    assert (options["hostname"], options["port"], options["username"], options["timeout"]) == (
        "relay.test",
        2525,
        None,
        3.0,
    )


def test_only_a_5xx_is_final() -> None:
    assert is_permanent(aiosmtplib.SMTPResponseException(550, "no such mailbox"))
    assert not is_permanent(aiosmtplib.SMTPResponseException(451, "try later"))
    assert not is_permanent(OSError("unreachable"))
