"""Data packages in the price of a record: after the allowance, the one that expires first first, only while active."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing.catalogue.plans import BUILTIN, DATA, MEBIBYTE, Tariff
from billing.rating.pricing import Package, Usage, draw, price

BIZ_S: Tariff = next(t for t in BUILTIN if t.code == "BIZ-S")
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def package(pid: str, *, starts: timedelta = -DAY, expires: timedelta = 30 * DAY) -> Package:
    return Package(pid, NOW + starts, NOW + expires)


def test_the_allowance_runs_out_mid_record_and_a_package_takes_the_rest() -> None:
    data = Usage(DATA, "", "", 5 * MEBIBYTE)
    one = package("p1")
    priced = price(data, BIZ_S, 2 * MEBIBYTE, [one], {"p1": 10 * MEBIBYTE}, NOW)
    assert (priced.included, priced.packaged, priced.charged) == (2 * MEBIBYTE, 3 * MEBIBYTE, 0)
    assert priced.drawn == (("p1", 3 * MEBIBYTE),)
    # What the package cannot cover is priced (50 kopecks per MiB).
    short = price(data, BIZ_S, 2 * MEBIBYTE, [one], {"p1": MEBIBYTE}, NOW)
    assert (short.packaged, short.charged) == (MEBIBYTE, 2 * 50)


def test_the_package_that_expires_first_is_used_first() -> None:
    late, early = package("a-late", expires=20 * DAY), package("z-early", expires=10 * DAY)
    left = {"a-late": 100, "z-early": 30}
    assert draw(50, [late, early], left, NOW) == {"z-early": 30, "a-late": 20}
    # Same expiry: by id.
    twin = package("b", expires=10 * DAY)
    assert draw(40, [twin, early], {"b": 100, "z-early": 30}, NOW) == {"b": 40}


def test_an_expired_or_not_yet_started_package_is_not_used() -> None:
    expired = package("old", starts=-31 * DAY, expires=-DAY)
    future = package("new", starts=DAY)
    ends_now = package("edge", expires=timedelta(0))
    left = {"old": 100, "new": 100, "edge": 100}
    assert draw(10, [expired, future, ends_now], left, NOW) == {}
    priced = price(Usage(DATA, "", "", MEBIBYTE), BIZ_S, 0, [expired], {"old": 10 * MEBIBYTE}, NOW)
    assert (priced.packaged, priced.charged) == (0, 50)


def test_a_group_package_is_shared_by_two_lines() -> None:
    group = package("g")
    left = {"g": 3 * MEBIBYTE}
    for _line in ("line-1", "line-2"):
        taken = draw(2 * MEBIBYTE, [group], left, NOW)
        for pid, n in taken.items():
            left[pid] -= n
    assert left == {"g": 0}  # the first line took 2 MiB, the second only the 1 MiB left


def test_roaming_data_and_calls_never_use_packages() -> None:
    one = package("p1")
    abroad = price(Usage(DATA, "", "FR", MEBIBYTE), BIZ_S, 0, [one], {"p1": 10 * MEBIBYTE}, NOW)
    assert abroad.packaged == 0 and abroad.charged > 0
    call = price(Usage("voice", "national", "", 60), BIZ_S, 0, [one], {"p1": 10 * MEBIBYTE}, NOW)
    assert call.packaged == 0
