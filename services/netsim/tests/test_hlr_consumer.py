"""The HLR's consumer on a real NATS: commands in, one result event each, faults, outage, latency."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from nats.js.api import StreamConfig
from prometheus_client import REGISTRY

from netsim.hlr.consumer import CONSUMER_NAME, ProvisionConsumer
from netsim.hlr.models import Subscriber
from netsim.main import build
from netsim.models import BUS
from simfleet.events.v1 import netsim_pb2 as events_pb2
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_runtime.bus import DurableConsumer
from simfleet_runtime.bus import headers as h
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import NatsServer, eventually
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import NetsimSubjects

from .conftest import RunningNetsim, make_settings, sms_command  # type: ignore[import-not-found]
from .test_hlr_provisioning import MSISDN, OTHER_IMSI, OTHER_MSISDN, A, F, item, register  # type: ignore[import-not-found]

TENANT = "01M80FS1VH2MZKYX1PNS53P8M2"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def items_total(action: str, result: str) -> float:
    return sample("simfleet_netsim_hlr_items_total", action=action, result=result)


def command(*items: hlr_pb2.ProvisioningItem, correlation_id: str = "operation-1") -> hlr_pb2.ProvisionCommand:
    return hlr_pb2.ProvisionCommand(
        command_id=new_id(),
        correlation_id=correlation_id,
        items=items,
        submitted_at=timestamp(datetime.now(UTC)),
    )


async def send(netsim: RunningNetsim, payload: hlr_pb2.ProvisionCommand | bytes, *, msg_id: str = "") -> None:
    data = payload if isinstance(payload, bytes) else payload.SerializeToString()
    headers = {h.MSG_ID: msg_id or new_id(), h.TENANT: TENANT}
    await netsim.js.publish(NetsimSubjects.PROVISION, data, headers=headers, timeout=5)


async def results(netsim: RunningNetsim) -> list[tuple[events_pb2.ProvisioningResult, dict[str, str]]]:
    """Every ProvisioningResult the NETSIM stream holds, in order, with its headers."""
    info = await netsim.js.stream_info(NetsimSubjects.EVENT_STREAM)
    found = []
    if info.state.messages:
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await netsim.js.get_msg(NetsimSubjects.EVENT_STREAM, seq)
            if msg.subject == NetsimSubjects.PROVISIONING_RESULT:
                found.append((events_pb2.ProvisioningResult.FromString(msg.data or b""), dict(msg.headers or {})))
    return found


async def result_of(netsim: RunningNetsim, command_id: str, *, timeout: float = 10.0) -> events_pb2.ProvisioningResult:
    async def find() -> events_pb2.ProvisioningResult | None:
        return next((r for r, _ in await results(netsim) if r.command_id == command_id), None)

    found: events_pb2.ProvisioningResult = await eventually(find, timeout=timeout, what=f"the result of {command_id}")
    return found


async def version_of(netsim: RunningNetsim, imsi: str) -> int | None:
    async with netsim.app.runtime.db.sessions() as session:
        subscriber = await session.get(Subscriber, imsi)
        return None if subscriber is None else subscriber.version


async def set_faults(netsim: RunningNetsim, **faults: Any) -> None:
    async with make_channel(netsim.grpc_target) as channel:
        await hlr_pb2_grpc.HlrServiceStub(channel).SetFaults(hlr_pb2.SetFaultsRequest(faults=hlr_pb2.Faults(**faults)))


async def test_a_command_is_applied_in_order_and_answered_by_one_result_event(netsim: RunningNetsim) -> None:
    subscription = await netsim.nc.subscribe(NetsimSubjects.PROVISIONING_RESULT)
    await netsim.nc.flush()
    before = {
        "register": items_total("register", "applied"),
        "bar": items_total("bar", "applied"),
        "failed": items_total("register", "failed"),
        "in_use": sample("simfleet_netsim_hlr_failures_total", failure="number_in_use"),
        "latency": sample("simfleet_netsim_hlr_latency_seconds_count"),
    }
    sent = command(
        register(state="ready"),
        item(A.PROVISIONING_ACTION_ACTIVATE),
        item(A.PROVISIONING_ACTION_BAR, block_type="voluntary"),
        register(OTHER_IMSI, MSISDN, 2),
        correlation_id="operation-42",
    )
    await send(netsim, sent)

    received = await subscription.next_msg(timeout=10)
    result = events_pb2.ProvisioningResult.FromString(received.data)
    assert (result.command_id, result.correlation_id) == (sent.command_id, "operation-42")
    assert [r.item_id for r in result.results] == [i.item_id for i in sent.items]
    assert [r.ok for r in result.results] == [True, True, True, False]
    assert result.results[3].failure == F.PROVISIONING_FAILURE_NUMBER_IN_USE
    assert result.results[3].reason == f"the number {MSISDN} is in use"
    assert result.completed_at.ToDatetime(tzinfo=UTC) >= sent.submitted_at.ToDatetime(tzinfo=UTC)
    headers = received.headers or {}
    assert headers.get(h.TENANT) == TENANT
    assert headers.get(h.EVENT_TYPE) == "simfleet.events.v1.ProvisioningResult"
    assert headers.get(h.MSG_ID)
    assert await version_of(netsim, "250010000000001") == 2
    assert await version_of(netsim, OTHER_IMSI) is None
    assert items_total("register", "applied") == before["register"] + 1
    assert items_total("bar", "applied") == before["bar"] + 1
    assert items_total("register", "failed") == before["failed"] + 1
    assert sample("simfleet_netsim_hlr_failures_total", failure="number_in_use") == before["in_use"] + 1
    assert sample("simfleet_netsim_hlr_latency_seconds_count") == before["latency"] + 1
    assert [r.command_id for r, _ in await results(netsim)] == [sent.command_id]
    await subscription.unsubscribe()


async def test_a_command_sent_again_is_answered_the_same_and_changes_nothing(netsim: RunningNetsim) -> None:
    sent = command(register(), item(A.PROVISIONING_ACTION_BAR, block_type="financial"))
    await send(netsim, sent, msg_id="first-send")
    first = await result_of(netsim, sent.command_id)
    version = await version_of(netsim, "250010000000001")
    duplicates = items_total("bar", "duplicate")

    # The producer sends it again (a new Nats-Msg-Id: the stream cannot tell); the item ids can.
    await send(netsim, sent, msg_id="second-send")

    async def two() -> list[Any] | None:
        found = [r for r, _ in await results(netsim) if r.command_id == sent.command_id]
        return found if len(found) == 2 else None

    _, second = await eventually(two, what="the second answer")
    assert list(second.results) == list(first.results)
    assert await version_of(netsim, "250010000000001") == version
    assert items_total("bar", "duplicate") == duplicates + 1


class _Meta:
    def __init__(self, sequence: int, deliveries: int) -> None:
        self.stream = NetsimSubjects.COMMAND_STREAM
        self.sequence = type("Sequence", (), {"stream": sequence})()
        self.num_delivered = deliveries


class FakeMsg:
    """A JetStream message as the consumer sees it, delivered as often as the test likes."""

    def __init__(self, data: bytes, event_id: str, deliveries: int) -> None:
        self.subject = NetsimSubjects.PROVISION
        self.data = data
        self.headers = {h.MSG_ID: event_id, h.TENANT: TENANT}
        self.metadata = _Meta(1, deliveries)
        self.acks: list[str] = []

    async def ack(self) -> None:
        self.acks.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.acks.append("nak")

    async def term(self) -> None:
        self.acks.append("term")

    async def in_progress(self) -> None:
        self.acks.append("in_progress")


async def test_a_redelivered_command_is_a_duplicate_and_writes_no_second_result(netsim: RunningNetsim) -> None:
    """The same message twice (a lost ack): the consumer's record of event ids absorbs the second."""
    runtime = netsim.app.runtime
    hlr = ProvisionConsumer(outbox=runtime.outbox, clock=runtime.clock, faults=netsim.app.faults)
    consumer = DurableConsumer(
        name=CONSUMER_NAME,
        stream=NetsimSubjects.COMMAND_STREAM,
        subject=NetsimSubjects.PROVISION,
        handler=hlr.handle,
        before=hlr.before,
        db=runtime.db,
        tables=BUS,
        js=netsim.js,
        clock=runtime.clock,
    )
    sent = command(register(), item(A.PROVISIONING_ACTION_ADD_APN, apn="internet"))
    data = sent.SerializeToString()
    first, second = FakeMsg(data, "redelivered-1", 1), FakeMsg(data, "redelivered-1", 2)
    await consumer.handle(first)  # type: ignore[arg-type]
    await consumer.handle(second)  # type: ignore[arg-type]
    assert first.acks == ["ack"] and second.acks == ["ack"]
    assert await version_of(netsim, "250010000000001") == 1
    async with runtime.db.sessions() as session:
        outbox = (await session.execute(sa.select(BUS.outbox))).mappings().all()
    assert [(row["subject"], row["tenant"]) for row in outbox] == [(NetsimSubjects.PROVISIONING_RESULT, TENANT)]
    # The relay empties a row's payload once it is published: the result is read where it went.
    assert (await result_of(netsim, sent.command_id)).results[1].ok


