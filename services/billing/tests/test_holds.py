"""Financial holds: a prepaid account that runs out has its lines blocked, and unblocked when it is topped up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from billing.models import BUS
from simfleet.events.v1 import billing_pb2 as ev
from simfleet_subjects import BillingSubjects

from .conftest import Harness  # type: ignore[import-not-found]
from .test_rating import Line, rate, record  # type: ignore[import-not-found]


async def events(harness: Harness) -> list[tuple[str, ev.AccountFundsChanged]]:
    outbox = BUS.outbox
    async with harness.db.sessions() as session:
        rows = (
            await session.execute(sa.select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.created_at))
        ).all()
    return [(row.subject, ev.AccountFundsChanged.FromString(row.payload)) for row in rows]


async def test_an_account_below_its_floor_is_held_once_and_released_once_it_is_back(harness: Harness) -> None:
    await harness.billing.catalogue.seed()
    account = await harness.personal()  # prepaid: floor 0
    now = harness.billing.runtime.clock.now()
    line = Line(harness, account, "+79990000061")
    await line.change(now - timedelta(hours=1))
    quiet = Line(harness, account, "+79990000062")
    await quiet.change(now - timedelta(hours=1), state="ready")  # not in service: not named
    holds = harness.billing.holds
    assert await holds.sweep() == (0, 0)  # at its floor exactly: nothing to do

    await rate(harness, [record(line.msisdn, "voice", 60, now, zone="international", rid="intl")])
    assert (await harness.account(account.id)).balance == -4900
    assert await asyncio.gather(holds.sweep(), holds.sweep()) in ([(1, 0), (0, 0)], [(0, 0), (1, 0)])
    assert await holds.sweep() == (0, 0)
    ((subject, held),) = await events(harness)
    assert subject == BillingSubjects.ACCOUNT_EXHAUSTED
    assert (held.personal_account_id, list(held.msisdns), held.balance, held.floor) == (
        account.personal_account_id,
        [line.msisdn],
        -4900,
        0,
    )

    clearing = await harness.operator_account("payments_clearing")
    await harness.move("pay-1", clearing.id, account.id, 1_000)  # still below
    assert await holds.sweep() == (0, 0)
    await harness.move("pay-2", clearing.id, account.id, 3_900)  # back at zero: released
    assert await holds.sweep() == (0, 1)
    assert await holds.sweep() == (0, 0)
    (_, (subject, released)) = await events(harness)
    assert subject == BillingSubjects.ACCOUNT_REPLENISHED
    assert released.hold_id == held.hold_id and list(released.msisdns) == [line.msisdn]
