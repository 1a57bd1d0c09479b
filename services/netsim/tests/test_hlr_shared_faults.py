"""The HLR's faults are netsim's state: two netsims on one database apply the same faults, and a restart keeps them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prometheus_client import REGISTRY

from netsim.hlr.consumer import CONSUMER_NAME
from netsim.hlr.fault_store import FaultStore
from netsim.hlr.faults import FaultInjector, Faults
from netsim.hlr.models import AppliedItem, StoredFaults
from netsim.main import MIGRATIONS as MIGRATIONS_DIR
from netsim.settings import NetsimSettings
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_runtime import migrations
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.testing import NatsServer, eventually
from simfleet_subjects import NetsimSubjects

from .conftest import RunningNetsim, make_settings, started  # type: ignore[import-not-found]
from .test_hlr_consumer import command, result_of, results, send  # type: ignore[import-not-found]
from .test_hlr_provisioning import register  # type: ignore[import-not-found]

REFRESH = 0.1
"""The refresh interval of these tests' netsims (seconds)."""
REACHES_WITHIN = 1.5
"""How soon a change must reach the other netsim: the interval and a loaded machine's slack."""


def settings(db_url: str, nats_url: str, **overrides: Any) -> NetsimSettings:
    return make_settings(database_url=db_url, nats_url=nats_url, hlr_faults_refresh_seconds=REFRESH, **overrides)


async def set_faults(netsim: RunningNetsim, **faults: Any) -> hlr_pb2.Faults:
    async with make_channel(netsim.grpc_target) as channel:
        stub = hlr_pb2_grpc.HlrServiceStub(channel)
        answer = await stub.SetFaults(hlr_pb2.SetFaultsRequest(faults=hlr_pb2.Faults(**faults)))
        return answer.faults


async def get_faults(netsim: RunningNetsim) -> hlr_pb2.Faults:
    async with make_channel(netsim.grpc_target) as channel:
        return (await hlr_pb2_grpc.HlrServiceStub(channel).GetFaults(hlr_pb2.GetFaultsRequest())).faults


async def applied_within(netsim: RunningNetsim, wanted: Faults, *, what: str) -> float:
    """Seconds until ``netsim`` applies ``wanted``; fails after REACHES_WITHIN."""
    started_at = time.monotonic()

    async def applied() -> bool:
        return netsim.app.faults.faults == wanted

    await eventually(applied, timeout=REACHES_WITHIN, interval=0.01, what=what)
    return time.monotonic() - started_at


async def stored_row(netsim: RunningNetsim) -> StoredFaults | None:
    async with netsim.app.runtime.db.sessions() as session:
        return await session.get(StoredFaults, 1)


async def test_faults_set_through_one_netsim_are_applied_by_the_other(nats_server: NatsServer, db_url: str) -> None:
    async with (
        started(settings(db_url, nats_server.url)) as first,
        started(settings(db_url, nats_server.url)) as second,
    ):
        wanted = Faults(latency_ms=120, failure_rate=0.25, outage=False, failing_msisdns=("+79990000301",))
        answered = await set_faults(
            first, latency_ms=120, failure_rate=0.25, failing_msisdns=["+7 999 000 03 01", "+79990000301"]
        )
        assert list(answered.failing_msisdns) == ["+79990000301"]
        assert first.app.faults.faults == wanted, "the netsim that took the call applies the faults at once"
        await applied_within(second, wanted, what="the faults set through the first, on the second")
        assert await get_faults(second) == answered
        row = await stored_row(second)
        assert row is not None
        assert first.app.faults.version == second.app.faults.version == row.version

        # The console of the second writes them for the first.
        put = await second.http.put("/hlr/faults", json={"latency_ms": 5, "outage": True})
        assert put.status_code == 200, put.text
        await applied_within(first, Faults(latency_ms=5, outage=True), what="the console's faults, on the first")
        assert (await first.http.get("/hlr/faults")).json() == put.json()
        later = await stored_row(first)
        assert later is not None and later.version == row.version + 1 and later.updated_at >= row.updated_at

        # Faults refused by one netsim change nothing anywhere.
        refused = await first.http.put("/hlr/faults", json={"failure_rate": 2})
        assert refused.status_code == 422
        await asyncio.sleep(3 * REFRESH)
        assert first.app.faults.faults == second.app.faults.faults == Faults(latency_ms=5, outage=True)

        await set_faults(second)  # every fault off, for both
        await applied_within(first, Faults(), what="the faults turned off, on the first")


