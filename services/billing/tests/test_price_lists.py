"""Price lists per currency: a tariff priced in rials for a customer onboarded in IRR, in rating and in fees."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from billing.catalogue.plans import BUILTIN, VOICE
from billing.catalogue.price_lists import RATES, convert, priced_in
from billing.catalogue.service import TariffBook
from billing.fees.service import daily_share
from billing.ledger.models import REVENUE
from billing.ledger.service import NewAccount

from .conftest import Harness  # type: ignore[import-not-found]
from .test_rating import Line, rate, record, stored  # type: ignore[import-not-found]

BIZ_S = next(t for t in BUILTIN if t.code == "BIZ-S")


def test_a_rouble_price_is_whole_rials_at_the_fixed_rate() -> None:
    assert RATES["IRR"] == 500
    assert convert(250, "IRR") == 1_250  # 2.50 RUB
    assert convert(45_000, "IRR") == 225_000  # 450.00 RUB
    assert convert(1, "IRR") == 5 and convert(0, "IRR") == 0
    irr = priced_in(BIZ_S, "IRR")
    assert (irr.code, irr.currency, irr.version, irr.effective_from) == (
        "BIZ-S",
        "IRR",
        BIZ_S.version,
        BIZ_S.effective_from,
    )
    assert irr.monthly_fee == BIZ_S.monthly_fee * 5
    assert irr.home[VOICE]["national"] == BIZ_S.home[VOICE]["national"] * 5
    assert irr.roaming["europe"][VOICE] == BIZ_S.roaming["europe"][VOICE] * 5
    assert irr.allowances == BIZ_S.allowances  # only amounts change


def test_the_book_finds_a_tariff_by_code_and_currency_at_a_time() -> None:
    later = replace(
        BIZ_S, version=2, monthly_fee=50_000, effective_from=datetime(2026, 6, 1, tzinfo=UTC)
    )  # a price change
    book = TariffBook([BIZ_S, later])
    march, july = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    assert book.at("BIZ-S", march) == BIZ_S and book.at("BIZ-S", march, "RUB") == BIZ_S
    irr_march, irr_july = book.at("BIZ-S", march, "IRR"), book.at("BIZ-S", july, "IRR")
    assert irr_march is not None and irr_july is not None
    assert (irr_march.currency, irr_march.version, irr_march.monthly_fee) == ("IRR", 1, 225_000)
    assert (irr_july.version, irr_july.monthly_fee) == (2, 250_000)
    # No price list in a currency: the stored version, whose currency tells the caller it does not fit.
    usd = book.at("BIZ-S", march, "USD")
    assert usd is not None and usd.currency == "RUB"
    assert book.at("BIZ-S", datetime(2025, 1, 1, tzinfo=UTC), "IRR") is None
    assert book.at("NOPE", march, "IRR") is None
    assert [t.currency for t in book.current(july)] == ["RUB"]  # the catalogue lists the stored versions


async def test_an_irr_lines_usage_is_priced_in_rials(harness: Harness) -> None:
    await harness.billing.catalogue.seed()
    account = await harness.personal(currency="IRR")
    start = harness.billing.runtime.clock.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    line = Line(harness, account, "+79990000311")
    await line.change(start)
    at = start + timedelta(minutes=5)
    calls = [
        record(line.msisdn, "voice", 60 * 301, at, rid="irr-call"),  # one minute over the 300 included
        record(line.msisdn, "voice", 30, at, zone="international", rid="irr-intl"),
    ]
    summary = await rate(harness, calls)
    assert (summary.rated, summary.rejected) == (2, 0)
    expected = (250 + 4900) * 5  # 2.50 + 49.00 RUB, in rials
    assert summary.charged == {"IRR": expected}
    rows = await stored(harness)
    assert {rows[r]["currency"] for r in ("irr-call", "irr-intl")} == {"IRR"}
    assert (await harness.account(account.id)).balance == -expected
    revenue = await harness.billing.ledger.open_account(NewAccount(kind=REVENUE, currency="IRR"))
    assert revenue.balance == expected
    # An account in a currency without a price list is still refused.
    dollars = await harness.personal(currency="USD")
    other = Line(harness, dollars, "+79990000312")
    await other.change(start)
    refused = await rate(harness, [record(other.msisdn, "sms", 1, at, rid="usd-sms")])
    assert refused.rejected == 1 and (await stored(harness))["usd-sms"]["reason"] == "CURRENCY_MISMATCH"


async def test_an_irr_lines_monthly_fee_is_charged_in_rials(harness: Harness) -> None:
    await harness.billing.catalogue.seed()
    await harness.billing.catalogue.reload()
    account = await harness.personal("postpaid", 10**9, currency="IRR")
    line = Line(harness, account, "+79990000313")
    now = harness.billing.runtime.clock.now()
    await line.change(datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC))  # in service from today
    assert await harness.billing.fees.run_once() == 1
    assert (await harness.account(account.id)).balance == -daily_share(BIZ_S.monthly_fee * 5, now.date())
