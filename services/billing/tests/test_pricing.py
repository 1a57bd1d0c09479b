"""The price of one record: allowances first at home, zones, roaming groups, rounding."""

from __future__ import annotations

from billing.catalogue.plans import BUILTIN, DATA, MEBIBYTE, SMS, VOICE, Tariff, roaming_group
from billing.rating.pricing import Price, Usage, price, units_of

BIZ_S: Tariff = next(t for t in BUILTIN if t.code == "BIZ-S")


def test_calls_are_charged_by_started_minutes() -> None:
    assert [units_of(VOICE, s) for s in (1, 59, 60, 61, 3600)] == [1, 1, 1, 2, 60]
    assert units_of(SMS, 1) == 1 and units_of(DATA, 12345) == 12345


def test_an_allowance_running_out_mid_record_covers_only_what_was_left() -> None:
    call = Usage(VOICE, "national", "", 10 * 60)  # ten minutes, three left in the allowance
    assert price(call, BIZ_S, 3) == Price(units=10, included=3, charged=7 * 250, priced_as="national")
    assert price(call, BIZ_S, 0) == Price(units=10, included=0, charged=10 * 250, priced_as="national")
    assert price(call, BIZ_S, -5).included == 0  # overdrawn by an earlier record: nothing more is included
    assert price(call, BIZ_S, 600) == Price(units=10, included=10, charged=0, priced_as="national")


def test_international_calls_never_come_out_of_the_allowance() -> None:
    call = Usage(VOICE, "international", "", 61)
    assert price(call, BIZ_S, 300) == Price(units=2, included=0, charged=2 * 4900, priced_as="international")
    sms = Usage(SMS, "on_net", "", 1)
    assert price(sms, BIZ_S, 0).charged == 200


def test_abroad_everything_is_priced_by_the_roaming_group() -> None:
    assert (roaming_group("KZ"), roaming_group("FR"), roaming_group("BR")) == ("neighbours", "europe", "world")
    call = Usage(VOICE, "national", "FR", 90)
    assert price(call, BIZ_S, 300) == Price(units=2, included=0, charged=2 * 9900, priced_as="europe")
    data = Usage(DATA, "", "BR", MEBIBYTE)
    assert price(data, BIZ_S, 10**12) == Price(units=MEBIBYTE, included=0, charged=59900, priced_as="world")


def test_data_is_priced_per_mebibyte_rounded_up_per_record() -> None:
    one_byte = Usage(DATA, "", "", 1)
    assert price(one_byte, BIZ_S, 0).charged == 1  # 50 kopecks per MiB: a byte still costs a kopeck
    exact = Usage(DATA, "", "", 3 * MEBIBYTE)
    assert price(exact, BIZ_S, 0).charged == 150
    partly = Usage(DATA, "", "", 3 * MEBIBYTE)
    assert price(partly, BIZ_S, MEBIBYTE) == Price(units=3 * MEBIBYTE, included=MEBIBYTE, charged=100, priced_as="")