async def test_commands_that_cannot_be_taken_are_dead_lettered_and_the_next_applies(netsim: RunningNetsim) -> None:
    bad = {
        "not-protobuf": b"\xff\xff\xff not a protobuf message",
        "no-command-id": hlr_pb2.ProvisionCommand(items=[register()]).SerializeToString(),
        "too-many-items": command(*[register() for _ in range(1001)]).SerializeToString(),
    }
    for msg_id, payload in bad.items():
        await send(netsim, payload, msg_id=msg_id)
    good = command(register())
    await send(netsim, good)
    await result_of(netsim, good.command_id)

    async def letters() -> list[Any] | None:
        rows = [r for r in await netsim.dead_letters() if r["consumer"] == CONSUMER_NAME]
        return rows if len(rows) == len(bad) else None

    by_id = {row["event_id"]: row for row in await eventually(letters, what="the dead letters")}
    assert set(by_id) == set(bad)
    assert all(row["deliveries"] == 1 for row in by_id.values())
    assert "not a ProvisionCommand" in by_id["not-protobuf"]["error"]
    assert "INVALID_COMMAND_ID" in by_id["no-command-id"]["error"]
    assert "TOO_MANY_ITEMS" in by_id["too-many-items"]["error"]
    assert [r.command_id for r, _ in await results(netsim)] == [good.command_id]


