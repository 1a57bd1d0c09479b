"""Fixtures: notifications wired as in production, on a private NATS, on SQLite and (when configured) PostgreSQL.

The other services are not running: the tests publish their events on their
streams (declared here as their owners declare them), write notifications'
copy of the tree (``node_paths``) directly as its consumer of accounts' node
events would, and answer for identity's ``GetUserAccess`` with :class:`Grants`.
SMS commands are read back from netsim's command stream, which nobody
consumes here.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.message import Message

from notifications.main import Notifications, build
from notifications.models import NODE_PATHS
from notifications.notices.models import Notice, NoticeEvent
from notifications.settings import NotificationsSettings
from simfleet.events.v1 import identity_pb2
from simfleet.netsim.v1 import smsc_pb2
from simfleet.notifications.v1 import notices_pb2_grpc
from simfleet_runtime.authz import Grant, grants_claim
from simfleet_runtime.bus import StreamSpec, connect_nats, ensure_streams
from simfleet_runtime.bus import headers as h
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
from simfleet_runtime.user_access import NOBODY, UserAccess
from simfleet_subjects import (
    AccountsSubjects,
    BillingSubjects,
    IdentitySubjects,
    InventorySubjects,
    NetsimSubjects,
    TicketingSubjects,
)

Metadata = tuple[tuple[str, str], ...]

OTHER_STREAMS = [
    StreamSpec(name=IdentitySubjects.STREAM, subjects=list(IdentitySubjects.STREAM_SUBJECTS)),
    StreamSpec(name=AccountsSubjects.STREAM, subjects=list(AccountsSubjects.STREAM_SUBJECTS)),
    StreamSpec(name=TicketingSubjects.STREAM, subjects=list(TicketingSubjects.STREAM_SUBJECTS)),
    StreamSpec(name=InventorySubjects.STREAM, subjects=list(InventorySubjects.STREAM_SUBJECTS)),
    StreamSpec(name=BillingSubjects.STREAM, subjects=list(BillingSubjects.STREAM_SUBJECTS)),
    StreamSpec(name=NetsimSubjects.COMMAND_STREAM, subjects=list(NetsimSubjects.COMMAND_SUBJECTS)),
]


class Grants:
    """identity's answer to GetUserAccess, as the tests set it; counts the questions."""

    def __init__(self) -> None:
        self.held: dict[tuple[str, str], UserAccess] = {}
        self.asked = 0

    def give(self, customer_id: str, user_id: str, *grants: Grant) -> None:
        self.held[(customer_id, user_id)] = UserAccess(active=True, grants=grants)

    async def access(self, customer_id: str, user_id: str) -> UserAccess:
        self.asked += 1
        return self.held.get((customer_id, user_id), NOBODY)


def settings_for(url: str, **overrides: Any) -> NotificationsSettings:
    values: dict[str, Any] = {"database_url": url, "log_json": False}
    values.update(overrides)
    return NotificationsSettings(**values)


