"""Real concurrent transactions on PostgreSQL racing on one account: the floor holds, each entry counts once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from billing.ledger.models import PAYMENTS_CLEARING, REVENUE
from billing.ledger.service import CREDIT, DEBIT, Leg, NewEntry
from billing.main import Billing, build
from simfleet_runtime.errors import DomainError
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing, create_postgres_database, drop_postgres_database, postgres_base_url

from .conftest import Harness, settings_for  # type: ignore[import-not-found]

pytestmark = pytest.mark.skipif(postgres_base_url() is None, reason="needs SIMFLEET_TEST_POSTGRES_URL")


@pytest.fixture
async def pg(tmp_path: Path, ring: KeyRing) -> AsyncIterator[Harness]:
    name = f"billing_race_{new_id().lower()}"
    url = await create_postgres_database(name)
    billing: Billing = build(settings_for(url, database_pool_size=10), jwks=ring.fetch)
    await billing.runtime.migrate()
    try:
        yield Harness(billing, tmp_path / "clock")
    finally:
        await billing.runtime.shutdown()
        await drop_postgres_database(name)


async def _attempt(harness: Harness, entry: NewEntry) -> str:
    try:
        await harness.billing.ledger.post(entry)
    except DomainError as refused:
        return refused.reason
    return "taken"


async def test_racing_debits_never_take_an_account_below_its_floor(pg: Harness) -> None:
    clearing = await pg.operator_account(PAYMENTS_CLEARING)
    revenue = await pg.operator_account(REVENUE)
    account = await pg.personal("postpaid", 300)
    await pg.move("pay-1", clearing.id, account.id, 1_000)

    # 40 charges of 70 at once on 20 connections: 1,300 allows 18 of them.
    charges = [
        NewEntry(
            id=f"usage-{n}",
            kind="usage",
            currency="RUB",
            legs=(Leg(account.id, DEBIT, 70), Leg(revenue.id, CREDIT, 70)),
            pending=n % 4 == 0,  # reservations race with the postings
        )
        for n in range(40)
    ]
    outcomes = await asyncio.gather(*(_attempt(pg, entry) for entry in charges))
    assert set(outcomes) == {"taken", "INSUFFICIENT_FUNDS"}
    assert outcomes.count("taken") == 18
    after = await pg.account(account.id)
    assert after.balance - after.debits_pending >= after.floor  # type: ignore[operator]
    assert after.balance - after.debits_pending == 1_000 - 18 * 70

    # Posting and voiding the reservations race too; each resolves once.
    pending = [e.id for e, outcome in zip(charges, outcomes, strict=True) if e.pending and outcome == "taken"]
    ledger = pg.billing.ledger
    results = await asyncio.gather(
        *(ledger.post_pending(entry_id) for entry_id in pending),
        *(ledger.void_pending(entry_id) for entry_id in pending),
        return_exceptions=True,
    )
    posts, voids = results[: len(pending)], results[len(pending) :]
    posted = 0
    for post, void in zip(posts, voids, strict=True):  # one of the two won, the other was told so
        if isinstance(void, DomainError):
            assert void.reason == "ENTRY_POSTED" and not isinstance(post, BaseException)
            posted += 1
        else:
            assert isinstance(post, DomainError) and post.reason == "ENTRY_VOIDED"
    final = await pg.account(account.id)
    assert final.debits_pending == 0 and final.balance >= final.floor  # type: ignore[operator]
    taken_now = 18 - len(pending) + posted
    assert final.balance == 1_000 - taken_now * 70
    assert (await pg.account(revenue.id)).balance == taken_now * 70
    assert final.postings_count == 1 + taken_now


async def test_the_same_entry_sent_at_once_counts_once(pg: Harness) -> None:
    clearing = await pg.operator_account(PAYMENTS_CLEARING)
    account = await pg.personal()
    entry = NewEntry(
        id="payment:once",
        kind="payment",
        currency="RUB",
        legs=(Leg(clearing.id, DEBIT, 250), Leg(account.id, CREDIT, 250)),
    )
    results = await asyncio.gather(*(pg.billing.ledger.post(entry) for _ in range(12)))
    assert sum(not r.replayed for r in results) == 1
    assert (await pg.account(account.id)).balance == 250


async def test_racing_usage_charges_and_payments_keep_every_balance_and_sequence_exact(pg: Harness) -> None:
    """Usage charges (no floor, locked in bulk) race with one another and with floor-checked entries."""
    clearing = await pg.operator_account(PAYMENTS_CLEARING)
    revenue = await pg.operator_account(REVENUE)
    accounts = [await pg.personal("postpaid", 10**6) for _ in range(3)]

    async def charge(n: int) -> None:
        legs = [Leg(a.id, DEBIT, 10 + n) for a in accounts]
        entry = NewEntry(
            id=f"usage:{n}", kind="usage", currency="RUB", legs=(*legs, Leg(revenue.id, CREDIT, 3 * (10 + n)))
        )
        async with pg.db.transaction() as session:
            await pg.billing.ledger.post_charges(session, entry, customer_id=pg.customer_id)

    async def pay(n: int) -> None:
        await pg.move(f"pay:{n}", clearing.id, accounts[n % 3].id, 1_000)

    await asyncio.gather(*(charge(n) for n in range(20)), *(pay(n) for n in range(9)))
    charged = sum(10 + n for n in range(20))
    for account in accounts:
        found = await pg.account(account.id)
        assert found.balance == 3 * 1_000 - charged
        assert found.postings_count == 20 + 3
        lines, _ = await pg.billing.ledger.postings(found, page_size=100, page_token="", order_by="sequence")
        assert [line.posting.sequence for line in lines] == list(range(1, 24))
        running = 0
        for line in lines:  # each posting's balance_after is the running sum of the account's postings
            running += line.posting.amount
            assert line.posting.balance_after == running
    assert (await pg.account(revenue.id)).balance == 3 * charged


async def test_two_batches_of_one_line_rated_at_once_share_its_allowance_exactly(pg: Harness) -> None:
    """100 SMS are included in BIZ-S: 8 x 15 rated at once on eight connections leave exactly 20 to pay."""
    from datetime import timedelta

    from .test_rating import Line, record  # type: ignore[import-not-found]

    await pg.billing.catalogue.seed()
    await pg.billing.catalogue.reload()
    account = await pg.personal("postpaid", 10**6)
    now = pg.billing.runtime.clock.now()
    line = Line(pg, account, "+79990000091")
    await line.change(now - timedelta(hours=1))
    batches = [
        [record(line.msisdn, "sms", 1, now - timedelta(seconds=b * 60 + i), rid=f"b{b}-{i}") for i in range(15)]
        for b in range(8)
    ]

    async def rate(records: list[object], batch: str) -> None:
        for attempt in range(5):  # the loser of a first-use race fails on the allowance row and comes again
            try:
                async with pg.db.transaction() as session:
                    await pg.billing.rater.rate(session, records, batch)  # type: ignore[arg-type]
                return
            except Exception:
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("the batch never went through")

    # The line's allowance row exists before the race (one SMS), so both batches update the same row.
    await rate([record(line.msisdn, "sms", 1, now - timedelta(minutes=30), rid="first")], "prime")
    await asyncio.gather(*(rate(batch, f"race-{n}") for n, batch in enumerate(batches)))
    assert (await pg.account(account.id)).balance == -21 * 300


async def test_the_same_records_in_two_batches_rated_at_once_are_charged_once(pg: Harness) -> None:
    """Two replicas take the same records in different batches at once: the loser's store fails, and again is none."""
    from datetime import timedelta

    import sqlalchemy as sa

    from billing.rating.models import ALLOWANCE_USE, USAGE

    from .test_rating import Line, record  # type: ignore[import-not-found]

    await pg.billing.catalogue.seed()
    await pg.billing.catalogue.reload()
    account = await pg.personal("postpaid", 10**6)
    now = pg.billing.runtime.clock.now()
    line = Line(pg, account, "+79990000092")
    await line.change(now - timedelta(hours=1))
    same = [record(line.msisdn, "sms", 1, now - timedelta(seconds=i + 1), rid=f"same-{i}") for i in range(10)]
    failures: list[str] = []
    summaries = []

    async def rate(records: list[object], batch: str) -> None:
        for attempt in range(5):
            try:
                async with pg.db.transaction() as session:
                    summaries.append(await pg.billing.rater.rate(session, records, batch))  # type: ignore[arg-type]
                return
            except Exception as exc:
                failures.append(type(exc).__name__)
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("the batch never went through")

    await rate([record(line.msisdn, "sms", 1, now - timedelta(minutes=30), rid="first")], "prime")
    await asyncio.gather(rate(same, "replica-a"), rate(same, "replica-b"))
    async with pg.db.sessions() as session:
        stored = await session.scalar(sa.select(sa.func.count()).select_from(USAGE))
        used = await session.scalar(sa.select(ALLOWANCE_USE.c.used).where(ALLOWANCE_USE.c.line_id == line.line_id))
    assert stored == 11
    assert used == 11
    assert sorted((s.rated, s.duplicate) for s in summaries[1:]) == [(0, 10), (10, 0)]
