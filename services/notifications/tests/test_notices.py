"""Notices end to end inside the service: events in, preferences and scope applied, SMS and email out, once."""

from __future__ import annotations

import re
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifications.notices.models import SENT, NoticeEvent
from simfleet.events.v1 import billing_pb2, identity_pb2, inventory_pb2, ticketing_pb2
from simfleet.notifications.v1 import notices_pb2 as pb
from simfleet_runtime.authz import Grant
from simfleet_runtime.bus import Event
from simfleet_runtime.errors import read_error
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import eventually, free_port
from simfleet_subjects import BillingSubjects, IdentitySubjects, InventorySubjects, TicketingSubjects

from .conftest import Running

TICKETS = frozenset({"tickets:read"})
LINES = frozenset({"lines:read"})
BILLING = frozenset({"billing:read"})


def note(running: Running, node_id: str, *, number: str = "T-2026-000001", author: str = "support") -> Any:
    return ticketing_pb2.TicketNoteAdded(
        ticket_id=new_id(),
        number=number,
        customer_id=running.customer_id,
        node_id=node_id,
        note_id=new_id(),
        author_id="agent-1",
        author_kind=author,
    )


def moved(running: Running, node_id: str, to_state: str = "resolved") -> Any:
    return ticketing_pb2.TicketStateChanged(
        ticket_id=new_id(),
        number="T-2026-000002",
        customer_id=running.customer_id,
        node_id=node_id,
        from_state="inProgress",
        to_state=to_state,
        actor_id="agent-1",
        actor_kind="support",
    )


def finished(running: Running, *, failed: int = 0, type: str = "block") -> Any:
    return inventory_pb2.OperationChanged(
        operation_id=new_id(),
        customer_id=running.customer_id,
        type=type,
        state="completed_with_errors" if failed else "completed",
        node_id=running.branch,
        total=10,
        succeeded=10 - failed,
        failed=failed,
    )


async def choose(running: Running, user: str, *choices: tuple[str, list[str]], language: str = "") -> pb.Preferences:
    answer = await running.api.UpdatePreferences(
        pb.UpdatePreferencesRequest(choices=[pb.KindChoice(kind=k, channels=c) for k, c in choices], language=language),
        metadata=running.bearer(user),
    )
    return answer.preferences


async def test_preferences_start_at_the_defaults_and_change_only_what_is_named(running: Running) -> None:
    first = (await running.api.GetPreferences(pb.GetPreferencesRequest(), metadata=running.bearer("u-1"))).preferences
    as_dict = {c.kind: list(c.channels) for c in first.choices}
    # Nothing until chosen but ID-7's sign-in SMS.
    assert as_dict.pop("sign_in") == ["sms"] and not first.saved
    assert set(map(tuple, as_dict.values())) == {()}
    assert first.language == "en" and len(as_dict) == 8

    saved = await choose(running, "u-1", ("ticket_reply", ["sms", "email"]), ("sign_in", ["email"]), language="fa")
    as_dict = {c.kind: list(c.channels) for c in saved.choices}
    assert as_dict["ticket_reply"] == ["sms", "email"] and as_dict["sign_in"] == ["email"]
    assert saved.language == "fa" and saved.saved

    again = await choose(running, "u-1", ("sign_in", []))
    as_dict = {c.kind: list(c.channels) for c in again.choices}
    assert as_dict["sign_in"] == [] and as_dict["ticket_reply"] == ["sms", "email"] and again.language == "fa"