async def test_an_outage_set_on_one_holds_commands_on_the_other_until_lifted_on_the_first(
    nats_server: NatsServer, db_url: str
) -> None:
    # Only the second takes commands: the first is on a NATS of its own, sharing nothing but the database.
    # The outbox is shared too (either relay may publish a result, to its own NATS): the answers are read
    # from the database.
    with NatsServer() as elsewhere:
        async with (
            started(settings(db_url, elsewhere.url)) as first,
            started(settings(db_url, nats_server.url)) as second,
        ):
            await set_faults(first, outage=True)
            await applied_within(second, Faults(outage=True), what="the outage on the second")
            held = command(register())
            await send(second, held)
            await asyncio.sleep(1.0)
            assert await answered_items(second, held.command_id) == [], "the second applied a command in the outage"
            info = await second.js.consumer_info(NetsimSubjects.COMMAND_STREAM, CONSUMER_NAME)
            assert (info.num_pending or 0) + (info.num_ack_pending or 0) == 1  # held, not lost

            lifted = time.monotonic()
            await set_faults(first, outage=False)

            async def answered() -> list[bool]:
                return await answered_items(second, held.command_id)

            assert await eventually(answered, timeout=REACHES_WITHIN + 1, what="the held command applied") == [True]
            assert time.monotonic() - lifted < REACHES_WITHIN + 1
            info = await second.js.consumer_info(NetsimSubjects.COMMAND_STREAM, CONSUMER_NAME)
            assert info.num_redelivered == 0


async def answered_items(netsim: RunningNetsim, command_id: str) -> list[bool]:
    """Whether each item of the command was applied (empty: not answered yet)."""
    async with netsim.app.runtime.db.sessions() as session:
        rows = await session.scalars(sa.select(AppliedItem.ok).where(AppliedItem.command_id == command_id))
        return list(rows)


async def test_faults_survive_a_restart_and_the_settings_only_seed_a_fresh_database(
    nats_server: NatsServer, db_url: str
) -> None:
    async with started(settings(db_url, nats_server.url, hlr_latency_ms=250, hlr_failure_rate=0.5)) as first:
        seeded = Faults(latency_ms=250, failure_rate=0.5)
        await applied_within(first, seeded, what="the settings' faults")
        assert (await get_faults(first)).latency_ms == 250
        row = await stored_row(first)
        assert row is not None and (row.latency_ms, row.failure_rate, row.version) == (250, 0.5, 1)
        await set_faults(first, latency_ms=40, outage=True, failing_msisdns=["+79990000302"])

    stored = Faults(latency_ms=40, outage=True, failing_msisdns=("+79990000302",))
    # Other settings now: the stored faults win over them.
    async with started(settings(db_url, nats_server.url, hlr_latency_ms=7)) as again:
        await applied_within(again, stored, what="the stored faults after a restart")
        assert await get_faults(again) == hlr_pb2.Faults(latency_ms=40, outage=True, failing_msisdns=["+79990000302"])
        held = command(register())
        await send(again, held)
        await asyncio.sleep(1.0)
        assert await results(again) == [], "the outage did not survive the restart"
        await set_faults(again, latency_ms=7)
        assert (await result_of(again, held.command_id)).results[0].ok


async def test_each_netsim_shows_the_version_it_applies(netsim: RunningNetsim) -> None:
    async def gauge(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    await set_faults(netsim, outage=True)
    row = await stored_row(netsim)
    assert row is not None
    assert await gauge("simfleet_netsim_hlr_faults_version") == row.version
    assert await gauge("simfleet_netsim_hlr_outage") == 1
    await set_faults(netsim)
    assert await gauge("simfleet_netsim_hlr_faults_version") == row.version + 1
    assert await gauge("simfleet_netsim_hlr_outage") == 0


async def test_the_store_applies_only_what_changed_and_rides_out_a_database_away(db_url: str, tmp_path: Path) -> None:
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
    db, other_db = Database(db_url), Database(db_url)
    initial = Faults(latency_ms=3)
    here = FaultStore(db, FaultInjector(held=True), Clock(), initial=initial, refresh_seconds=REFRESH)
    there = FaultStore(other_db, FaultInjector(held=True), Clock(), initial=initial, refresh_seconds=REFRESH)
    try:
        waiting = asyncio.ensure_future(here.injector.wait_available())
        await asyncio.sleep(0.05)
        assert not waiting.done(), "a held injector took a command before the stored faults were read"
        assert await here.refresh() is True  # a fresh database: the initial faults become the row
        await asyncio.wait_for(waiting, 1)
        assert (here.injector.faults, here.injector.version) == (initial, 1)
        assert await here.refresh() is False  # nothing changed: nothing applied
        assert await there.refresh() is True
        assert there.injector.version == 1

        await there.set(Faults(failure_rate=1.0))
        assert there.injector.version == 2
        assert await there.refresh() is False  # its own write is applied already
        assert await here.refresh() is True
        assert (here.injector.faults, here.injector.version) == (Faults(failure_rate=1.0), 2)
    finally:
        await db.dispose()
        await other_db.dispose()

    # A database that does not answer: the loop keeps the faults in hand and goes on.
    away = Database(f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/netsim.db")
    injector = FaultInjector(Faults(latency_ms=9))
    loop_store = FaultStore(away, injector, Clock(), initial=Faults(), refresh_seconds=0.02)
    stop = asyncio.Event()
    task = asyncio.ensure_future(loop_store.run(stop))
    await asyncio.sleep(0.2)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 2)
    assert injector.faults == Faults(latency_ms=9)
    await away.dispose()
