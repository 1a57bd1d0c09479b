"""The SMSC: commands from the NETSIM_CMD work queue to handset inboxes and delivery receipts."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import REGISTRY

from netsim.models import BUS
from netsim.smsc.consumer import CONSUMER_NAME
from simfleet.events.v1 import netsim_pb2 as events_pb2
from simfleet_runtime.bus import headers as h
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import eventually
from simfleet_subjects import NetsimSubjects

from .conftest import RunningNetsim, sms_command  # type: ignore[import-not-found]

TENANT = "01M80FS1VH2MZKYX1PNS53P8M2"


def delivered_total() -> float:
    return REGISTRY.get_sample_value("simfleet_netsim_sms_delivered_total") or 0.0


async def receipts_in_stream(netsim: RunningNetsim) -> list[events_pb2.SmsDelivered]:
    """Every SmsDelivered the NETSIM stream holds, in order."""
    info = await netsim.js.stream_info(NetsimSubjects.EVENT_STREAM)
    receipts = []
    if info.state.messages:
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await netsim.js.get_msg(NetsimSubjects.EVENT_STREAM, seq)
            assert msg.subject == NetsimSubjects.SMS_DELIVERED
            receipts.append(events_pb2.SmsDelivered.FromString(msg.data or b""))
    return receipts


async def test_a_submitted_sms_reaches_the_inbox_and_its_receipt_is_published(netsim: RunningNetsim) -> None:
    subscription = await netsim.nc.subscribe(NetsimSubjects.SMS_DELIVERED)
    await netsim.nc.flush()
    before = delivered_total()
    message_id = new_id()
    started = datetime.now(UTC)

    await netsim.submit(
        sms_command("+7 (999) 000-00-02", "Your SIMfleet code: 482913", message_id=message_id), tenant=TENANT
    )

    received = await subscription.next_msg(timeout=10)
    receipt = events_pb2.SmsDelivered.FromString(received.data)
    assert receipt.message_id == message_id
    assert receipt.to_msisdn == "+79990000002"
    assert started <= receipt.delivered_at.ToDatetime(tzinfo=UTC) <= datetime.now(UTC)
    headers = received.headers or {}
    assert headers.get(h.TENANT) == TENANT
    assert headers.get(h.EVENT_TYPE) == "simfleet.events.v1.SmsDelivered"
    assert headers.get(h.MSG_ID), "the receipt carries its event id for JetStream de-duplication"

    sms = await netsim.wait_for_sms("+79990000002", "Your SIMfleet code: 482913")
    assert sms["sender"] == "SIMfleet"
    assert sms["to"] == "+79990000002"
    assert datetime.fromisoformat(sms["time"]) == receipt.delivered_at.ToDatetime(tzinfo=UTC)
    assert delivered_total() == before + 1
    await subscription.unsubscribe()


async def test_the_same_nats_msg_id_twice_lands_in_the_inbox_once(netsim: RunningNetsim) -> None:
    msisdn = "+79990000003"
    payload = sms_command(msisdn, "once by Nats-Msg-Id")
    first = await netsim.submit(payload, msg_id="cmd-dup-1")
    second = await netsim.submit(payload, msg_id="cmd-dup-1")
    assert not first.duplicate
    assert second.duplicate, "JetStream drops the repeat within its duplicate window"

    # The work queue is consumed in order: once a later command is in, the earlier ones were handled.
    await netsim.submit(sms_command(msisdn, "sentinel"))
    await netsim.wait_for_sms(msisdn, "sentinel")
    texts = [m["text"] for m in await netsim.inbox(msisdn)]
    assert texts.count("once by Nats-Msg-Id") == 1


async def test_the_same_message_id_under_two_nats_msg_ids_is_delivered_and_receipted_once(
    netsim: RunningNetsim,
) -> None:
    msisdn = "+79990000004"
    message_id = new_id()
    payload = sms_command(msisdn, "once by message_id", message_id=message_id)
    await netsim.submit(payload, msg_id="attempt-1")
    await netsim.submit(payload, msg_id="attempt-2")
    await netsim.submit(sms_command(msisdn, "sentinel"))
    await netsim.wait_for_sms(msisdn, "sentinel")

    texts = [m["text"] for m in await netsim.inbox(msisdn)]
    assert texts.count("once by message_id") == 1

    async def both_applied() -> bool:
        async with netsim.app.runtime.db.sessions() as session:
            ids = set(
                await session.scalars(
                    sa.select(BUS.processed_events.c.event_id).where(BUS.processed_events.c.consumer == CONSUMER_NAME)
                )
            )
        return {"attempt-1", "attempt-2"} <= ids

    await eventually(both_applied, what="both commands recorded as processed")

    async def receipts_for_message() -> list[events_pb2.SmsDelivered]:
        return [r for r in await receipts_in_stream(netsim) if r.message_id == message_id]

    await eventually(receipts_for_message, what="the receipt in the NETSIM stream")
    await eventually(
        lambda: _count_published(netsim), what="every outbox row published"
    )  # nothing left to publish later
    assert len(await receipts_for_message()) == 1
    assert await netsim.dead_letters() == [], "the repeat is recognised, not refused"


async def _count_published(netsim: RunningNetsim) -> bool:
    async with netsim.app.runtime.db.sessions() as session:
        pending = await session.scalar(
            sa.select(sa.func.count()).select_from(BUS.outbox).where(BUS.outbox.c.published_at.is_(None))
        )
    return pending == 0


async def test_a_receipt_goes_to_the_subject_of_the_sms_origin_only(netsim: RunningNetsim) -> None:
    own = await netsim.nc.subscribe(f"{NetsimSubjects.SMS_DELIVERED}.inventory")
    bare = await netsim.nc.subscribe(NetsimSubjects.SMS_DELIVERED)
    await netsim.nc.flush()
    message_id = new_id()
    await netsim.submit(sms_command("+79990000007", "Fleet notice", message_id=message_id, origin="inventory"))
    receipt = events_pb2.SmsDelivered.FromString((await own.next_msg(timeout=10)).data)
    assert receipt.message_id == message_id
    await netsim.submit(sms_command("+79990000007", "Your SIMfleet code: 123456"))
    code_receipt = events_pb2.SmsDelivered.FromString((await bare.next_msg(timeout=10)).data)
    assert code_receipt.message_id != message_id, "the bare subject never carried the inventory SMS's receipt"
    assert own.pending_msgs == 0
    await own.unsubscribe()
    await bare.unsubscribe()


async def test_invalid_commands_are_dead_lettered_and_do_not_block_the_next(netsim: RunningNetsim) -> None:
    bad = {
        "bad-number": sms_command("12345", "to nowhere"),
        "not-protobuf": b"\xff\xff\xff not a protobuf message",
        "no-message-id": sms_command("+79990000005", "no id", message_id=" "),
        "no-sender": sms_command("+79990000005", "no sender", sender=""),
        "bad-origin": sms_command("+79990000005", "bad origin", origin="Inventory.>"),
    }
    for msg_id, payload in bad.items():
        await netsim.submit(payload, msg_id=msg_id)
    await netsim.submit(sms_command("+79990000005", "after the bad ones"))

    await netsim.wait_for_sms("+79990000005", "after the bad ones")
    letters = await eventually(
        lambda: _dead_letters_when(netsim, len(bad)), what=f"{len(bad)} dead letters", timeout=10
    )
    by_id = {row["event_id"]: row for row in letters}
    assert set(by_id) == set(bad)
    for msg_id, payload in bad.items():
        row = by_id[msg_id]
        assert row["consumer"] == CONSUMER_NAME
        assert row["payload"] == payload
        assert row["deliveries"] == 1, "a permanent error is not retried"
    assert "INVALID_PHONE" in by_id["bad-number"]["error"]
    assert "INVALID_MESSAGE_ID" in by_id["no-message-id"]["error"]
    assert "INVALID_SENDER" in by_id["no-sender"]["error"]
    assert "INVALID_ORIGIN" in by_id["bad-origin"]["error"]
    assert "not a SubmitSmsCommand" in by_id["not-protobuf"]["error"]
    texts = [m["text"] for m in await netsim.inbox("+79990000005")]
    assert texts == ["after the bad ones"]


async def _dead_letters_when(netsim: RunningNetsim, count: int) -> list[object] | None:
    rows = await netsim.dead_letters()
    return rows if len(rows) >= count else None


async def test_a_burst_is_delivered_in_groups_each_sms_once(netsim: RunningNetsim) -> None:
    texts = [f"code {i:02d}" for i in range(20)]
    for text in texts:
        await netsim.submit(sms_command("+79990000006", text))
    await netsim.submit(sms_command("+79990000006", texts[3], message_id="again"))  # a new message, same text
    await netsim.wait_for_sms("+79990000006", "code 19")
    inbox = await eventually(
        lambda: _inbox_when(netsim, "+79990000006", len(texts) + 1), what="the whole burst", timeout=10
    )
    assert sorted(m["text"] for m in inbox) == sorted([*texts, texts[3]])
    assert await netsim.dead_letters() == []


async def _inbox_when(netsim: RunningNetsim, msisdn: str, count: int) -> list[dict[str, object]] | None:
    found = await netsim.inbox(msisdn)
    return found if len(found) >= count else None
