"""Fixtures: inventory wired as in production, on SQLite and (when configured) PostgreSQL.

The network is another service: these tests take the provisioning commands
inventory writes to its outbox and answer them the way netsim does (the real
round trip through NATS and netsim's HLR is proven end to end in ``tests/e2e``).
The hierarchy comes as accounts' events, applied by the projection's own handler.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from inventory.admin.service import ImportedLine
from inventory.lines.service import Location
from inventory.main import Inventory, build
from inventory.models import BUS
from inventory.operations.availability import Ask, Facts, Verdict
from inventory.operations.records import LineRow
from inventory.settings import InventorySettings
from inventory.stock.service import StockSim
from simfleet.events.v1 import accounts_pb2 as acc
from simfleet.events.v1 import inventory_pb2 as inventory_events_pb2
from simfleet.events.v1 import netsim_pb2 as net
from simfleet.netsim.v1 import hlr_pb2, smsc_pb2
from simfleet_runtime.auth import Principal
from simfleet_runtime.authz import PERMISSIONS, Access, Grant
from simfleet_runtime.bus import Event
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing, database_backends, database_url, drop_postgres_database
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.user_access import UserAccess
from simfleet_runtime.validation import luhn_check_digit
from simfleet_subjects import InventorySubjects

OPERATOR_KEY = "test-operator-key"
EVERYTHING = frozenset(PERMISSIONS)
READER = frozenset({"lines:read"})


def iccid(n: int) -> str:
    body = f"8970199{n:011d}"
    return body + luhn_check_digit(body)


def sim(n: int) -> StockSim:
    return StockSim(iccid(n), f"25001{n:010d}", f"{n % 10**8:08d}", f"{(n * 7) % 10**8:08d}")


@dataclass
class Tree:
    customer: str
    root: str
    north: str
    north_account: str
    south: str
    south_account: str


class FakeAuthority:
    """identity's answer about requesters: whoever is not named holds what they held (the tree's root, everything)."""

    def __init__(self) -> None:
        self.known: dict[str, UserAccess] = {}
        self.down = False
        self.asked: list[str] = []

    async def access(self, customer_id: str, user_id: str) -> UserAccess:
        self.asked.append(user_id)
        if self.down:
            raise ConnectionError("identity is not reachable")
        return self.known.get(user_id, UserAccess(True, (Grant(self.root, EVERYTHING, "profile_manager"),)))

    root = ""


class FakeLocator:
    async def locate(self, msisdn: str) -> Location:
        return Location(msisdn, "250-01-7701-12345", 55.75, 37.61, 150, timestamp(datetime.now(UTC)))


@dataclass
class FakeAvailability:
    """Billing's CheckAvailability: yes, unless told to refuse a number (or to be away)."""

    refusing: dict[str, tuple[str, str]] = field(default_factory=dict)
    away: bool = False
    asked: list[tuple[str, Ask]] = field(default_factory=list)

    async def check(self, customer_id: str, lines: Sequence[LineRow], ask: Ask) -> dict[str, Verdict]:
        if self.away:
            raise ConnectionError("billing is away")
        verdicts = {}
        for line in lines:
            self.asked.append((line.msisdn, ask))
            reason, message = self.refusing.get(line.msisdn, ("", ""))
            verdicts[line.id] = Verdict(Facts.of(line), not reason, reason, message)
        return verdicts


@dataclass
class Network:
    """Answers inventory's provisioning commands like the HLR: yes, unless told to fail a number."""

    failing: dict[str, str] = field(default_factory=dict)
    applied: list[hlr_pb2.ProvisioningItem] = field(default_factory=list)


