"""Time, always in UTC, from one place so that tests can move it.

A service takes a :class:`Clock` in its composition root. In production it is the
system clock. Tests give ``clock_file``: a file holding an offset in seconds that
is added to the system time, so an end-to-end test can jump a running process
twenty minutes ahead without sleeping.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Clock:
    """The system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return self.now().timestamp()


class OffsetFileClock(Clock):
    """The system clock plus an offset read from a file (re-read at most every 50 ms).

    The file is read again each time rather than when its mtime changes: file
    timestamps are coarse, and two writes a few milliseconds apart can leave
    the same mtime.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._offset = 0.0
        self._checked = float("-inf")

    def _offset_seconds(self) -> float:
        monotonic = time.monotonic()
        if monotonic - self._checked < 0.05:
            return self._offset
        self._checked = monotonic
        try:
            text = self._path.read_text().strip()
        except FileNotFoundError:
            self._offset = 0.0
            return 0.0
        with contextlib.suppress(ValueError):  # a half-written or bad file: keep the last offset
            self._offset = float(text) if text else 0.0
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._offset_seconds())


def make_clock(clock_file: str) -> Clock:
    return OffsetFileClock(clock_file) if clock_file else Clock()


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
