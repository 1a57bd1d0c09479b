"""Fixtures: identity wired as in production, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from identity.main import Identity, build
from identity.models import BUS
from identity.settings import IdentitySettings
from simfleet.events.v1 import identity_pb2 as ev
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime.context import CallContext
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import database_backends, database_url

CUSTOMER = "01M80FS1VH2MZKYX1PNS53P8M2"
PHONE = "+79990000001"
EMAIL = "manager@demo.example"
PASSWORD = "Demo-Passw0rd-2026"
CALL = CallContext(client_address="198.51.100.7", user_agent="pytest")


class Harness:
    def __init__(self, identity: Identity, clock_file: Path) -> None:
        self.identity = identity
        self.clock_file = clock_file
        self._offset = 0.0

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.identity.runtime.db

    @property
    def identity_roles(self):  # type: ignore[no-untyped-def]
        from identity.grants.catalogue import RoleCatalogue

        return RoleCatalogue(
            db=self.db,
            clock=self.identity.runtime.clock,
            outbox=self.identity.runtime.outbox,
            paths=self.identity.paths,
            audit=self.identity.runtime.audit,
        )

    def advance(self, seconds: float) -> None:
        self._offset += seconds
        self.clock_file.write_text(str(self._offset))
        self.identity.runtime.clock._checked = float("-inf")  # type: ignore[attr-defined]

    async def outbox(self, subject: str) -> list[bytes]:
        """The messages queued on ``subject``, opened when sealed (as the relay publishes them)."""
        async with self.db.sessions() as session:
            rows = await session.execute(
                sa.select(BUS.outbox.c.id, BUS.outbox.c.payload, BUS.outbox.c.headers)
                .where(BUS.outbox.c.subject == subject)
                .order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
            )
            return [self.identity.runtime.outbox.payload(r) for r in rows.mappings()]

    async def sms_to(self, phone: str) -> list[str]:
        commands = [
            smsc_pb2.SubmitSmsCommand.FromString(p) for p in await self.outbox("simfleet.netsim.cmd.sms.submit")
        ]
        return [c.text for c in commands if c.to_msisdn == phone]

    async def emails_to(self, address: str) -> list[ev.EmailRequested]:
        requests = [ev.EmailRequested.FromString(p) for p in await self.outbox("simfleet.identity.email.requested")]
        return [r for r in requests if r.to_address == address]

    async def last_code(self, phone: str) -> str:
        texts = [t for t in await self.sms_to(phone) if "code" in t]
        assert texts, f"no code was sent to {phone}"
        match = re.search(r"\b(\d{6})\b", texts[-1])
        assert match
        return match.group(1)


@pytest.fixture(params=database_backends())
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    url = await database_url(request.param, f"identity_test_{new_id().lower()}", tmp_path)
    clock_file = tmp_path / "clock"
    clock_file.write_text("0")
    settings = IdentitySettings(
        database_url=url,
        clock_file=str(clock_file),
        operator_key="test-operator-key",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        log_json=False,
    )
    identity = build(settings)
    await identity.runtime.migrate()
    try:
        yield Harness(identity, clock_file)
    finally:
        await identity.runtime.db.dispose()


@pytest.fixture
async def manager(harness: Harness):  # type: ignore[no-untyped-def]
    return await harness.identity.users.create(
        customer_id=CUSTOMER, phone=PHONE, email=EMAIL, display_name="Demo Profile Manager", password=PASSWORD
    )
