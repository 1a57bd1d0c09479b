"""Between UTC datetimes and their wire forms: protobuf timestamps and ISO 8601 text.

Arithmetic on ``timedelta`` rather than ``Timestamp.FromDatetime`` /
``ToDatetime``: protobuf's own conversions are pure Python even on upb and cost
several times more, which shows in every page of lines (a few timestamps per
line, both ways). The results are the same (see the runtime's tests).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime) -> Timestamp:
    """``value`` (aware; a naive one is taken as local time, as ``astimezone`` does) as a protobuf Timestamp."""
    since = value.astimezone(UTC) - EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1_000)


def optional_timestamp(value: datetime | None) -> Timestamp | None:
    return None if value is None else timestamp(value)


def to_datetime(stamp: Timestamp) -> datetime:
    """An aware UTC datetime, as ``stamp.ToDatetime(tzinfo=UTC)`` (nanoseconds truncated to microseconds)."""
    return EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1_000)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, microseconds always shown: ``2026-01-02T03:04:05.678901Z``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
