"""The clock tests move: an offset file read by every process that is given it."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from simfleet_runtime.clock import Clock, OffsetFileClock, as_utc, make_clock


def offset_of(clock: Clock) -> float:
    return (clock.now() - datetime.now(UTC)).total_seconds()


async def test_moving_the_offset_file_moves_now(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    clock = OffsetFileClock(path)
    assert abs(offset_of(clock)) < 1  # no file yet: the system time
    assert clock.now().tzinfo is UTC

    path.write_text("1200\n")
    await asyncio.sleep(0.06)
    assert 1199 < offset_of(clock) < 1201
    assert abs(clock.timestamp() - (datetime.now(UTC) + timedelta(seconds=1200)).timestamp()) < 1

    path.write_text("-30.5")
    await asyncio.sleep(0.06)
    assert -31.5 < offset_of(clock) < -29.5

    path.write_text("")
    await asyncio.sleep(0.06)
    assert abs(offset_of(clock)) < 1

    path.write_text("600")
    await asyncio.sleep(0.06)
    assert 599 < offset_of(clock) < 601
    path.unlink()
    await asyncio.sleep(0.06)
    assert abs(offset_of(clock)) < 1


async def test_a_rewrite_within_the_same_file_timestamp_is_seen(tmp_path: Path) -> None:
    # Filesystem timestamps are coarse: two writes a few milliseconds apart can
    # leave the same mtime, and the second must not be missed.
    path = tmp_path / "clock"
    path.write_text("100")
    clock = OffsetFileClock(path)
    assert 99 < offset_of(clock) < 101
    stamp = os.stat(path).st_mtime_ns
    path.write_text("200")
    os.utime(path, ns=(stamp, stamp))
    await asyncio.sleep(0.06)
    assert 199 < offset_of(clock) < 201


def test_make_clock_and_as_utc(tmp_path: Path) -> None:
    assert type(make_clock("")) is Clock
    assert isinstance(make_clock(str(tmp_path / "clock")), OffsetFileClock)
    naive = datetime(2026, 1, 2, 3, 4, 5)
    assert as_utc(naive) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    moscow = datetime(2026, 1, 2, 6, 4, 5, tzinfo=UTC).astimezone(tz=None)
    assert as_utc(moscow).tzinfo is UTC
