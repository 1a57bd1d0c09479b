"""Options' monthly fees, a day at a time like the tariff's: from the day connected through the day disconnected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing.catalogue.options import OPTIONS
from billing.catalogue.plans import BUILTIN
from billing.catalogue.price_lists import convert, option_fee_in
from billing.fees.service import daily_share
from billing.ledger.models import LedgerAccount
from simfleet.events.v1 import inventory_pb2 as inv
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp

from .conftest import Harness  # type: ignore[import-not-found]
from .test_rating import deliver_lines  # type: ignore[import-not-found]

FEES = {t.code: t.monthly_fee for t in BUILTIN}
ROAMING = OPTIONS["roaming"].monthly_fee
INTERNATIONAL = OPTIONS["international"].monthly_fee


def days_ago(harness: Harness, n: int, hour: int = 10) -> datetime:
    today = harness.billing.runtime.clock.now().date()
    return datetime.combine(today - timedelta(days=n), datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


async def change(
    harness: Harness, line_id: str, account: LedgerAccount, at: datetime, services: list[str], tariff: str = "BIZ-S"
) -> None:
    await deliver_lines(
        harness,
        [
            inv.LineChanged(
                line_id=line_id,
                customer_id=account.customer_id,
                msisdn="+79990000301",
                imsi="250990000000301",
                node_id=account.personal_account_id,
                personal_account_id=account.personal_account_id,
                tariff_code=tariff,
                state="active",
                services=services,
                occurred_at=timestamp(at),
            )
        ],
    )


async def test_an_option_pays_from_the_day_connected_through_the_day_disconnected_and_once(harness: Harness) -> None:
    await harness.billing.catalogue.seed()
    await harness.billing.catalogue.reload()
    fees = harness.billing.fees
    account = await harness.personal("postpaid", 10**7)
    line = new_id()
    basic = ["voice", "sms", "data"]
    await change(harness, line, account, days_ago(harness, 6), basic)
    await change(harness, line, account, days_ago(harness, 4, 15), [*basic, "roaming", "international"])
    await change(harness, line, account, days_ago(harness, 2, 9), [*basic, "roaming"])  # international off
    await change(harness, line, account, days_ago(harness, 1, 12), [*basic, "roaming"], tariff="BIZ-M")
    today = harness.billing.runtime.clock.now().date()

    def share(fee: int, n: int) -> int:
        return daily_share(fee, today - timedelta(days=n))

    expected = (
        sum(share(FEES["BIZ-S"], n) for n in (6, 5, 4, 3, 2))
        + sum(share(FEES["BIZ-M"], n) for n in (1, 0))
        # roaming from the 4th day ago; BIZ-M includes it from the day the line moved to it
        + sum(share(ROAMING, n) for n in (4, 3, 2))
        # international connected 4 days ago, disconnected 2 days ago: paid through that day
        + sum(share(INTERNATIONAL, n) for n in (4, 3, 2))
    )
    assert await fees.run_once() == 7
    assert (await harness.account(account.id)).balance == -expected
    assert await fees.run_once() == 0
    assert (await harness.account(account.id)).balance == -expected


async def test_an_irr_line_pays_its_options_from_the_rial_price_list(harness: Harness) -> None:
    await harness.billing.catalogue.seed()
    await harness.billing.catalogue.reload()
    account = await harness.personal("postpaid", 10**12, currency="IRR")
    line = new_id()
    await change(harness, line, account, days_ago(harness, 2), ["voice", "sms", "data", "roaming"])
    today = harness.billing.runtime.clock.now().date()
    irr_fee = convert(FEES["BIZ-S"], "IRR")
    irr_roaming = convert(ROAMING, "IRR")
    assert option_fee_in("BIZ-S", "roaming", "IRR") == irr_roaming == 24_500  # 49.00 RUB
    assert option_fee_in("BIZ-S", "roaming", "USD") is None  # no price list in dollars
    expected = sum(
        daily_share(irr_fee, today - timedelta(days=n)) + daily_share(irr_roaming, today - timedelta(days=n))
        for n in (2, 1, 0)
    )
    assert await harness.billing.fees.run_once() == 3
    assert (await harness.account(account.id)).balance == -expected