@pytest.mark.parametrize(
    ("choices", "language", "field"),
    [
        ([("lottery", ["sms"])], "", "choices[0].kind"),
        ([("ticket_reply", ["pigeon"])], "", "choices[0].channels[0]"),
        ([("ticket_reply", ["sms"]), ("ticket_reply", [])], "", "choices[1].kind"),
        ([("ticket_reply", ["sms", "sms"])], "", "choices[0].channels"),
        ([], "de", "language"),
        ([("sign_in", ["sms", "fax"])], "", "choices[0].channels[1]"),
    ],
)
async def test_bad_preferences_are_refused_and_change_nothing(
    running: Running, choices: list[tuple[str, list[str]]], language: str, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await choose(running, "u-2", *choices, language=language)
    details = read_error(refused.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT and details.reason == "INVALID_PREFERENCES"
    assert field in details.field_violations
    after = (await running.api.GetPreferences(pb.GetPreferencesRequest(), metadata=running.bearer("u-2"))).preferences
    assert not after.saved


async def test_a_reply_reaches_only_the_users_who_chose_it_and_whose_scope_covers_the_ticket(running: Running) -> None:
    manager = await running.user("manager", Grant(running.company, TICKETS))
    elsewhere = await running.user("elsewhere", Grant(running.other_branch, TICKETS))
    no_tickets = await running.user("lines-only", Grant(running.company, LINES))
    silent = await running.user("silent", Grant(running.company, TICKETS))
    for user in ("manager", "elsewhere", "lines-only"):
        await choose(running, user, ("ticket_reply", ["sms"]), ("ticket_state_changed", ["sms"]))
    await choose(running, "manager", language="ru")

    await running.publish(TicketingSubjects.TICKET_NOTE_ADDED, note(running, running.branch, number="T-2026-000077"))
    # The marker: an event the user elsewhere does see, published after.
    await running.publish(TicketingSubjects.TICKET_STATE_CHANGED, moved(running, running.other_branch))

    [reply, _change] = await running.sms_to(manager, 2)
    assert "T-2026-000077" in reply.text and "поддержка" in reply.text.lower()
    [only] = await running.sms_to(elsewhere, 1)
    assert "T-2026-000002" in only.text
    everyone = [m.to_msisdn for m in await running.sms()]
    assert everyone.count(elsewhere) == 1 and no_tickets not in everyone and silent not in everyone
    notices = await running.notices("manager")
    assert [n.kind for n in notices] == ["ticket_reply", "ticket_state_changed"]
    assert all(n.state == SENT and n.language == "ru" for n in notices)


def paid(running: Running, node_id: str, amount: int, balance: int) -> Any:
    return billing_pb2.PaymentReceived(
        customer_id=running.customer_id,
        payment_id=f"pay:{new_id()}",
        personal_account_id=node_id,
        amount=amount,
        currency="RUB",
        kind="card",
        balance=balance,
    )


async def test_a_payment_received_reaches_the_users_who_chose_it_and_not_the_others(running: Running) -> None:
    chose = await running.user("accountant", Grant(running.branch, BILLING))
    elsewhere = await running.user("elsewhere", Grant(running.other_branch, BILLING))
    did_not = await running.user("did-not", Grant(running.company, BILLING))
    lines_only = await running.user("lines-only", Grant(running.company, LINES))
    await choose(running, "did-not", ("ticket_reply", ["sms"]))
    for user in ("accountant", "elsewhere", "lines-only"):
        await choose(running, user, ("payment_received", ["sms"]))

    await running.publish(BillingSubjects.PAYMENT_RECEIVED, paid(running, running.branch, 150_000, 162_550))
    # The marker: a payment the user elsewhere hears of, published after on the same consumer's subject.
    await running.publish(BillingSubjects.PAYMENT_RECEIVED, paid(running, running.other_branch, 500, 500))

    [marker] = await running.sms_to(elsewhere, 1)  # the branch's payment is not under the other branch
    assert "5.00 RUB" in marker.text
    [told] = await running.sms_to(chose, 1)
    assert told.text == (
        "SIMfleet: a payment of 1500.00 RUB was credited to a personal account; its balance is 1625.50 RUB."
    )
    everyone = [m.to_msisdn for m in await running.sms()]
    assert everyone.count(chose) == 1 and everyone.count(elsewhere) == 1
    assert did_not not in everyone and lines_only not in everyone
    assert [n.kind for n in await running.notices("accountant")] == ["payment_received"]


async def test_unchoosing_a_kind_stops_it(running: Running) -> None:
    phone = await running.user("manager", Grant(running.company, TICKETS | LINES))
    await choose(running, "manager", ("ticket_reply", ["sms"]))
    await running.publish(TicketingSubjects.TICKET_NOTE_ADDED, note(running, running.branch, number="T-2026-000010"))
    await running.sms_to(phone, 1)

    await choose(running, "manager", ("ticket_reply", []), ("operation_failed", ["sms"]))
    await running.publish(TicketingSubjects.TICKET_NOTE_ADDED, note(running, running.branch, number="T-2026-000011"))
    await running.publish(InventorySubjects.OPERATION_FINISHED, finished(running, failed=3))

    [first, second] = await running.sms_to(phone, 2)
    assert "T-2026-000010" in first.text and "block" in second.text and "3" in second.text
    assert not any("T-2026-000011" in m.text for m in await running.sms())


async def test_a_sign_in_is_told_to_who_signed_in_only_and_only_a_successful_one(
    running: Running, smtp_port: int
) -> None:
    sink = Sink()
    relay = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    relay.start()
    try:
        for user in ("manager", "other"):
            await running.user(user, Grant(running.company, TICKETS), email=f"{user}@example.com")
            await choose(running, user, ("sign_in", ["email"]))
        for user, result in (("manager", "bad_credentials"), ("manager", "succeeded"), ("other", "succeeded")):
            await running.publish(
                IdentitySubjects.SIGN_IN_RECORDED,
                identity_pb2.SignInRecorded(
                    attempt_id=new_id(),
                    user_id=user,
                    customer_id=running.customer_id,
                    method="otp_sms",
                    result=result,
                    client_address="198.51.100.7",
                ),
            )

        async def both() -> list[tuple[list[str], str]] | None:
            return sink.taken if len(sink.taken) >= 2 else None

        taken = await eventually(both, what="two sign-in emails")
        assert sorted(to for to, _ in taken) == [["manager@example.com"], ["other@example.com"]]
        assert all("198.51.100.7" in content for _, content in taken)
        assert [n.kind for n in await running.notices("manager")] == ["sign_in"]
    finally:
        relay.stop()


def signed_in(running: Running, user: str, phone: str, *, customer_id: str | None = None) -> Any:
    return identity_pb2.SignInRecorded(
        attempt_id=new_id(),
        user_id=user,
        customer_id=running.customer_id if customer_id is None else customer_id,
        method="password",
        result="succeeded",
        client_address="198.51.100.7",
        phone=phone,
    )


SIGN_IN_SMS = (
    r"SIMfleet: you signed in on \d{4}-\d\d-\d\d \d\d:\d\d UTC from 198\.51\.100\.7\. "
    r"Not you\? Change your password now\."
)


async def test_a_sign_in_is_told_by_sms_unless_the_user_turned_it_off(running: Running) -> None:
    manager = await running.user("manager", Grant(running.company, TICKETS))
    other = await running.user("other", Grant(running.company, TICKETS))
    await running.publish(IdentitySubjects.SIGN_IN_RECORDED, signed_in(running, "manager", manager))
    [told] = await running.sms_to(manager, 1)  # the default: ID-7's SMS, now notifications'
    assert re.fullmatch(SIGN_IN_SMS, told.text), told.text

    turned_off = await choose(running, "manager", ("sign_in", []))
    assert {c.kind: list(c.channels) for c in turned_off.choices}["sign_in"] == []
    await running.publish(IdentitySubjects.SIGN_IN_RECORDED, signed_in(running, "manager", manager))
    # The marker: a sign-in after it on the same consumer, told by default.
    await running.publish(IdentitySubjects.SIGN_IN_RECORDED, signed_in(running, "other", other))
    await running.sms_to(other, 1)
    assert [m.to_msisdn for m in await running.sms()].count(manager) == 1
    assert len(await running.notices("manager")) == 1 and await running.accepted("manager") == 1

    await choose(running, "manager", ("sign_in", ["sms"]), language="fa")  # back on, in Persian
    await running.publish(IdentitySubjects.SIGN_IN_RECORDED, signed_in(running, "manager", manager))
    [_, again] = await running.sms_to(manager, 2)
    assert "ورود به حساب شما" in again.text and "198.51.100.7" in again.text


async def test_operator_staff_are_not_told_and_a_user_not_yet_known_is_told_at_the_number_that_signed_in(
    running: Running,
) -> None:
    staff_phone = "+79160000901"
    # identity announces operator staff too (no customer); their sign-in SMS is identity's.
    await running.publish(
        IdentitySubjects.USER_CREATED,
        identity_pb2.UserCreated(user_id="desk", customer_id="", phone=staff_phone, email="desk@example.com"),
    )
    await running.publish(IdentitySubjects.SIGN_IN_RECORDED, signed_in(running, "desk", staff_phone, customer_id=""))
    # A user whose user.created notifications has not consumed: told at the event's number all the same.
    newcomer = "+79160000902"
    await running.publish(IdentitySubjects.SIGN_IN_RECORDED, signed_in(running, "newcomer", newcomer))
    [told] = await running.sms_to(newcomer, 1)
    assert re.fullmatch(SIGN_IN_SMS, told.text), told.text
    assert staff_phone not in [m.to_msisdn for m in await running.sms()]
    assert await running.notices("desk") == [] and await running.accepted("desk") == 0

    # identity's user.created, when it comes, tells the rest (the email a sign-in email goes to).
    await running.user("newcomer", phone=newcomer, email="newcomer@example.com")

    async def emailed() -> bool:
        async with running.db.sessions() as session:
            email = await session.scalar(sa.text("SELECT email FROM users WHERE user_id = 'newcomer'"))
        return bool(email == "newcomer@example.com")

    await eventually(emailed, what="the newcomer's email learned from user.created")


async def test_one_event_makes_one_notice_per_user_and_channel_even_after_a_restart(running: Running) -> None:
    phone = await running.user("manager", Grant(running.company, TICKETS))
    await choose(running, "manager", ("ticket_reply", ["sms"]))
    event = note(running, running.branch, number="T-2026-000050")
    event_id = await running.publish(TicketingSubjects.TICKET_NOTE_ADDED, event)
    await running.sms_to(phone, 1)

    await running.restart()
    # The same event again, as a consumer that lost its place would see it: accepted once already.
    again = Event(
        id=event_id,
        subject=TicketingSubjects.TICKET_NOTE_ADDED,
        data=event.SerializeToString(),
        headers={},
        tenant=running.customer_id,
        deliveries=1,
    )
    async with running.db.transaction() as session:
        await running.notifications.intake.handle(session, again)
    # And a new one after it, the marker that the sender ran since.
    await running.publish(TicketingSubjects.TICKET_NOTE_ADDED, note(running, running.branch, number="T-2026-000051"))
    sent = await running.sms_to(phone, 2)
    assert ["T-2026-000050" in m.text for m in sent] == [True, False]
    assert len(await running.notices("manager")) == 2 and await running.accepted("manager") == 2
    ids = [m.message_id for m in await running.sms()]
    assert len(ids) == len(set(ids)) == 2


async def test_notices_list_newest_first_in_pages(running: Running) -> None:
    phone = await running.user("manager", Grant(running.company, TICKETS))
    await choose(running, "manager", ("ticket_reply", ["sms"]))
    for n in range(3):
        ticket = note(running, running.branch, number=f"T-2026-00010{n}")
        await running.publish(TicketingSubjects.TICKET_NOTE_ADDED, ticket)
        await running.sms_to(phone, n + 1)  # one at a time: three notices, not a summary
    first = await running.api.ListNotices(pb.ListNoticesRequest(page_size=2), metadata=running.bearer("manager"))
    assert ["T-2026-000102" in first.notices[0].text, len(first.notices)] == [True, 2]
    assert first.notices[0].recipient == phone and first.notices[0].state == "sent"
    rest = await running.api.ListNotices(
        pb.ListNoticesRequest(page_size=2, page_token=first.next_page_token), metadata=running.bearer("manager")
    )
    assert len(rest.notices) == 1 and "T-2026-000100" in rest.notices[0].text and not rest.next_page_token
    other = await running.api.ListNotices(pb.ListNoticesRequest(), metadata=running.bearer("someone-else"))
    assert list(other.notices) == []
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await running.api.ListNotices(pb.ListNoticesRequest(page_token="forged"), metadata=running.bearer("manager"))
    assert read_error(refused.value).reason == "INVALID_PAGE_TOKEN"


class Sink:
    def __init__(self) -> None:
        self.taken: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.taken.append((list(envelope.rcpt_tos), content.decode()))
        return "250 OK"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def overrides(smtp_port: int) -> dict[str, Any]:
    return {"smtp_port": smtp_port}


async def test_an_email_notice_reaches_the_relay_once(running: Running, smtp_port: int) -> None:
    sink = Sink()
    relay = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    relay.start()
    try:
        await running.user("manager", Grant(running.company, LINES), email="manager@example.com")
        await choose(running, "manager", ("operation_failed", ["email"]))
        await running.publish(InventorySubjects.OPERATION_FINISHED, finished(running, failed=4))

        async def delivered() -> list[tuple[list[str], str]] | None:
            return sink.taken or None

        [(to, content)] = await eventually(delivered, what="the email")
        assert to == ["manager@example.com"] and "Subject: SIMfleet: operation block failed" in content

        async def marked() -> bool:
            return [n.state for n in await running.notices("manager")] == [SENT]

        await eventually(marked, what="the notice marked sent")
        assert len(sink.taken) == 1
    finally:
        relay.stop()


async def test_events_waiting_when_the_service_stops_are_sent_after_it_starts(running: Running) -> None:
    phone = await running.user("manager", Grant(running.company, TICKETS))
    await choose(running, "manager", ("ticket_reply", ["sms"]))
    async with running.db.transaction() as session:
        await session.execute(sa.delete(NoticeEvent))
    await running.publish(TicketingSubjects.TICKET_NOTE_ADDED, note(running, running.branch, number="T-2026-000300"))
    await running.sms_to(phone, 1)
    await running.restart()
    [only] = await running.sms_to(phone, 1)
    assert "T-2026-000300" in only.text
