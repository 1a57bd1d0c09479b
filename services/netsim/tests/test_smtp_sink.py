"""The SMTP sink: real mail over SMTP (aiosmtplib) into mailboxes, read back through the console."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import aiosmtplib
import pytest
from prometheus_client import REGISTRY

from simfleet_runtime.testing import eventually

from .conftest import RunningNetsim  # type: ignore[import-not-found]


def received_total() -> float:
    return REGISTRY.get_sample_value("simfleet_netsim_mail_received_total") or 0.0


async def send(netsim: RunningNetsim, message: EmailMessage, **kwargs: object) -> None:
    await aiosmtplib.send(message, hostname="127.0.0.1", port=netsim.smtp_port, timeout=10, **kwargs)


def otp_mail(to: str, code: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "SIMfleet <no-reply@simfleet.example>"
    message["To"] = to
    message["Subject"] = f"Код входа в SIMfleet — {code}"
    message.set_content(f"Ваш код: {code}\nGültig 5 Minuten ✓\n", charset="utf-8", cte="quoted-printable")
    message.add_alternative(f"<p>Ваш код: <b>{code}</b></p>", subtype="html")
    return message


async def test_mail_sent_over_smtp_is_in_the_mailbox_newest_first(netsim: RunningNetsim) -> None:
    before = received_total()
    started = datetime.now(UTC)
    await send(netsim, otp_mail("Manager@Demo.Example", "111111"))
    await send(netsim, otp_mail("manager@demo.example", "222222"))

    response = await netsim.http.get("/mailboxes/MANAGER@demo.example")
    assert response.status_code == 200
    body = response.json()
    assert body["address"] == "manager@demo.example"
    first, second = body["messages"]
    assert first["subject"] == "Код входа в SIMfleet — 222222", "newest first, encoded-word subject decoded"
    assert second["subject"] == "Код входа в SIMfleet — 111111"
    assert first["body"] == "Ваш код: 222222\nGültig 5 Minuten ✓\n", "the text/plain part, quoted-printable decoded"
    assert first["from"] == "no-reply@simfleet.example"
    assert first["to"] == "manager@demo.example"
    assert started <= datetime.fromisoformat(second["time"]) <= datetime.fromisoformat(first["time"])
    assert first["time"].endswith("Z")
    assert received_total() == before + 2

    limited = (await netsim.http.get("/mailboxes/manager@demo.example", params={"limit": 1})).json()
    assert [m["id"] for m in limited["messages"]] == [first["id"]]


async def test_each_recipient_gets_its_own_copy(netsim: RunningNetsim) -> None:
    message = EmailMessage()
    message["From"] = "ops@simfleet.example"
    message["To"] = "a@corp.example, b@corp.example"
    message["Subject"] = "Weekly report"
    message.set_content("HTML only", subtype="html")
    await send(netsim, message, recipients=["a@corp.example", "b@corp.example", "<A@corp.example>"])

    for address in ("a@corp.example", "b@corp.example"):
        messages = (await netsim.http.get(f"/mailboxes/{address}")).json()["messages"]
        assert len(messages) == 1, "a repeated recipient is one mailbox"
        assert messages[0]["subject"] == "Weekly report"
        assert messages[0]["body"] == "HTML only\n", "an HTML-only message keeps its HTML part as the body"

    listing = (await netsim.http.get("/mailboxes")).json()["mailboxes"]
    assert {"a@corp.example", "b@corp.example"} <= {m["address"] for m in listing}


async def test_the_sender_envelope_is_used_when_the_from_header_is_missing(netsim: RunningNetsim) -> None:
    raw = b"To: c@corp.example\r\nSubject: no from\r\n\r\nplain body\r\n"
    await aiosmtplib.send(
        raw,
        sender="bounce@simfleet.example",
        recipients=["c@corp.example"],
        hostname="127.0.0.1",
        port=netsim.smtp_port,
    )
    (message,) = (await netsim.http.get("/mailboxes/c@corp.example")).json()["messages"]
    assert message["from"] == "bounce@simfleet.example"
    assert message["body"] == "plain body\n"


async def test_a_recipient_that_is_not_an_address_is_refused(netsim: RunningNetsim) -> None:
    message = EmailMessage()
    message["From"] = "ops@simfleet.example"
    message["Subject"] = "x"
    message.set_content("x")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await send(netsim, message, recipients=["not-an-address"])
    assert refused.value.recipients[0].code == 553

    # A message to one bad and one good recipient reaches the good one.
    await send(netsim, message, recipients=["not an address", "d@corp.example"])
    messages = await eventually(lambda: _mailbox(netsim, "d@corp.example"), what="the good recipient's copy", timeout=5)
    assert len(messages) == 1


async def _mailbox(netsim: RunningNetsim, address: str) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = (await netsim.http.get(f"/mailboxes/{address}")).json()["messages"]
    return messages
