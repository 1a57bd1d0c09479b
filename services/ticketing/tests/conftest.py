"""Fixtures: ticketing wired as in production, served on a real channel, on SQLite and (when configured) PostgreSQL.

accounts owns the tree: these tests write ticketing's copy of it (``node_paths``)
directly, as its consumer of accounts' node events would. Access tokens are
signed by a key published the way identity publishes its JWKS.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from simfleet.accounts.v1 import hierarchy_pb2, hierarchy_pb2_grpc
from simfleet.identity.v1 import common_pb2, profile_pb2, profile_pb2_grpc
from simfleet.ticketing.v1 import forms_pb2_grpc, support_pb2_grpc, tickets_pb2, tickets_pb2_grpc
from simfleet_runtime.authz import Grant, grants_claim
from simfleet_runtime.errors import read_error
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import (
    KeyRing,
    NatsServer,
    database_backends,
    database_url,
    drop_postgres_database,
    eventually,
    free_port,
)
from simfleet_subjects import TicketingSubjects
from ticketing.main import Ticketing, build
from ticketing.models import BUS, NODE_PATHS
from ticketing.settings import TicketingSettings

OPERATOR_KEY = "test-operator-key"
WRITER = frozenset({"tickets:read", "tickets:write"})
READER = frozenset({"tickets:read"})
Metadata = tuple[tuple[str, str], ...]


def settings_for(url: str, **overrides: Any) -> TicketingSettings:
    values: dict[str, Any] = {"database_url": url, "operator_key": OPERATOR_KEY, "log_json": False}
    values.update(overrides)
    return TicketingSettings(**values)


class Directory(hierarchy_pb2_grpc.HierarchyServiceServicer, profile_pb2_grpc.ProfileServiceServicer):
    """Stands in for accounts' GetNode and identity's GetMe, which a form's details come from, over a real channel.

    It shows the nodes it was given to any caller and records the tokens it was asked with.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, hierarchy_pb2.Node] = {}
        self.user = common_pb2.User(display_name="Anna Smirnova", phone="+79161234567", email="anna@example.com")
        self.tokens: list[str] = []
        self.unavailable = False
        self.port = 0

    def _asked(self, context: grpc.aio.ServicerContext) -> None:
        self.tokens.append(dict(context.invocation_metadata() or ()).get("authorization", ""))

    async def GetNode(self, request: Any, context: grpc.aio.ServicerContext) -> hierarchy_pb2.GetNodeResponse:
        self._asked(context)
        if self.unavailable:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "down")
        node = self.nodes.get(request.node_id)
        if node is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such node")
        return hierarchy_pb2.GetNodeResponse(node=node)

    async def GetMe(self, request: Any, context: grpc.aio.ServicerContext) -> profile_pb2.GetMeResponse:
        self._asked(context)
        return profile_pb2.GetMeResponse(user=self.user)


@pytest.fixture
async def directory() -> AsyncIterator[Directory]:
    stand_in = Directory()
    server = grpc.aio.server()
    hierarchy_pb2_grpc.add_HierarchyServiceServicer_to_server(stand_in, server)
    profile_pb2_grpc.add_ProfileServiceServicer_to_server(stand_in, server)
    stand_in.port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield stand_in
    finally:
        await server.stop(grace=None)


