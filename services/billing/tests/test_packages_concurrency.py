"""Real concurrent transactions on PostgreSQL: racing purchases stop at the floor, lines racing share a group pool."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from billing.catalogue.packages import GIBIBYTE, OFFERS_BY_CODE
from billing.catalogue.plans import MEBIBYTE
from billing.packages.models import PACKAGES, PURCHASES
from billing.packages.service import PurchaseRequest
from billing.rating.models import USAGE
from simfleet_runtime.errors import DomainError
from simfleet_runtime.testing import postgres_base_url

from .conftest import Harness  # type: ignore[import-not-found]
from .test_concurrency import pg  # type: ignore[import-not-found]
from .test_packages import access, company, fund, lines  # type: ignore[import-not-found]
from .test_rating import record  # type: ignore[import-not-found]

pytestmark = pytest.mark.skipif(postgres_base_url() is None, reason="needs SIMFLEET_TEST_POSTGRES_URL")
__all__ = ["pg"]
PRICE = OFFERS_BY_CODE["DATA-1G"].price


async def test_racing_purchases_never_take_a_prepaid_account_below_zero(pg: Harness) -> None:
    await company(pg)
    account = await pg.personal()
    await fund(pg, account, 3 * PRICE + PRICE // 2)
    await lines(pg, account, "+79990000001")
    buyer = access(pg, pg.company_id)

    async def buy(n: int) -> str:
        try:
            await pg.billing.packages.purchase(buyer, PurchaseRequest("DATA-1G", ["+79990000001"]), key=f"k{n}")
        except DomainError as refused:
            return refused.reason
        return "bought"

    results = await asyncio.gather(*(buy(n) for n in range(10)))
    assert sorted(results) == ["INSUFFICIENT_FUNDS"] * 7 + ["bought"] * 3
    assert (await pg.account(account.id)).balance == PRICE // 2
    async with pg.db.sessions() as session:
        counts = [await session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (PURCHASES, PACKAGES)]
    assert counts == [3, 3]


async def test_lines_rated_at_once_share_a_group_package_exactly(pg: Harness) -> None:
    await company(pg)
    payer, first, second = await pg.personal(), await pg.personal(), await pg.personal()
    await fund(pg, payer, OFFERS_BY_CODE["GROUP-50G"].price)
    one, two = (await lines(pg, first, "+79990000001"))[0], (await lines(pg, second, "+79990000002"))[0]
    await pg.billing.catalogue.reload()
    now = pg.billing.runtime.clock.now()
    for line in (one, two):
        await line.change(now - timedelta(hours=1), tariff="IOT-S")
    await pg.billing.packages.purchase(
        access(pg, pg.company_id),
        PurchaseRequest("GROUP-50G", node_id=pg.company_id, personal_account_id=payer.personal_account_id),
        key="g",
    )
    at = now + timedelta(minutes=1)

    async def rate(records: list[object], batch: str) -> None:
        for attempt in range(5):  # the loser of a first-use race on an allowance row comes again
            try:
                async with pg.db.transaction() as session:
                    await pg.billing.rater.rate(session, records, batch)  # type: ignore[arg-type]
                return
            except Exception:
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("the batch never went through")

    # Each line's allowance is spent first, one after the other.
    for n, line in enumerate((one, two)):
        await rate([record(line.msisdn, "data", 500 * MEBIBYTE, at, rid=f"prime-{n}")], f"prime-{n}")
    batches = [
        [record((one, two)[b % 2].msisdn, "data", 2 * GIBIBYTE, at + timedelta(seconds=b), rid=f"r-{b}")]
        for b in range(40)
    ]
    await asyncio.gather(*(rate(batch, f"race-{b}") for b, batch in enumerate(batches)))
    async with pg.db.sessions() as session:
        used = await session.scalar(sa.select(PACKAGES.c.used))
        covered = await session.scalar(sa.select(sa.func.sum(USAGE.c.package_units)))
    assert (
        used == covered == 50 * GIBIBYTE
    )  # 80 GiB asked of a 50 GiB pool: exactly the pool (unlocked, two lines overdraw it)