class Harness:
    def __init__(self, inventory: Inventory, tree: Tree, clock_file: Path) -> None:
        self.inventory = inventory
        self.tree = tree
        self.network = Network()
        self.sent_sms: list[smsc_pb2.SubmitSmsCommand] = []
        self.clock_file = clock_file
        self._next = 1000
        self.authority = FakeAuthority()
        self.availability = FakeAvailability()

    @property
    def db(self) -> Any:
        return self.inventory.runtime.db

    def access(self, *grants: tuple[str, frozenset[str]], user_id: str = "", customer_id: str = "") -> Access:
        principal = Principal(user_id or new_id(), customer_id or self.tree.customer, new_id(), new_id(), 0.0)
        return Access(principal, tuple(Grant(node, perms, "custom") for node, perms in grants))

    def manager(self, user_id: str = "") -> Access:
        return self.access((self.tree.root, EVERYTHING), user_id=user_id or "manager0000000000000000001")

    def numbers(self, count: int) -> list[str]:
        start = self._next
        self._next += count
        return [f"+7999{n:07d}" for n in range(start, start + count)]

    async def add_lines(
        self,
        count: int,
        *,
        node: str | None = None,
        state: str = "active",
        labels: Iterable[str] = (),
        block_type: str = "",
        services: Iterable[str] = (),
    ) -> list[str]:
        node = node or self.tree.north_account
        account = (
            self.tree.north_account if node in (self.tree.north, self.tree.north_account) else self.tree.south_account
        )
        numbers = self.numbers(count)
        lines = [
            ImportedLine(
                msisdn=msisdn,
                sim=sim(int(msisdn[5:])),
                node_id=node,
                personal_account_id=account,
                tariff_code="BIZ-M",
                state=state,
                block_type=block_type,
                labels=tuple(labels),
                services=tuple(services),
            )
            for msisdn in numbers
        ]
        await self.inventory.office.import_lines(customer_id=self.tree.customer, lines=lines)
        await self.drain_commands()  # the HLR registration of imported lines
        return numbers

    async def lines_changed(self) -> list[inventory_events_pb2.LineChanged]:
        """Every line of every ``lines.changed`` event written so far, in order (the outbox keeps them)."""
        async with self.db.sessions() as session:
            payloads = (
                await session.scalars(
                    sa.select(BUS.outbox.c.payload)
                    .where(BUS.outbox.c.subject == InventorySubjects.LINES_CHANGED)
                    .order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
                )
            ).all()
        return [line for p in payloads for line in inventory_events_pb2.LinesChanged.FromString(p).lines]

    async def drain_commands(self) -> list[hlr_pb2.ProvisionCommand]:
        """The provisioning commands written and not yet taken, marked taken."""
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    sa.select(BUS.outbox.c.id, BUS.outbox.c.payload)
                    .where(
                        BUS.outbox.c.subject == "simfleet.netsim.cmd.hlr.provision", BUS.outbox.c.published_at.is_(None)
                    )
                    .order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
                )
            ).all()
            if rows:
                await session.execute(
                    sa.update(BUS.outbox)
                    .where(BUS.outbox.c.id.in_([r[0] for r in rows]))
                    .values(published_at=self.inventory.runtime.clock.now())
                )
        return [hlr_pb2.ProvisionCommand.FromString(r[1]) for r in rows]

    async def drain_sms(self) -> list[smsc_pb2.SubmitSmsCommand]:
        """The SMS inventory asked the SMSC to send and not yet taken, marked taken."""
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    sa.select(BUS.outbox.c.id, BUS.outbox.c.payload)
                    .where(
                        BUS.outbox.c.subject == "simfleet.netsim.cmd.sms.submit", BUS.outbox.c.published_at.is_(None)
                    )
                    .order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
                )
            ).all()
            if rows:
                await session.execute(
                    sa.update(BUS.outbox)
                    .where(BUS.outbox.c.id.in_([r[0] for r in rows]))
                    .values(published_at=self.inventory.runtime.clock.now())
                )
        return [smsc_pb2.SubmitSmsCommand.FromString(r[1]) for r in rows]

    async def deliver(self, sms: smsc_pb2.SubmitSmsCommand) -> None:
        """The SMSC's delivery receipt for ``sms``, as inventory's consumer gets it."""
        receipt = net.SmsDelivered(message_id=sms.message_id, to_msisdn=sms.to_msisdn)
        event = Event(new_id(), "simfleet.netsim.sms.delivered", receipt.SerializeToString(), {}, "", 1)
        async with self.db.transaction() as session:
            await self.inventory.engine.receipts_handler()(session, event)

    def result_of(self, command: hlr_pb2.ProvisionCommand) -> net.ProvisioningResult:
        results = []
        for item in command.items:
            reason = self.network.failing.get(item.msisdn)
            if reason is None:
                self.network.applied.append(item)
                results.append(hlr_pb2.ItemResult(item_id=item.item_id, ok=True))
            else:
                results.append(
                    hlr_pb2.ItemResult(
                        item_id=item.item_id,
                        ok=False,
                        failure=hlr_pb2.PROVISIONING_FAILURE_SYSTEM_FAILURE,
                        reason=reason,
                    )
                )
        return net.ProvisioningResult(
            command_id=command.command_id, correlation_id=command.correlation_id, results=results
        )

    async def answer(self, result: net.ProvisioningResult) -> None:
        async with self.db.transaction() as session:
            await self.inventory.engine.apply_results(session, result)

    async def run(self, rounds: int = 100) -> None:
        """Step the engine and answer every command until nothing is left to do."""
        for _ in range(rounds):
            worked = await self.inventory.engine.step()
            commands = await self.drain_commands()
            for command in commands:
                await self.answer(self.result_of(command))
            messages = await self.drain_sms()
            for sms in messages:
                self.sent_sms.append(sms)
                await self.deliver(sms)
            if not worked and not commands and not messages:
                return
        raise AssertionError("the engine did not settle")

    def set_clock_offset(self, seconds: float) -> None:
        self.clock_file.write_text(str(seconds))
        time.sleep(0.06)


