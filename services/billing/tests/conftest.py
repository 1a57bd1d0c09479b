"""Fixtures: billing wired as in production, on SQLite and (when configured) PostgreSQL.

accounts owns the tree: these tests write billing's copy of it (``node_paths``)
directly, as its consumer of accounts' node events would. Access tokens are
signed by a key published the way identity publishes its JWKS.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from billing.ledger.models import OPERATOR_KINDS, LedgerAccount
from billing.ledger.service import CREDIT, DEBIT, Leg, NewAccount, NewEntry, Recorded
from billing.main import Billing, build
from billing.models import NODE_PATHS
from billing.settings import BillingSettings
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing, database_backends, database_url, drop_postgres_database

OPERATOR_KEY = "test-operator-key"


class Harness:
    def __init__(self, billing: Billing, clock_file: Path) -> None:
        self.billing = billing
        self.clock_file = clock_file
        self.customer_id = new_id()
        self.company_id = new_id()
        self.operator: dict[str, LedgerAccount] = {}

    @property
    def db(self) -> Any:
        return self.billing.runtime.db

    async def node(self, node_id: str, path: str, *, customer_id: str = "", kind: str = "personal_account") -> None:
        async with self.db.transaction() as session:
            await session.execute(
                sa.insert(NODE_PATHS).values(
                    node_id=node_id,
                    customer_id=customer_id or self.customer_id,
                    path=path,
                    kind=kind,
                    updated_at=self.billing.runtime.clock.now(),
                )
            )

    async def personal(
        self, method: str = "prepaid", credit_limit: int = 0, *, currency: str = "RUB", customer_id: str = ""
    ) -> LedgerAccount:
        """A new personal account under the company node, with its ledger account."""
        customer = customer_id or self.customer_id
        node_id = new_id()
        await self.node(node_id, f"/{self.company_id}/{node_id}/", customer_id=customer)
        return await self.billing.ledger.open_account(
            NewAccount(
                kind="personal",
                currency=currency,
                customer_id=customer,
                personal_account_id=node_id,
                settlement_method=method,
                credit_limit=credit_limit,
            )
        )

    async def operator_account(self, kind: str, currency: str = "RUB") -> LedgerAccount:
        assert kind in OPERATOR_KINDS
        return await self.billing.ledger.open_account(NewAccount(kind=kind, currency=currency))

    async def move(
        self, entry_id: str, debit: str, credit: str, amount: int, *, pending: bool = False, currency: str = "RUB"
    ) -> Recorded:
        return await self.billing.ledger.post(
            NewEntry(
                id=entry_id,
                kind="transfer",
                currency=currency,
                legs=(Leg(debit, DEBIT, amount), Leg(credit, CREDIT, amount)),
                pending=pending,
            )
        )

    async def account(self, account_id: str) -> LedgerAccount:
        return await self.billing.ledger.account(account_id)

    def move_clock(self, seconds: float) -> None:
        self.clock_file.write_text(str(seconds))
        time.sleep(0.06)  # the clock reads its offset at most every 50 ms


@pytest.fixture
def ring() -> KeyRing:
    ring = KeyRing()
    ring.new_key("k1")
    return ring


def settings_for(url: str, **overrides: Any) -> BillingSettings:
    values: dict[str, Any] = {"database_url": url, "operator_key": OPERATOR_KEY, "log_json": False}
    values.update(overrides)
    return BillingSettings(**values)


@pytest.fixture(params=database_backends())
async def harness(request: pytest.FixtureRequest, tmp_path: Path, ring: KeyRing) -> AsyncIterator[Harness]:
    name = f"billing_test_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    clock_file = tmp_path / "clock"
    billing = build(settings_for(url, clock_file=str(clock_file)), jwks=ring.fetch)
    await billing.runtime.migrate()
    try:
        yield Harness(billing, clock_file)
    finally:
        await billing.runtime.shutdown()
        if request.param == "postgresql":
            await drop_postgres_database(name)


@pytest.fixture(params=database_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend, dropped afterwards."""
    name = f"billing_m_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    yield url
    if request.param == "postgresql":
        await drop_postgres_database(name)