class Running:
    """ticketing serving on a port, a customer's tree (company → branch, and another branch) and callers."""

    def __init__(self, ticketing: Ticketing, target: str, ring: KeyRing, clock_file: Path) -> None:
        self.ticketing = ticketing
        self.target = target
        self.ring = ring
        self.clock_file = clock_file
        self.customer_id = new_id()
        self.company = new_id()
        self.branch = new_id()
        self.other_branch = new_id()
        self.channel: grpc.aio.Channel | None = None

    @property
    def db(self) -> Any:
        return self.ticketing.runtime.db

    async def tree(self) -> None:
        now = self.ticketing.runtime.clock.now()
        rows = [
            (self.company, f"/{self.company}/", "company"),
            (self.branch, f"/{self.company}/{self.branch}/", "department"),
            (self.other_branch, f"/{self.company}/{self.other_branch}/", "department"),
        ]
        async with self.db.transaction() as session:
            for node_id, path, kind in rows:
                await session.execute(
                    sa.insert(NODE_PATHS).values(
                        node_id=node_id, customer_id=self.customer_id, path=path, kind=kind, updated_at=now
                    )
                )

    def _times(self) -> dict[str, int]:
        """A token's times on the service's clock (the tests move it by days)."""
        now = int(self.ticketing.runtime.clock.now().timestamp())
        return {"iat": now, "exp": now + 600}

    def bearer(self, *grants: Grant, user: str = "user-1", customer_id: str = "") -> Metadata:
        token = self.ring.token(
            "k1", sub=user, cid=customer_id or self.customer_id, grants=grants_claim(grants), **self._times()
        )
        return (("authorization", f"Bearer {token}"),)

    def manager(self, user: str = "user-1") -> Metadata:
        """A manager of the whole company."""
        return self.bearer(Grant(self.company, WRITER), user=user)

    def support(self, *perms: str, user: str = "agent-1") -> Metadata:
        claim = {"role": "support", "perms": list(perms or ["customers:read"])}
        token = self.ring.token("k1", sub=user, cid="", op=claim, **self._times())
        return (("authorization", f"Bearer {token}"),)

    @property
    def tickets(self) -> tickets_pb2_grpc.TicketServiceStub:
        assert self.channel is not None
        return tickets_pb2_grpc.TicketServiceStub(self.channel)

    @property
    def forms(self) -> forms_pb2_grpc.FormServiceStub:
        assert self.channel is not None
        return forms_pb2_grpc.FormServiceStub(self.channel)

    @property
    def desk(self) -> support_pb2_grpc.SupportServiceStub:
        assert self.channel is not None
        return support_pb2_grpc.SupportServiceStub(self.channel)

    async def file(self, metadata: Metadata | None = None, **fields: Any) -> tickets_pb2.Ticket:
        values: dict[str, Any] = {
            "node_id": self.branch,
            "type": "fault",
            "topic": "No data on two lines",
            "description": "Since this morning lines +79160000001 and +79160000002 have no data.",
            "severity": "high",
            "contact_msisdn": "+79161234567",
        }
        values.update(fields)
        answer = await self.tickets.CreateTicket(
            tickets_pb2.CreateTicketRequest(**values), metadata=metadata or self.manager()
        )
        return answer.ticket

    def move_clock(self, seconds: float) -> None:
        self.clock_file.write_text(str(seconds))
        time.sleep(0.06)  # the clock reads its offset at most every 50 ms


async def published(running: Running, subject: str) -> list[bytes]:
    """The payloads published on ``subject``, in order, once the outbox has sent everything written so far."""
    outbox = BUS.outbox

    async def sent() -> bool:
        async with running.db.sessions() as session:
            left = await session.scalar(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        return left == 0

    await eventually(sent, what="the outbox sent")
    js = running.ticketing.runtime.js
    assert js is not None
    info = await js.stream_info(TicketingSubjects.STREAM)
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(TicketingSubjects.STREAM, seq)
        if message.subject == subject and message.data is not None:
            found.append(message.data)
    return found


async def failure(call: object) -> tuple[grpc.StatusCode, str, dict[str, str], dict[str, str]]:
    """A refused call's code, reason, field violations and metadata."""
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call  # type: ignore[misc]
    details = read_error(failed.value)
    return details.code, details.reason, details.field_violations, details.metadata


@pytest.fixture
def ring() -> KeyRing:
    ring = KeyRing()
    ring.new_key("k1")
    return ring


@pytest.fixture(params=database_backends())
async def running(
    request: pytest.FixtureRequest, tmp_path: Path, ring: KeyRing, directory: Directory
) -> AsyncIterator[Running]:
    name = f"ticketing_test_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    clock_file = tmp_path / "clock"
    try:
        with NatsServer(tmp_path / "nats") as server:
            settings = settings_for(
                url,
                nats_url=server.url,
                grpc_port=free_port(),
                metrics_port=0,
                outbox_poll_seconds=0.05,
                health_check_interval_seconds=0.1,
                shutdown_grace_seconds=2.0,
                clock_file=str(clock_file),
                sweep_interval_seconds=3600.0,  # the tests sweep when they mean to
                accounts_target=f"127.0.0.1:{directory.port}",
                identity_target=f"127.0.0.1:{directory.port}",
            )
            ticketing = build(settings, jwks=ring.fetch)
            await ticketing.runtime.start()
            try:
                running = Running(ticketing, f"127.0.0.1:{ticketing.runtime.bound_port}", ring, clock_file)
                await running.tree()
                async with make_channel(running.target) as channel:
                    running.channel = channel
                    yield running
            finally:
                await ticketing.runtime.shutdown()
    finally:
        if request.param == "postgresql":
            await drop_postgres_database(name)


@pytest.fixture(params=database_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend, dropped afterwards."""
    name = f"ticketing_m_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    yield url
    if request.param == "postgresql":
        await drop_postgres_database(name)
