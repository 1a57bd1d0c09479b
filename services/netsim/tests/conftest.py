"""Fixtures for netsim's tests: a private NATS, fresh databases, a running netsim in-process.

Every test that touches a database runs on SQLite, and on PostgreSQL too when
``SIMFLEET_TEST_POSTGRES_URL`` is set (databases named ``netsim_t_...``,
dropped afterwards). Each test gets its own NATS server, so streams, durable
consumers and duplicate windows never leak from one test to the next.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa
from nats.aio.client import Client
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from netsim.main import Netsim, build
from netsim.models import BUS
from netsim.settings import NetsimSettings
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime.bus import headers as h
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import NatsServer, database_backends, database_url, drop_postgres_database, eventually
from simfleet_subjects import NetsimSubjects


# ----------------------------------------------------------------- helpers
def sms_command(
    to: str, text: str, *, message_id: str | None = None, sender: str = "SIMfleet", origin: str = ""
) -> bytes:
    return smsc_pb2.SubmitSmsCommand(
        message_id=message_id or new_id(), to_msisdn=to, sender=sender, text=text, origin=origin
    ).SerializeToString()


@dataclass
class RunningNetsim:
    """A netsim started in this test's event loop, and the addresses it listens on."""

    app: Netsim
    settings: NetsimSettings
    nc: Client
    js: JetStreamContext
    http: httpx.AsyncClient

    @property
    def smtp_port(self) -> int:
        return self.app.smtp.port

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.app.runtime.bound_port}"

    async def submit(self, payload: bytes, *, msg_id: str | None = None, tenant: str = "") -> Any:
        """Publish a command the way other services do (Nats-Msg-Id, tenant); returns the PubAck."""
        headers = {h.MSG_ID: msg_id or new_id()}
        if tenant:
            headers[h.TENANT] = tenant
        return await self.js.publish(NetsimSubjects.SUBMIT_SMS, payload, headers=headers, timeout=5)

    async def inbox(self, msisdn: str) -> list[dict[str, Any]]:
        response = await self.http.get(f"/handsets/{msisdn}/sms", params={"limit": 500})
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    async def wait_for_sms(self, msisdn: str, text: str) -> dict[str, Any]:
        async def find() -> dict[str, Any] | None:
            return next((m for m in await self.inbox(msisdn) if m["text"] == text), None)

        found: dict[str, Any] = await eventually(find, what=f"SMS {text!r} in {msisdn}'s inbox")
        return found

    async def dead_letters(self) -> list[Any]:
        async with self.app.runtime.db.sessions() as session:
            rows = await session.execute(sa.select(BUS.dead_letters).order_by(BUS.dead_letters.c.created_at))
            return list(rows.mappings().all())


def make_settings(**overrides: Any) -> NetsimSettings:
    """Settings for an in-process netsim: every port free or chosen by the OS, fast bus timings."""
    values: dict[str, Any] = {
        "grpc_port": 0,
        "metrics_port": 0,
        "smtp_port": 0,
        "http_port": 0,
        "log_json": False,
        "shutdown_grace_seconds": 3.0,
        "health_check_interval_seconds": 0.2,
        "outbox_poll_seconds": 0.05,
        "consumer_backoff_seconds": [0.1, 0.2],
    }
    values.update(overrides)
    return NetsimSettings(**values)


# ----------------------------------------------------------------- fixtures
@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    with NatsServer() as server:
        yield server


@pytest.fixture(params=database_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend, dropped afterwards."""
    backend: str = request.param
    name = "netsim_t_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]  # noqa: S324 - a name
    url = await database_url(backend, name, tmp_path)
    yield url
    if backend == "postgresql":
        await drop_postgres_database(name)


@asynccontextmanager
async def started(settings: NetsimSettings) -> AsyncIterator[RunningNetsim]:
    """A netsim with these settings, started in-process and ready; stopped (and checked) afterwards."""
    app = build(settings)
    await app.runtime.start()
    nc = await nats.connect(settings.nats_url, name="netsim-tests")
    js = nc.jetstream(timeout=5)
    http: httpx.AsyncClient | None = None
    try:
        await asyncio.wait_for(asyncio.gather(app.smtp.wait_bound(), app.console.wait_bound()), 10)

        async def streams_declared() -> bool:
            try:
                await js.stream_info(NetsimSubjects.COMMAND_STREAM)
                await js.stream_info(NetsimSubjects.EVENT_STREAM)
                await js.stream_info(NetsimSubjects.USAGE_STREAM)
            except NotFoundError:
                return False
            return await app.runtime.ready()

        await eventually(streams_declared, what="netsim ready with its streams")
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.console.port}", timeout=5)
        yield RunningNetsim(app=app, settings=settings, nc=nc, js=js, http=http)
    finally:
        if http is not None:
            await http.aclose()
        await nc.close()
        app.runtime.stop_event.set()
        await asyncio.wait_for(app.runtime.shutdown(), 15)
    assert not app.failed, f"components failed: {app.failed}"


@pytest.fixture
async def netsim(nats_server: NatsServer, db_url: str) -> AsyncIterator[RunningNetsim]:
    """netsim wired by its composition root and started in-process; stopped (and checked) afterwards."""
    async with started(make_settings(database_url=db_url, nats_url=nats_server.url)) as running:
        yield running
