"""Fixtures: accounts wired as in production, on SQLite and (when configured) PostgreSQL.

Identity is another service: these tests stand in for it with a recorder of
the users accounts asks it to create (the real call is proven end to end in
``tests/e2e``), and sign their own access tokens with a key published the way
identity publishes its JWKS. Inventory, which accounts asks what a node holds
before deleting it, is a scripted gRPC server on a free port
(:class:`FakeInventory`): the real client and channel talk to it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from accounts.customers.identity_client import NewUser
from accounts.customers.legal import LegalEntity
from accounts.customers.service import AccountSpec, Manager, Onboarded, Onboarding
from accounts.main import Accounts, build
from accounts.models import BUS
from accounts.settings import AccountsSettings
from simfleet.inventory.v1 import nodes_pb2, nodes_pb2_grpc
from simfleet_runtime.auth import Principal
from simfleet_runtime.authz import PERMISSIONS, Access, Grant
from simfleet_runtime.errors import DomainError
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing, database_backends, database_url, drop_postgres_database

OPERATOR_KEY = "test-operator-key"
PROFILE_MANAGER = frozenset(PERMISSIONS)
VIEWER = frozenset(p for p in PERMISSIONS if p.endswith(":read") and p != "lines:read-puk")


@dataclass
class FakeIdentity:
    """Records the users accounts creates; ``fail_with`` makes the next calls fail."""

    created: dict[str, NewUser] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    fail_with: DomainError | None = None
    calls: int = 0

    async def create_user(self, user: NewUser) -> str:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        if user.request_id not in self.ids:
            self.ids[user.request_id] = new_id()
            self.created[user.request_id] = user
        return self.ids[user.request_id]


class FakeInventory(nodes_pb2_grpc.NodeHoldingsServiceServicer):
    """inventory's NodeHoldingsService, scripted: what each node holds, and the calls it got (node id, metadata).

    ``delay`` holds every answer back; ``refuse`` answers with that status instead; ``stop()`` takes it away.
    """

    def __init__(self) -> None:
        self.held: dict[str, nodes_pb2.GetNodeHoldingsResponse] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.delay = 0.0
        self.refuse: tuple[grpc.StatusCode, str] | None = None
        self.target = ""
        self._server: grpc.aio.Server | None = None

    def hold(self, node_id: str, *, lines: dict[str, int] | None = None, operations: int = 0, items: int = 0) -> None:
        self.held[node_id] = nodes_pb2.GetNodeHoldingsResponse(lines=lines or {}, operations=operations, items=items)

    async def GetNodeHoldings(self, request: nodes_pb2.GetNodeHoldingsRequest, context: Any) -> Any:
        self.calls.append((request.node_id, {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse is not None:
            await context.abort(*self.refuse)
        return self.held.get(request.node_id, nodes_pb2.GetNodeHoldingsResponse())

    async def start(self) -> None:
        self._server = grpc.aio.server()
        nodes_pb2_grpc.add_NodeHoldingsServiceServicer_to_server(self, self._server)
        # Back on the same port after stop(): accounts' channel finds it again.
        self.target = f"127.0.0.1:{self._server.add_insecure_port(self.target or '127.0.0.1:0')}"
        await self._server.start()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(None)
            self._server = None


def _inn10(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(9)]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return "".join(map(str, digits)) + str(sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def _ogrn13(rng: random.Random) -> str:
    body = "1" + "".join(str(rng.randrange(10)) for _ in range(11))
    return body + str(int(body) % 11 % 10)


class Harness:
    def __init__(self, accounts: Accounts, identity: FakeIdentity, ring: KeyRing, inventory: FakeInventory) -> None:
        self.accounts = accounts
        self.identity = identity
        self.ring = ring
        self.inventory = inventory
        self._rng = random.Random(7)
        self._numbers = iter(range(4000_0000_0001, 4999_0000_0000))

    @property
    def db(self) -> Any:
        return self.accounts.runtime.db

    def account_number(self) -> str:
        return str(next(self._numbers))

    def request(self, **overrides: Any) -> Onboarding:
        """A valid onboarding: 2 business accounts with 2 personal accounts each."""
        values: dict[str, Any] = {
            "request_id": new_id(),
            "legal": LegalEntity("Demo Logistics LLC", _inn10(self._rng), _ogrn13(self._rng), "773601001"),
            "contracts": (("SF-2026/" + new_id()[-6:], "2026-01-15"),),
            "general_account": AccountSpec("General account", self.account_number()),
            "business_accounts": tuple(
                AccountSpec(
                    f"Business {b}",
                    self.account_number(),
                    tuple(AccountSpec(f"Personal {b}.{p}", self.account_number()) for p in (1, 2)),
                )
                for b in (1, 2)
            ),
            "manager": Manager(f"+7999{self._rng.randrange(10**7):07d}", "manager@demo.example", "Profile Manager"),
        }
        values.update(overrides)
        return Onboarding(**values)

    async def onboard(self, **overrides: Any) -> Onboarded:
        return await self.accounts.customers.onboard(self.request(**overrides))

    def access(self, customer_id: str, *grants: tuple[str, frozenset[str]], user_id: str = "") -> Access:
        principal = Principal(user_id or new_id(), customer_id, new_id(), new_id(), 0.0)
        return Access(principal, tuple(Grant(node, perms, "custom") for node, perms in grants))

    async def outbox(self, subject: str | None = None) -> list[tuple[str, bytes]]:
        query = sa.select(BUS.outbox.c.subject, BUS.outbox.c.payload).order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
        if subject is not None:
            query = query.where(BUS.outbox.c.subject == subject)
        async with self.db.sessions() as session:
            return [(s, p) for s, p in await session.execute(query)]


@pytest.fixture
def ring() -> KeyRing:
    ring = KeyRing()
    ring.new_key("k1")
    return ring


def settings_for(url: str, **overrides: Any) -> AccountsSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "operator_key": OPERATOR_KEY,
        "log_json": False,
        "max_tree_depth": 6,
        "max_nodes_per_customer": 60,
        "inventory_timeout_seconds": 0.5,
    }
    values.update(overrides)
    return AccountsSettings(**values)


@pytest.fixture
async def inventory() -> AsyncIterator[FakeInventory]:
    fake = FakeInventory()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture(params=database_backends())
async def harness(
    request: pytest.FixtureRequest, tmp_path: Path, ring: KeyRing, inventory: FakeInventory
) -> AsyncIterator[Harness]:
    name = f"accounts_test_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    identity = FakeIdentity()
    accounts = build(settings_for(url, inventory_target=inventory.target), identity=identity, jwks=ring.fetch)
    await accounts.runtime.migrate()
    try:
        yield Harness(accounts, identity, ring, inventory)
    finally:
        await accounts.runtime.shutdown()  # closes the channel to inventory and the database
        if request.param == "postgresql":
            await drop_postgres_database(name)


@pytest.fixture(params=database_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend, dropped afterwards."""
    name = f"accounts_m_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    yield url
    if request.param == "postgresql":
        await drop_postgres_database(name)