async def test_an_outage_holds_commands_and_they_apply_once_it_ends(netsim: RunningNetsim) -> None:
    await set_faults(netsim, outage=True)
    assert sample("simfleet_netsim_hlr_outage") == 1
    first, second = command(register()), command(item(A.PROVISIONING_ACTION_BAR, block_type="scheduled"))
    await send(netsim, first)
    await send(netsim, second)

    # The consumer has taken the first command and the outage holds it (the second waits behind it).
    async def held() -> bool:
        return netsim.app.faults.holding == 1

    await eventually(held, what="the first command held by the outage")
    assert await results(netsim) == []
    assert await version_of(netsim, "250010000000001") is None
    info = await netsim.js.consumer_info(NetsimSubjects.COMMAND_STREAM, CONSUMER_NAME)
    assert (info.num_pending or 0) + (info.num_ack_pending or 0) == 2  # still queued or held, none lost

    # The SMSC is not part of the outage.
    await netsim.submit(sms_command("+79990000150", "during the outage"))
    await netsim.wait_for_sms("+79990000150", "during the outage")

    await set_faults(netsim, outage=False)
    assert sample("simfleet_netsim_hlr_outage") == 0
    assert (await result_of(netsim, first.command_id)).results[0].ok
    assert (await result_of(netsim, second.command_id)).results[0].ok
    assert await version_of(netsim, "250010000000001") == 1
    assert [r for r in await netsim.dead_letters() if r["consumer"] == CONSUMER_NAME] == []
    info = await netsim.js.consumer_info(NetsimSubjects.COMMAND_STREAM, CONSUMER_NAME)
    assert info.num_redelivered == 0


