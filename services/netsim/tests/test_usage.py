"""The mediation on a real NATS: settings every replica applies, bursts of records, the continuous flow, its lease."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest

from netsim.usage.generator import DATA_BYTES, ROAMING_COUNTRIES, VOICE_SECONDS
from netsim.usage.lease import Lease
from netsim.usage.settings import UsageSettings
from simfleet.events.v1 import netsim_pb2 as events_pb2
from simfleet.netsim.v1 import hlr_pb2, usage_pb2, usage_pb2_grpc
from simfleet_runtime.bus import headers as h
from simfleet_runtime.clock import Clock
from simfleet_runtime.errors import read_error
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.testing import NatsServer, eventually
from simfleet_subjects import NetsimSubjects

from .conftest import RunningNetsim, make_settings, started  # type: ignore[import-not-found]
from .test_hlr_consumer import command, result_of, send  # type: ignore[import-not-found]
from .test_hlr_provisioning import A, item, register  # type: ignore[import-not-found]

K = usage_pb2.UsageKind
Z = usage_pb2.UsageZone
RECORD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

PLAIN, BARRED, SMS_ONLY, ROAMER, CALLER, NOT_LIVE = (
    ("250010000000011", "+79990000011"),
    ("250010000000012", "+79990000012"),
    ("250010000000013", "+79990000013"),
    ("250010000000014", "+79990000014"),
    ("250010000000015", "+79990000015"),
    ("250010000000016", "+79990000016"),
)
"""(IMSI, number) of the subscribers the bursts draw from."""


def usage_settings(db_url: str, nats_url: str, **overrides: Any) -> Any:
    return make_settings(
        database_url=db_url,
        nats_url=nats_url,
        usage_settings_refresh_seconds=0.1,
        usage_tick_seconds=0.05,
        usage_lease_seconds=5.0,
        **overrides,
    )


@asynccontextmanager
async def usage_stub(netsim: RunningNetsim) -> AsyncIterator[usage_pb2_grpc.UsageServiceStub]:
    async with make_channel(netsim.grpc_target) as channel:
        yield usage_pb2_grpc.UsageServiceStub(channel)


async def provision(netsim: RunningNetsim, *items: hlr_pb2.ProvisioningItem) -> None:
    sent = command(*items)
    await send(netsim, sent)
    result = await result_of(netsim, sent.command_id)
    assert all(r.ok for r in result.results), result


async def subscribers(netsim: RunningNetsim) -> None:
    await provision(
        netsim,
        register(*PLAIN, 11),
        register(*BARRED, 12),
        item(A.PROVISIONING_ACTION_BAR, BARRED[0], block_type="voluntary"),
        register(*SMS_ONLY, 13, services="sms"),
        register(*ROAMER, 14, services="voice,sms,data,roaming"),
        register(*CALLER, 15),
        item(A.PROVISIONING_ACTION_SET_SERVICES, CALLER[0], services="voice,sms,international"),
        register(*NOT_LIVE, 16, state="ready"),
    )


async def stored_batches(netsim: RunningNetsim) -> list[tuple[events_pb2.UsageRecords, dict[str, str]]]:
    info = await netsim.js.stream_info(NetsimSubjects.USAGE_STREAM)
    found = []
    if info.state.messages:
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await netsim.js.get_msg(NetsimSubjects.USAGE_STREAM, seq)
            assert msg.subject == NetsimSubjects.USAGE_RECORDED
            found.append((events_pb2.UsageRecords.FromString(msg.data or b""), dict(msg.headers or {})))
    return found


async def stored_records(netsim: RunningNetsim) -> list[usage_pb2.UsageRecord]:
    return [r for batch, _ in await stored_batches(netsim) for r in batch.records]


def check_record(record: usage_pb2.UsageRecord, now: float) -> None:
    assert RECORD_ID.match(record.record_id), record
    assert E164.match(record.msisdn) and len(record.imsi) == 15, record
    assert now - 5 < record.started_at.seconds <= now + 1, record
    if record.kind == K.USAGE_KIND_VOICE:
        assert VOICE_SECONDS[0] <= record.quantity <= VOICE_SECONDS[1], record
    elif record.kind == K.USAGE_KIND_DATA:
        assert DATA_BYTES[0] <= record.quantity <= DATA_BYTES[1], record
    else:
        assert record.kind == K.USAGE_KIND_SMS and record.quantity == 1, record
    if record.kind == K.USAGE_KIND_DATA:
        assert (record.zone, record.destination) == (Z.USAGE_ZONE_NONE, ""), record
    else:
        assert record.zone in (Z.USAGE_ZONE_ON_NET, Z.USAGE_ZONE_NATIONAL, Z.USAGE_ZONE_INTERNATIONAL), record
        assert E164.match(record.destination) and record.destination != record.msisdn, record
        assert record.destination.startswith("+7") != (record.zone == Z.USAGE_ZONE_INTERNATIONAL), record
    assert record.roaming_country in ("", *ROAMING_COUNTRIES), record


async def test_a_burst_publishes_exactly_n_valid_records_only_where_the_services_allow(netsim: RunningNetsim) -> None:
    await subscribers(netsim)
    async with usage_stub(netsim) as stub:
        await stub.SetUsageSettings(
            usage_pb2.SetUsageSettingsRequest(
                settings=usage_pb2.UsageSettings(roaming_share=0.5, international_share=0.5)
            )
        )
        answer = await stub.GenerateUsage(usage_pb2.GenerateUsageRequest(count=2500))
    assert (answer.generated, answer.subscribers) == (2500, 4), "the barred and the not yet live are not eligible"

    batches = await stored_batches(netsim)
    assert [len(b.records) for b, _ in batches] == [1000, 1000, 500]
    assert len({headers[h.MSG_ID] for _, headers in batches}) == 3
    assert {headers[h.EVENT_TYPE] for _, headers in batches} == {"simfleet.events.v1.UsageRecords"}
    records = [r for b, _ in batches for r in b.records]
    assert len({r.record_id for r in records}) == 2500
    now = Clock().timestamp()
    for record in records:
        check_record(record, now)

    by_number: dict[str, Counter[int]] = {}
    for record in records:
        by_number.setdefault(record.msisdn, Counter())[record.kind] += 1
    assert set(by_number) == {PLAIN[1], SMS_ONLY[1], ROAMER[1], CALLER[1]}
    assert set(by_number[SMS_ONLY[1]]) == {K.USAGE_KIND_SMS}, "no data, no calls without those services"
    assert K.USAGE_KIND_DATA not in by_number[CALLER[1]]
    assert set(by_number[PLAIN[1]]) == {K.USAGE_KIND_VOICE, K.USAGE_KIND_SMS, K.USAGE_KIND_DATA}
    assert {r.imsi for r in records if r.msisdn == PLAIN[1]} == {PLAIN[0]}
    roaming = {r.msisdn for r in records if r.roaming_country}
    international = {r.msisdn for r in records if r.zone == Z.USAGE_ZONE_INTERNATIONAL}
    assert roaming == {ROAMER[1]}, "roaming only with the roaming service (and some with it)"
    assert international == {CALLER[1]}, "abroad only with the international service (and some with it)"
    on_net = {r.destination for r in records if r.zone == Z.USAGE_ZONE_ON_NET}
    assert on_net and on_net <= {PLAIN[1], SMS_ONLY[1], ROAMER[1], CALLER[1]}

    counters = (await netsim.http.get("/usage/counters")).json()
    assert sum(counters["records"].values()) == 2500 and counters["batches"] == 3
    assert counters["publish_failures"] == 0


async def test_a_burst_takes_kinds_and_prefixes_and_a_barring_or_services_change_applies(
    netsim: RunningNetsim,
) -> None:
    await subscribers(netsim)
    async with usage_stub(netsim) as stub:
        only = await stub.GenerateUsage(
            usage_pb2.GenerateUsageRequest(
                count=300,
                kinds=[K.USAGE_KIND_DATA],
                msisdn_prefixes=["7999000001"],  # no "+": added
            )
        )
        assert (only.generated, only.subscribers) == (300, 4)  # +7999000001x: PLAIN, SMS_ONLY, ROAMER, CALLER
        records = await stored_records(netsim)
        assert {r.kind for r in records} == {K.USAGE_KIND_DATA}
        assert {r.msisdn for r in records} == {PLAIN[1], ROAMER[1]}, "only those with data"

        await provision(
            netsim,
            item(A.PROVISIONING_ACTION_BAR, PLAIN[0], block_type="financial"),
            item(A.PROVISIONING_ACTION_SET_SERVICES, ROAMER[0], services=""),
            item(A.PROVISIONING_ACTION_ACTIVATE, NOT_LIVE[0]),
        )
        after = await stub.GenerateUsage(usage_pb2.GenerateUsageRequest(count=400))
        assert after.generated == 400
        later = (await stored_records(netsim))[300:]
        assert {r.msisdn for r in later} == {SMS_ONLY[1], CALLER[1], NOT_LIVE[1]}

        nobody = await stub.GenerateUsage(usage_pb2.GenerateUsageRequest(count=10, msisdn_prefixes=["+1"]))
        assert (nobody.generated, nobody.subscribers) == (0, 0)

        for request, field in (
            (usage_pb2.GenerateUsageRequest(count=0), "count"),
            (usage_pb2.GenerateUsageRequest(count=1_000_001), "count"),
            (usage_pb2.GenerateUsageRequest(count=1, kinds=[K.USAGE_KIND_UNSPECIFIED]), "kinds[0]"),
            (usage_pb2.GenerateUsageRequest(count=1, msisdn_prefixes=["+7", "+0"]), "msisdn_prefixes[1]"),
            (usage_pb2.GenerateUsageRequest(count=1, msisdn_prefixes=["+7x"]), "msisdn_prefixes[0]"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await stub.GenerateUsage(request)
            error = read_error(failed.value)
            assert error.code == grpc.StatusCode.INVALID_ARGUMENT
            assert field in error.field_violations, (field, error.field_violations)


async def test_settings_are_validated_stored_and_applied_by_another_netsim(
    nats_server: NatsServer, db_url: str
) -> None:
    initial = {"usage_roaming_share": 0.2, "usage_msisdn_prefixes": "+7999, 7998"}
    async with (
        started(usage_settings(db_url, nats_server.url, **initial)) as first,
        started(usage_settings(db_url, nats_server.url)) as second,
    ):
        async with usage_stub(first) as stub:
            fresh = (await stub.GetUsageSettings(usage_pb2.GetUsageSettingsRequest())).settings
            assert (fresh.roaming_share, list(fresh.msisdn_prefixes)) == (0.2, ["+7999", "+7998"])

            async def both_read_the_row() -> bool:
                return first.app.usage_store.version is not None and second.app.usage_store.version is not None

            await eventually(both_read_the_row, what="the stored settings read by both")
            version = first.app.usage_store.version
            assert second.app.usage_store.current == first.app.usage_store.current, "the first one's row wins"

            wanted = usage_pb2.UsageSettings(
                records_per_second=0, voice_weight=3, sms_weight=1, data_weight=0, msisdn_prefixes=["+7 999 1"]
            )
            answered = (await stub.SetUsageSettings(usage_pb2.SetUsageSettingsRequest(settings=wanted))).settings
            assert list(answered.msisdn_prefixes) == ["+79991"] and answered.voice_weight == 3
            assert first.app.usage_store.version == version + 1
            expected = UsageSettings(voice_weight=3.0, sms_weight=1.0, msisdn_prefixes=("+79991",))

            async def applied() -> bool:
                return second.app.usage_store.current == expected

            await eventually(applied, timeout=2, interval=0.02, what="the settings on the other netsim")
            assert second.app.usage_store.version == version + 1

            bad: list[tuple[dict[str, Any], str]] = [
                ({"records_per_second": 50_001}, "records_per_second"),
                ({"records_per_second": -1}, "records_per_second"),
                ({"records_per_second": float("nan")}, "records_per_second"),
                ({"sms_weight": -0.5}, "sms_weight"),
                ({"data_weight": float("inf")}, "data_weight"),
                ({"roaming_share": 1.5}, "roaming_share"),
                ({"international_share": -0.1}, "international_share"),
                ({"msisdn_prefixes": ["+79"] * 51}, "msisdn_prefixes"),
                ({"msisdn_prefixes": ["+7999", "abc"]}, "msisdn_prefixes[1]"),
                ({"msisdn_prefixes": ["+"]}, "msisdn_prefixes[0]"),
                ({"msisdn_prefixes": ["+1234567890123456"]}, "msisdn_prefixes[0]"),
            ]
            for fields, field in bad:
                with pytest.raises(grpc.aio.AioRpcError) as failed:
                    await stub.SetUsageSettings(
                        usage_pb2.SetUsageSettingsRequest(settings=usage_pb2.UsageSettings(**fields))
                    )
                error = read_error(failed.value)
                assert error.code == grpc.StatusCode.INVALID_ARGUMENT, fields
                assert field in error.field_violations, (fields, error.field_violations)
            assert first.app.usage_store.version == version + 1, "nothing refused was stored"

        # The console: the same row, as JSON and as a page with a form.
        body = (await second.http.get("/usage/settings")).json()
        assert body["voice_weight"] == 3.0 and body["msisdn_prefixes"] == ["+79991"]
        refused = await second.http.put("/usage/settings", json={"roaming_share": 2})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "roaming_share"
        put = await second.http.put("/usage/settings", json={"records_per_second": 0, "data_weight": 1})
        assert put.status_code == 200 and put.json()["data_weight"] == 1.0
        assert second.app.usage_store.version == version + 2
        page = await second.http.get("/ui/usage")
        assert page.status_code == 200 and 'name="records_per_second"' in page.text
        posted = await second.http.post(
            "/ui/usage",
            content="records_per_second=0&voice_weight=1&sms_weight=0&data_weight=0&roaming_share=0.1"
            "&international_share=0&msisdn_prefixes=%2B79991%2C+%2B79992",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert posted.status_code == 303
        assert second.app.usage_store.current.msisdn_prefixes == ("+79991", "+79992")
        wrong = await second.http.post("/ui/usage", content="roaming_share=x")
        assert wrong.status_code == 422 and "roaming_share" in wrong.text

    async with started(usage_settings(db_url, nats_server.url, usage_voice_weight=9.0)) as restarted:
        await eventually(lambda: _applied(restarted), what="the stored settings after a restart")
        assert restarted.app.usage_store.current.voice_weight == 1.0, "the stored row wins over the environment"


async def _applied(netsim: RunningNetsim) -> bool:
    return netsim.app.usage_store.version is not None


async def test_the_continuous_flow_runs_in_one_netsim_at_a_time_and_stops_at_0(
    nats_server: NatsServer, db_url: str
) -> None:
    async with (
        started(usage_settings(db_url, nats_server.url)) as first,
        started(usage_settings(db_url, nats_server.url)) as second,
    ):
        await subscribers(first)
        async with usage_stub(second) as stub:
            await stub.SetUsageSettings(
                usage_pb2.SetUsageSettingsRequest(settings=usage_pb2.UsageSettings(records_per_second=400))
            )

        async def flowing() -> bool:
            info = await first.js.stream_info(NetsimSubjects.USAGE_STREAM)
            return info.state.messages >= 5

        await eventually(flowing, timeout=10, what="records from the continuous flow")
        generators = [n.app.usage for n in (first, second)]
        holders = [g for g in generators if g.lease.held]
        assert len(holders) == 1, "exactly one netsim holds the lease"
        idle = next(g for g in generators if g is not holders[0])
        assert sum(idle.counts.records.values()) == 0, "the other one made nothing"
        assert sum(holders[0].counts.records.values()) > 0
        assert await idle.lease.current_holder() == holders[0].lease.holder
        now = Clock().timestamp()
        for record in await stored_records(first):
            check_record(record, now)

        async with usage_stub(first) as stub:
            await stub.SetUsageSettings(
                usage_pb2.SetUsageSettingsRequest(settings=usage_pb2.UsageSettings(records_per_second=0))
            )

        async def released() -> bool:
            return not any(g.lease.held for g in generators) and await idle.lease.current_holder() is None

        await eventually(released, timeout=5, what="the lease let go at rate 0")
        made = sum(holders[0].counts.records.values())
        info = await first.js.stream_info(NetsimSubjects.USAGE_STREAM)
        assert sum(len(b.records) for b, _ in await stored_batches(first)) == made
        assert info.state.messages == holders[0].counts.batches


async def test_the_lease_is_held_by_one_until_let_go_or_expired(netsim: RunningNetsim) -> None:
    db, clock = netsim.app.runtime.db, Clock()
    one, other = Lease(db, clock, seconds=0.3), Lease(db, clock, seconds=0.3)
    assert await one.acquire() and one.held
    assert not await other.acquire() and not other.held
    assert await one.acquire(), "renewed by its holder"
    await one.release()
    assert not one.held and await other.acquire()

    async def expired_and_taken() -> bool:
        return await one.acquire()

    await eventually(expired_and_taken, timeout=3, interval=0.05, what="the lapsed lease taken by the other")
    assert not other.held or not await other.acquire()


async def test_the_usage_stream_keeps_7_days_and_drops_repeated_batches(netsim: RunningNetsim) -> None:
    info = await netsim.js.stream_info(NetsimSubjects.USAGE_STREAM)
    assert info.config.subjects == list(NetsimSubjects.USAGE_SUBJECTS)
    assert (info.config.max_age, info.config.duplicate_window) == (7 * 24 * 3600, 120)
    assert info.config.max_bytes == netsim.settings.usage_stream_max_bytes
    payload = events_pb2.UsageRecords().SerializeToString()
    first = await netsim.js.publish(NetsimSubjects.USAGE_RECORDED, payload, headers={h.MSG_ID: "batch-1"})
    again = await netsim.js.publish(NetsimSubjects.USAGE_RECORDED, payload, headers={h.MSG_ID: "batch-1"})
    assert not first.duplicate and again.duplicate