def node_created(node_id: str, customer: str, parent: str, path: str, kind: str) -> Event:
    message = acc.NodeCreated(
        node=acc.NodeSnapshot(node_id=node_id, customer_id=customer, parent_id=parent, kind=kind, path=path)
    )
    return Event(
        id=new_id(),
        subject="simfleet.accounts.node.created",
        data=message.SerializeToString(),
        headers={},
        tenant=customer,
        deliveries=1,
    )


async def grow_tree(inventory: Inventory) -> Tree:
    customer, root, north, north_acc, south, south_acc = (new_id() for _ in range(6))
    handler = inventory.paths.handler()
    async with inventory.runtime.db.transaction() as session:
        for node_id, parent, path, kind in (
            (root, "", f"/{root}/", "company"),
            (north, root, f"/{root}/{north}/", "department"),
            (north_acc, north, f"/{root}/{north}/{north_acc}/", "personal_account"),
            (south, root, f"/{root}/{south}/", "department"),
            (south_acc, south, f"/{root}/{south}/{south_acc}/", "personal_account"),
        ):
            await handler(session, node_created(node_id, customer, parent, path, kind))
    return Tree(customer, root, north, north_acc, south, south_acc)


@pytest.fixture
def ring() -> KeyRing:
    ring = KeyRing()
    ring.new_key("k1")
    return ring


def settings_for(url: str, clock_file: Path, **overrides: Any) -> InventorySettings:
    values: dict[str, Any] = {
        "database_url": url,
        "operator_key": OPERATOR_KEY,
        "log_json": False,
        "clock_file": str(clock_file),
        "command_batch_size": 20,
        "max_in_flight_items": 60,
        "max_lines_per_operation": 500,
    }
    values.update(overrides)
    return InventorySettings(**values)


@pytest.fixture(params=database_backends())
async def harness(request: pytest.FixtureRequest, tmp_path: Path, ring: KeyRing) -> AsyncIterator[Harness]:
    name = f"inventory_test_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    clock_file = tmp_path / "clock"
    overrides = getattr(request, "param_overrides", {})
    authority = FakeAuthority()
    availability = FakeAvailability()
    inventory = build(
        settings_for(url, clock_file, **overrides),
        jwks=ring.fetch,
        locator=FakeLocator(),
        authority=authority,
        availability=availability,
    )
    await inventory.runtime.migrate()
    try:
        harness = Harness(inventory, await grow_tree(inventory), clock_file)
        authority.root = harness.tree.root
        harness.authority = authority
        harness.availability = availability
        yield harness
    finally:
        await inventory.runtime.db.dispose()
        if request.param == "postgresql":
            await drop_postgres_database(name)


@pytest.fixture(params=database_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    name = f"inventory_m_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    yield url
    if request.param == "postgresql":
        await drop_postgres_database(name)
