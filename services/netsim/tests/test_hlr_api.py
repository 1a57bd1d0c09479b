"""HlrService over a real gRPC channel and the console's HLR routes: reads, faults, locations, errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from netsim.hlr.service import provision
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_runtime.errors import read_error
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id

from .conftest import RunningNetsim  # type: ignore[import-not-found]
from .test_hlr_provisioning import A, item, register  # type: ignore[import-not-found]

PROBLEM = "application/problem+json"


async def seed(netsim: RunningNetsim, *items: hlr_pb2.ProvisioningItem) -> None:
    runtime = netsim.app.runtime
    async with runtime.db.transaction() as session:
        answers = await provision(
            session,
            hlr_pb2.ProvisionCommand(command_id=new_id(), items=items),
            faults=netsim.app.faults,
            clock=runtime.clock,
        )
    assert all(a.result.ok for a in answers), [a.result for a in answers]


async def seed_five(netsim: RunningNetsim) -> None:
    await seed(
        netsim,
        *[register(f"25001000000000{n}", f"+7999000020{n}", n) for n in (5, 3, 1, 4)],
        register("250010000000002", "+79160000202", 2, state="ready"),
        item(A.PROVISIONING_ACTION_ADD_APN, "250010000000001", apn="internet"),
        item(A.PROVISIONING_ACTION_SET_FORWARDING, "250010000000001", condition="busy", target="+79990000299"),
    )


async def expect_error(call: Any, code: grpc.StatusCode, reason: str, field: str | None = None) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    error = read_error(failed.value)
    assert (error.code, error.reason) == (code, reason), error.message
    if field is not None:
        assert field in error.field_violations, error.field_violations


async def test_get_and_list_subscribers(netsim: RunningNetsim) -> None:
    await seed_five(netsim)
    async with make_channel(netsim.grpc_target) as channel:
        stub = hlr_pb2_grpc.HlrServiceStub(channel)
        by_imsi = (await stub.GetSubscriber(hlr_pb2.GetSubscriberRequest(imsi="250010000000001"))).subscriber
        assert (by_imsi.msisdn, list(by_imsi.barrings), list(by_imsi.apns), dict(by_imsi.forwarding)) == (
            "+79990000201",
            [],
            ["internet"],
            {"busy": "+79990000299"},
        )
        assert by_imsi.version == 2
        assert list(by_imsi.services) == ["voice", "sms", "data"], "registered without services: the default ones"
        assert by_imsi.updated_at.ToDatetime(tzinfo=UTC) <= datetime.now(UTC)
        by_number = (await stub.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn="+7 999 000-02-03"))).subscriber
        assert (by_number.imsi, by_number.msisdn, by_number.version) == ("250010000000003", "+79990000203", 0)
        ready = (await stub.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn="+79160000202"))).subscriber
        assert (ready.imsi, list(ready.barrings)) == ("250010000000002", ["not_activated"])
        assert ready.iccid.startswith("89") and len(ready.iccid) == 19


async def test_get_subscriber_errors(netsim: RunningNetsim) -> None:
    await seed_five(netsim)
    async with make_channel(netsim.grpc_target) as channel:
        stub = hlr_pb2_grpc.HlrServiceStub(channel)
        not_found = grpc.StatusCode.NOT_FOUND
        invalid = grpc.StatusCode.INVALID_ARGUMENT
        get = stub.GetSubscriber
        await expect_error(get(hlr_pb2.GetSubscriberRequest(msisdn="+79990000202")), not_found, "SUBSCRIBER_NOT_FOUND")
        await expect_error(get(hlr_pb2.GetSubscriberRequest(imsi="250010000000009")), not_found, "SUBSCRIBER_NOT_FOUND")
        await expect_error(get(hlr_pb2.GetSubscriberRequest()), invalid, "IMSI_OR_MSISDN", "imsi")
        both = hlr_pb2.GetSubscriberRequest(imsi="250010000000001", msisdn="+79990000201")
        await expect_error(get(both), invalid, "IMSI_OR_MSISDN", "msisdn")
        await expect_error(get(hlr_pb2.GetSubscriberRequest(imsi="2500")), invalid, "INVALID_IMSI", "imsi")
        await expect_error(get(hlr_pb2.GetSubscriberRequest(msisdn="12345")), invalid, "INVALID_PHONE", "msisdn")


async def test_list_subscribers_pages_by_imsi_and_filters_by_prefix(netsim: RunningNetsim) -> None:
    await seed_five(netsim)
    async with make_channel(netsim.grpc_target) as channel:
        stub = hlr_pb2_grpc.HlrServiceStub(channel)
        everyone = await stub.ListSubscribers(hlr_pb2.ListSubscribersRequest())
        assert [s.imsi[-1] for s in everyone.subscribers] == ["1", "2", "3", "4", "5"]
        assert everyone.next_page_token == ""

        seen: list[str] = []
        token = ""
        pages = 0
        while True:
            page = await stub.ListSubscribers(hlr_pb2.ListSubscribersRequest(page_size=2, page_token=token))
            seen += [s.imsi for s in page.subscribers]
            pages += 1
            token = page.next_page_token
            if not token:
                break
        assert seen == [s.imsi for s in everyone.subscribers]
        assert pages == 3

        moscow = await stub.ListSubscribers(hlr_pb2.ListSubscribersRequest(msisdn_prefix="+7999"))
        assert [s.msisdn for s in moscow.subscribers] == [f"+7999000020{n}" for n in (1, 3, 4, 5)]
        no_plus = await stub.ListSubscribers(hlr_pb2.ListSubscribersRequest(msisdn_prefix="7916"))
        assert [s.imsi for s in no_plus.subscribers] == ["250010000000002"]
        first = await stub.ListSubscribers(hlr_pb2.ListSubscribersRequest(msisdn_prefix="+7999", page_size=3))
        rest = await stub.ListSubscribers(
            hlr_pb2.ListSubscribersRequest(msisdn_prefix="+7999", page_size=3, page_token=first.next_page_token)
        )
        assert [s.msisdn for s in rest.subscribers] == ["+79990000205"]
        assert rest.next_page_token == ""

        invalid = grpc.StatusCode.INVALID_ARGUMENT
        lst = stub.ListSubscribers
        await expect_error(lst(hlr_pb2.ListSubscribersRequest(page_size=1001)), invalid, "INVALID_PAGE_SIZE")
        await expect_error(lst(hlr_pb2.ListSubscribersRequest(page_token="nope")), invalid, "INVALID_PAGE_TOKEN")
        await expect_error(
            lst(hlr_pb2.ListSubscribersRequest(msisdn_prefix="+7-abc")), invalid, "INVALID_MSISDN_PREFIX"
        )


async def test_set_and_get_faults(netsim: RunningNetsim) -> None:
    async with make_channel(netsim.grpc_target) as channel:
        stub = hlr_pb2_grpc.HlrServiceStub(channel)
        assert (await stub.GetFaults(hlr_pb2.GetFaultsRequest())).faults == hlr_pb2.Faults()
        wanted = hlr_pb2.Faults(
            latency_ms=120, failure_rate=0.25, outage=False, failing_msisdns=["+7 999 000 03 01", "+79990000301"]
        )
        answered = (await stub.SetFaults(hlr_pb2.SetFaultsRequest(faults=wanted))).faults
        assert list(answered.failing_msisdns) == ["+79990000301"]
        assert (answered.latency_ms, answered.failure_rate) == (120, 0.25)
        assert (await stub.GetFaults(hlr_pb2.GetFaultsRequest())).faults == answered
        assert netsim.app.faults.faults.failing_msisdns == ("+79990000301",)

        invalid = grpc.StatusCode.INVALID_ARGUMENT
        bad = [
            (hlr_pb2.Faults(failure_rate=1.01), "INVALID_FAILURE_RATE", "failure_rate"),
            (hlr_pb2.Faults(failure_rate=-0.1), "INVALID_FAILURE_RATE", "failure_rate"),
            (hlr_pb2.Faults(failure_rate=float("nan")), "INVALID_FAILURE_RATE", "failure_rate"),
            (hlr_pb2.Faults(latency_ms=60001), "INVALID_LATENCY", "latency_ms"),
            (hlr_pb2.Faults(latency_ms=-1), "INVALID_LATENCY", "latency_ms"),
            (hlr_pb2.Faults(failing_msisdns=["+79990000301", "555"]), "INVALID_PHONE", "failing_msisdns[1]"),
        ]
        for faults, reason, field in bad:
            await expect_error(stub.SetFaults(hlr_pb2.SetFaultsRequest(faults=faults)), invalid, reason, field)
        assert (await stub.GetFaults(hlr_pb2.GetFaultsRequest())).faults == answered  # refused ones change nothing

        # Every field is replaced: an empty request turns every fault off.
        assert (await stub.SetFaults(hlr_pb2.SetFaultsRequest())).faults == hlr_pb2.Faults()


CELL = re.compile(r"^250-01-\d{4}-\d{5}$")


async def test_get_location(netsim: RunningNetsim) -> None:
    await seed_five(netsim)
    async with make_channel(netsim.grpc_target) as channel:
        stub = hlr_pb2_grpc.HlrServiceStub(channel)
        where = await stub.GetLocation(hlr_pb2.GetLocationRequest(msisdn="+7 999 000 02 01"))
        assert where.msisdn == "+79990000201"
        assert CELL.match(where.cell_id), where.cell_id
        assert 55.6 < where.latitude < 55.9 and 37.4 < where.longitude < 37.8  # Moscow
        assert 200 <= where.accuracy_m < 600
        assert abs(where.observed_at.ToDatetime(tzinfo=UTC) - datetime.now(UTC)).total_seconds() < 5

        not_found, invalid = grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT
        unknown = hlr_pb2.GetLocationRequest(msisdn="+79990000209")
        await expect_error(stub.GetLocation(unknown), not_found, "SUBSCRIBER_NOT_FOUND")
        bad = hlr_pb2.GetLocationRequest(msisdn="nobody")
        await expect_error(stub.GetLocation(bad), invalid, "INVALID_PHONE", "msisdn")


async def test_the_console_shows_a_subscriber(netsim: RunningNetsim) -> None:
    await seed_five(netsim)
    response = await netsim.http.get("/hlr/subscribers/%2B79990000201")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {
        "imsi",
        "msisdn",
        "iccid",
        "barrings",
        "apns",
        "forwarding",
        "services",
        "version",
        "registered_at",
        "updated_at",
    }
    assert (body["imsi"], body["apns"], body["forwarding"], body["services"], body["version"]) == (
        "250010000000001",
        ["internet"],
        {"busy": "+79990000299"},
        ["voice", "sms", "data"],  # registered without services: the default ones
        2,
    )
    assert datetime.fromisoformat(body["registered_at"]) <= datetime.fromisoformat(body["updated_at"])

    missing = await netsim.http.get("/hlr/subscribers/+79990000209")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["reason"] == "SUBSCRIBER_NOT_FOUND"
    bad = await netsim.http.get("/hlr/subscribers/12345")
    assert (bad.status_code, bad.headers["content-type"], bad.json()["reason"]) == (422, PROBLEM, "INVALID_PHONE")


async def test_the_console_reads_and_replaces_the_faults(netsim: RunningNetsim) -> None:
    off = {"latency_ms": 0, "failure_rate": 0.0, "outage": False, "failing_msisdns": []}
    assert (await netsim.http.get("/hlr/faults")).json() == off

    put = await netsim.http.put(
        "/hlr/faults", json={"latency_ms": 50, "outage": True, "failing_msisdns": ["+7 999 000 04 01"]}
    )
    assert put.status_code == 200, put.text
    now = {"latency_ms": 50, "failure_rate": 0.0, "outage": True, "failing_msisdns": ["+79990000401"]}
    assert put.json() == now
    assert (await netsim.http.get("/hlr/faults")).json() == now
    assert netsim.app.faults.faults.outage

    for body, reason in [
        ({"failure_rate": 2}, "INVALID_FAILURE_RATE"),
        ({"latency_ms": 60001}, "INVALID_LATENCY"),
        ({"failing_msisdns": ["0"]}, "INVALID_PHONE"),
        ({"latency": 5}, "INVALID_REQUEST"),
        ({"latency_ms": "slow"}, "INVALID_REQUEST"),
    ]:
        refused = await netsim.http.put("/hlr/faults", json=body)
        assert refused.status_code == 422, body
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["reason"] == reason, refused.json()
    assert (await netsim.http.get("/hlr/faults")).json() == now

    assert (await netsim.http.put("/hlr/faults", json={})).json() == off
    assert not netsim.app.faults.faults.outage