async def test_latency_is_slept_outside_the_transaction_so_the_smsc_goes_on(netsim: RunningNetsim) -> None:
    await set_faults(netsim, latency_ms=1500)
    latency_sum = sample("simfleet_netsim_hlr_latency_seconds_sum")
    slow = command(register())
    started = time.monotonic()
    await send(netsim, slow)

    async def taken() -> bool:  # the HLR has the command in hand, and sleeps its latency now
        info = await netsim.js.consumer_info(NetsimSubjects.COMMAND_STREAM, CONSUMER_NAME)
        return info.num_ack_pending == 1

    await eventually(taken, what="the slow command taken by the HLR")
    await netsim.submit(sms_command("+79990000151", "while the HLR is slow"))
    await netsim.wait_for_sms("+79990000151", "while the HLR is slow")
    assert await results(netsim) == [], "the SMS waited for the slow HLR command"
    assert time.monotonic() - started < 1.5

    assert (await result_of(netsim, slow.command_id)).results[0].ok
    assert time.monotonic() - started >= 1.5
    assert sample("simfleet_netsim_hlr_latency_seconds_sum") - latency_sum >= 1.5


async def test_injected_failures_reach_the_result_event(netsim: RunningNetsim) -> None:
    await set_faults(netsim, failing_msisdns=[OTHER_MSISDN])
    sent = command(register(), register(OTHER_IMSI, OTHER_MSISDN, 2))
    await send(netsim, sent)
    answered = await result_of(netsim, sent.command_id)
    assert [r.ok for r in answered.results] == [True, False]
    assert answered.results[1].failure == F.PROVISIONING_FAILURE_SYSTEM_FAILURE

    await set_faults(netsim, failure_rate=1.0)
    failing = command(item(A.PROVISIONING_ACTION_BAR, block_type="voluntary"), item(A.PROVISIONING_ACTION_ACTIVATE))
    await send(netsim, failing)
    answered = await result_of(netsim, failing.command_id)
    assert [r.failure for r in answered.results] == [F.PROVISIONING_FAILURE_SYSTEM_FAILURE] * 2
    assert all(r.reason == "the HLR did not answer in time" for r in answered.results)
    assert await version_of(netsim, "250010000000001") == 0


async def test_settings_give_the_initial_faults_and_bad_ones_are_refused(nats_server: NatsServer, db_url: str) -> None:
    app = build(make_settings(database_url=db_url, nats_url=nats_server.url, hlr_latency_ms=250, hlr_failure_rate=0.5))
    assert app.faults.faults.latency_ms == 250
    assert app.faults.faults.failure_rate == 0.5
    assert not app.faults.faults.outage
    with pytest.raises(ValueError, match="hlr_failure_rate"):
        make_settings(hlr_failure_rate=1.5)
    with pytest.raises(ValueError, match="hlr_latency_ms"):
        make_settings(hlr_latency_ms=-1)
    await app.runtime.db.dispose()


async def test_an_existing_netsim_stream_gains_the_hlr_subjects(nats_server: NatsServer, db_url: str) -> None:
    import nats

    nc = await nats.connect(nats_server.url)
    js = nc.jetstream(timeout=5)
    await js.add_stream(StreamConfig(name=NetsimSubjects.EVENT_STREAM, subjects=["simfleet.netsim.sms.>"]))
    app = build(make_settings(database_url=db_url, nats_url=nats_server.url))
    await app.runtime.start()
    try:

        async def updated() -> bool:
            info = await js.stream_info(NetsimSubjects.EVENT_STREAM)
            return "simfleet.netsim.hlr.>" in (info.config.subjects or [])

        await eventually(updated, what="the NETSIM stream updated")
    finally:
        app.runtime.stop_event.set()
        await asyncio.wait_for(app.runtime.shutdown(), 15)
        await nc.close()


async def test_health_serves_the_hlr_and_usage_services(netsim: RunningNetsim) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from netsim.hlr.grpc_api import SERVICE_NAME

    assert SERVICE_NAME == "simfleet.netsim.v1.HlrService"
    async with grpc.aio.insecure_channel(netsim.grpc_target) as channel:
        health = health_pb2_grpc.HealthStub(channel)

        async def serving() -> bool:
            answer = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
            return answer.status == health_pb2.HealthCheckResponse.SERVING

        await eventually(serving, what="HlrService SERVING")
        answer = await health.Check(health_pb2.HealthCheckRequest(service="simfleet.netsim.v1.UsageService"))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