class Running:
    """notifications serving on a port, a customer's tree (company → branch, other branch) and its users."""

    def __init__(
        self,
        make: Callable[[], Notifications],
        ring: KeyRing,
        grants: Grants,
        clock_file: Path,
        nats: NatsServer,
    ) -> None:
        self.make = make
        self.ring = ring
        self.grants = grants
        self.clock_file = clock_file
        self.nats = nats
        self.customer_id = new_id()
        self.company = new_id()
        self.branch = new_id()
        self.other_branch = new_id()
        self.notifications: Notifications = make()
        self.channel: grpc.aio.Channel | None = None
        self.nc: Any = None
        self.js: Any = None
        """The tests' own connection: they publish as the other services do and read netsim's commands."""

    @property
    def db(self) -> Any:
        return self.notifications.runtime.db

    async def start(self) -> None:
        await self.notifications.runtime.start()
        self.channel = make_channel(f"127.0.0.1:{self.notifications.runtime.bound_port}")

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.close()
            self.channel = None
        await self.notifications.runtime.shutdown()

    async def restart(self) -> None:
        await self.stop()
        self.notifications = self.make()
        await self.start()

    async def tree(self) -> None:
        now = self.notifications.runtime.clock.now()
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

    async def publish(self, subject: str, message: Message, *, event_id: str | None = None) -> str:
        event_id = event_id or new_id()
        headers = {h.MSG_ID: event_id, h.TENANT: self.customer_id, h.EVENT_TYPE: message.DESCRIPTOR.full_name}
        await self.js.publish(subject, message.SerializeToString(), headers=headers)
        return event_id

    async def user(self, user_id: str, *grants: Grant, phone: str = "", email: str = "") -> str:
        """A user identity announced, with the grants identity would answer for."""
        phone = phone or f"+7916{abs(hash(user_id)) % 10**7:07d}"
        await self.publish(
            IdentitySubjects.USER_CREATED,
            identity_pb2.UserCreated(user_id=user_id, customer_id=self.customer_id, phone=phone, email=email),
        )
        self.grants.give(self.customer_id, user_id, *grants)

        async def known() -> bool:
            async with self.db.sessions() as session:
                found = await session.scalar(sa.text("SELECT count(*) FROM users WHERE user_id = :u"), {"u": user_id})
                return bool(found == 1)

        await eventually(known, what=f"user {user_id} known")
        return phone

    def bearer(self, user: str) -> Metadata:
        now = int(self.notifications.runtime.clock.now().timestamp())
        token = self.ring.token(
            "k1",
            sub=user,
            cid=self.customer_id,
            grants=grants_claim([Grant(self.company, frozenset({"tickets:read"}))]),
            iat=now,
            exp=now + 600,
        )
        return (("authorization", f"Bearer {token}"),)

    @property
    def api(self) -> notices_pb2_grpc.NoticeServiceStub:
        assert self.channel is not None
        return notices_pb2_grpc.NoticeServiceStub(self.channel)

    async def sms(self) -> list[smsc_pb2.SubmitSmsCommand]:
        """Every SMS command on netsim's command stream, in order."""
        info = await self.js.stream_info(NetsimSubjects.COMMAND_STREAM)
        found: list[smsc_pb2.SubmitSmsCommand] = []
        if not info.state.messages:
            return found
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await self.js.get_msg(NetsimSubjects.COMMAND_STREAM, seq)
            if message.subject == NetsimSubjects.SUBMIT_SMS and message.data is not None:
                found.append(smsc_pb2.SubmitSmsCommand.FromString(message.data))
        return found

    async def sms_to(self, phone: str, count: int) -> list[smsc_pb2.SubmitSmsCommand]:
        """Once ``count`` SMS went to ``phone``: them."""

        async def arrived() -> list[smsc_pb2.SubmitSmsCommand] | None:
            mine = [m for m in await self.sms() if m.to_msisdn == phone]
            return mine if len(mine) >= count else None

        return await eventually(arrived, what=f"{count} SMS to {phone}")

    async def notices(self, user_id: str) -> list[Notice]:
        async with self.db.sessions() as session:
            rows = await session.scalars(sa.select(Notice).where(Notice.user_id == user_id).order_by(Notice.created_at))
            return list(rows)

    async def accepted(self, user_id: str) -> int:
        async with self.db.sessions() as session:
            return int(
                await session.scalar(
                    sa.select(sa.func.count()).select_from(NoticeEvent).where(NoticeEvent.user_id == user_id)
                )
                or 0
            )

    def move_clock(self, seconds: float) -> None:
        self.clock_file.write_text(str(seconds))
        time.sleep(0.06)  # the clock reads its offset at most every 50 ms


@pytest.fixture
def ring() -> KeyRing:
    ring = KeyRing()
    ring.new_key("k1")
    return ring


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test module changes (a grouping window)."""
    return {}


@pytest.fixture(params=database_backends())
async def running(
    request: pytest.FixtureRequest, tmp_path: Path, ring: KeyRing, overrides: dict[str, Any]
) -> AsyncIterator[Running]:
    name = f"notifications_test_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    clock_file = tmp_path / "clock"
    grants = Grants()
    port = free_port()
    try:
        with NatsServer(tmp_path / "nats") as server:
            values: dict[str, Any] = {
                "nats_url": server.url,
                "grpc_port": port,
                "metrics_port": 0,
                "outbox_poll_seconds": 0.05,
                "health_check_interval_seconds": 0.1,
                "shutdown_grace_seconds": 2.0,
                "clock_file": str(clock_file),
                "grouping_window_seconds": 0.0,
                "sender_interval_seconds": 0.05,
                "access_cache_seconds": 0.0,
            }
            values.update(overrides)
            settings = settings_for(url, **values)

            def make() -> Notifications:
                return build(settings, jwks=ring.fetch, access=grants)

            running = Running(make, ring, grants, clock_file, server)
            running.nc = await connect_nats(server.url, name="notifications-tests")
            running.js = running.nc.jetstream()
            await ensure_streams(running.js, OTHER_STREAMS)
            await running.start()
            try:
                await running.tree()
                yield running
            finally:
                await running.stop()
                await running.nc.close()
    finally:
        if request.param == "postgresql":
            await drop_postgres_database(name)


@pytest.fixture(params=database_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend, dropped afterwards."""
    name = f"notifications_m_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    yield url
    if request.param == "postgresql":
        await drop_postgres_database(name)
