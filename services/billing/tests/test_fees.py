"""Monthly fees a day at a time: pro rata from the day a line starts to the day it stops, a whole month exactly."""

from __future__ import annotations

import asyncio
import calendar
from datetime import UTC, date, datetime, timedelta

import pytest

from billing.catalogue.plans import BUILTIN
from billing.fees.service import daily_share

from .conftest import Harness  # type: ignore[import-not-found]
from .test_rating import Line  # type: ignore[import-not-found]

BIZ_S_FEE = next(t for t in BUILTIN if t.code == "BIZ-S").monthly_fee
BIZ_M_FEE = next(t for t in BUILTIN if t.code == "BIZ-M").monthly_fee


@pytest.mark.parametrize("month", [date(2026, 2, 1), date(2026, 12, 1), date(2028, 2, 1)])
def test_a_whole_months_shares_are_the_fee_to_the_kopeck(month: date) -> None:
    days = calendar.monthrange(month.year, month.month)[1]
    for fee in (45000, 9000, 1, 99999, 0):
        shares = [daily_share(fee, month.replace(day=d)) for d in range(1, days + 1)]
        assert sum(shares) == fee and max(shares) - min(shares) <= 1


def days_ago(harness: Harness, n: int) -> datetime:
    today = harness.billing.runtime.clock.now().date()
    return datetime.combine(today - timedelta(days=n), datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)


async def test_a_line_pays_from_the_day_it_starts_to_the_day_it_stops_at_the_tariff_of_each_day(
    harness: Harness,
) -> None:
    await harness.billing.catalogue.seed()
    await harness.billing.catalogue.reload()
    fees = harness.billing.fees
    account = await harness.personal("postpaid", 10**7)
    line = Line(harness, account, "+79990000071")
    await line.change(days_ago(harness, 10), state="ready")  # ordered ten days ago: not in service
    await line.change(days_ago(harness, 6))  # activated six days ago at 10:00: pays that day
    await line.change(days_ago(harness, 3) + timedelta(hours=5), tariff="BIZ-M")  # the new tariff from that day
    today = harness.billing.runtime.clock.now().date()

    def share(fee: int, n: int) -> int:
        return daily_share(fee, today - timedelta(days=n))

    expected = sum(share(BIZ_S_FEE, n) for n in (6, 5, 4)) + sum(share(BIZ_M_FEE, n) for n in (3, 2, 1, 0))
    assert await fees.run_once() == 7
    assert (await harness.account(account.id)).balance == -expected
    # Again the same day: nothing more.
    assert await fees.run_once() == 0
    assert (await harness.account(account.id)).balance == -expected

    # Terminated today: today was paid already; tomorrow and after, nothing.
    await line.change(harness.billing.runtime.clock.now(), state="terminated", tariff="BIZ-M")
    harness.move_clock(3 * 86400)
    assert await fees.run_once() == 0
    assert (await harness.account(account.id)).balance == -expected


async def test_days_missed_while_billing_was_stopped_are_charged_once_and_racing_runs_charge_once(
    harness: Harness,
) -> None:
    await harness.billing.catalogue.seed()
    await harness.billing.catalogue.reload()
    fees = harness.billing.fees
    account = await harness.personal("postpaid", 10**7)
    lines = [Line(harness, account, f"+7999000008{n}") for n in range(3)]
    for line in lines:
        await line.change(harness.billing.runtime.clock.now() - timedelta(minutes=1))
    assert await fees.run_once() == 3
    harness.move_clock(4 * 86400)  # four days without a run
    results = await asyncio.gather(fees.run_once(), fees.run_once(), return_exceptions=True)
    charged = [r for r in results if isinstance(r, int)]
    assert sum(charged) == 3 * 4  # whichever run won, each line's four days once
    today = harness.billing.runtime.clock.now().date()
    per_line = sum(daily_share(BIZ_S_FEE, today - timedelta(days=n)) for n in range(5))
    assert (await harness.account(account.id)).balance == -3 * per_line
