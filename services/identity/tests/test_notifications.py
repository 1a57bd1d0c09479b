"""Messages to users: the Notifier queues them with the change that decided them; the Mailer hands emails on.

That a one-time code's message is sealed is test_otp.py's; here: what is queued, on which subject,
under which id and tenant, and what the SMTP relay's answers make of an email (sent, retried, dead-lettered).
"""

from __future__ import annotations

from typing import Any

import aiosmtplib
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from identity.models import BUS
from identity.notifications.mailer import Mailer
from identity.notifications.service import Notifier
from simfleet.events.v1 import identity_pb2 as ev
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime.bus import Event, PermanentError
from simfleet_runtime.testing import free_port

from .conftest import CUSTOMER, Harness

SMS = "simfleet.netsim.cmd.sms.submit"
EMAIL = "simfleet.identity.email.requested"


async def rows(h: Harness, subject: str) -> list[Any]:
    async with h.db.sessions() as session:
        found = await session.execute(sa.select(BUS.outbox).where(BUS.outbox.c.subject == subject))
        return list(found.mappings())


def notifier_of(h: Harness) -> Notifier:
    return Notifier(outbox=h.identity.runtime.outbox, clock=h.identity.runtime.clock, sms_sender="SIMfleet")


def emails(result: str) -> float:
    return REGISTRY.get_sample_value("simfleet_identity_emails_total", {"result": result}) or 0.0


async def test_an_sms_is_a_command_to_the_smsc_committed_with_the_change(harness: Harness) -> None:
    notifier = notifier_of(harness)
    async with harness.db.transaction() as session:
        message_id = await notifier.sms(session, to="+79990000301", text="Hello", tenant=CUSTOMER)
    (row,) = await rows(harness, SMS)
    assert (row["id"], row["tenant"]) == (message_id, CUSTOMER)
    assert not row["headers"].get("Simfleet-Sensitive")
    (command,) = [smsc_pb2.SubmitSmsCommand.FromString(p) for p in await harness.outbox(SMS)]
    assert (command.message_id, command.to_msisdn, command.text, command.sender) == (
        message_id,
        "+79990000301",
        "Hello",
        "SIMfleet",
    )
    assert command.submitted_at.ToDatetime().year >= 2026


async def test_a_message_of_a_change_rolled_back_is_never_sent(harness: Harness) -> None:
    notifier = notifier_of(harness)

    async def change_that_fails() -> None:
        async with harness.db.transaction() as session:
            await notifier.sms(session, to="+79990000302", text="never")
            await notifier.email(session, to="x@demo.example", subject="never", body="never")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert await rows(harness, SMS) == [] and await rows(harness, EMAIL) == []


async def test_an_email_is_identitys_own_work_item_sealed_on_the_bus_only_when_sensitive(harness: Harness) -> None:
    notifier = notifier_of(harness)
    async with harness.db.transaction() as session:
        plain = await notifier.email(session, to="a@demo.example", subject="Welcome", body="Hi", tenant=CUSTOMER)
        sealed = await notifier.email(
            session, to="b@demo.example", subject="Code", body="Your code: 654321", sensitive=True
        )
    by_id = {r["id"]: r for r in await rows(harness, EMAIL)}
    assert set(by_id) == {plain, sealed}
    assert by_id[plain]["tenant"] == CUSTOMER
    assert not by_id[plain]["headers"].get("Simfleet-Sealed") and not by_id[plain]["headers"].get("Simfleet-Sensitive")
    assert by_id[sealed]["headers"].get("Simfleet-Sealed") == "1" and b"654321" not in by_id[sealed]["payload"]
    requests = {r.message_id: r for r in (ev.EmailRequested.FromString(p) for p in await harness.outbox(EMAIL))}
    assert (requests[plain].to_address, requests[plain].subject, requests[plain].body) == (
        "a@demo.example",
        "Welcome",
        "Hi",
    )
    assert requests[sealed].body == "Your code: 654321"  # identity's own mailer opens it


def mailer(port: int = 2525) -> Mailer:
    return Mailer(host="127.0.0.1", port=port, sender="SIMfleet <no-reply@simfleet.local>", timeout=2.0)


def request(**changes: str) -> ev.EmailRequested:
    fields = {
        "message_id": "01JA0ZMAIL00000000000000001",
        "to_address": "it@northwind.example",
        "subject": "Hi",
        "body": "Body",
    }
    fields.update(changes)
    return ev.EmailRequested(**fields)


def event(message: ev.EmailRequested) -> Event:
    return Event(message.message_id, EMAIL, message.SerializeToString(), {}, "", 1)


def test_an_email_is_composed_from_the_request() -> None:
    composed = mailer().compose(request(subject="Your code", body="Your code: 123456"))
    assert composed["From"] == "SIMfleet <no-reply@simfleet.local>"
    assert composed["To"] == "it@northwind.example"
    assert composed["Subject"] == "Your code"
    assert "01JA0ZMAIL00000000000000001" in composed["Message-ID"] and composed["Message-ID"].endswith(
        "@simfleet.local>"
    )
    assert composed["Date"]
    assert composed.get_content().strip() == "Your code: 123456"


async def test_a_relay_that_takes_the_email_is_given_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[Any, dict[str, Any]]] = []

    async def send(message: Any, **kwargs: Any) -> None:
        sent.append((message, kwargs))

    monkeypatch.setattr(aiosmtplib, "send", send)
    before = emails("sent")
    await Mailer(
        host="relay.example", port=587, sender="s@simfleet.local", username="u", password="p", starttls=True
    ).handle(None, event(request()))  # type: ignore[arg-type]
    ((message, kwargs),) = sent
    assert message["To"] == "it@northwind.example"
    assert (kwargs["hostname"], kwargs["port"], kwargs["username"], kwargs["password"], kwargs["start_tls"]) == (
        "relay.example",
        587,
        "u",
        "p",
        True,
    )
    assert emails("sent") == before + 1


async def test_no_credentials_are_sent_when_none_are_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    async def send(_message: Any, **kwargs: Any) -> None:
        sent.append(kwargs)

    monkeypatch.setattr(aiosmtplib, "send", send)
    await mailer().handle(None, event(request()))  # type: ignore[arg-type]
    assert (sent[0]["username"], sent[0]["password"], sent[0]["start_tls"]) == (None, None, False)


async def test_a_permanent_rejection_is_dead_lettered_and_a_temporary_one_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [aiosmtplib.SMTPResponseException(550, "no such mailbox"), aiosmtplib.SMTPResponseException(451, "later")]

    async def send(_message: Any, **_kwargs: Any) -> None:
        raise answers.pop(0)

    monkeypatch.setattr(aiosmtplib, "send", send)
    rejected, deferred = emails("rejected"), emails("deferred")
    with pytest.raises(PermanentError, match="550"):
        await mailer().handle(None, event(request()))  # type: ignore[arg-type]
    with pytest.raises(aiosmtplib.SMTPResponseException) as later:
        await mailer().handle(None, event(request()))  # type: ignore[arg-type]
    assert later.value.code == 451
    assert (emails("rejected"), emails("deferred")) == (rejected + 1, deferred + 1)


async def test_an_unreachable_relay_makes_the_email_come_back_later() -> None:
    deferred = emails("deferred")
    with pytest.raises((aiosmtplib.SMTPException, OSError)) as err:
        await mailer(free_port()).handle(None, event(request()))  # type: ignore[arg-type]
    assert not isinstance(err.value, PermanentError)
    assert emails("deferred") == deferred + 1
