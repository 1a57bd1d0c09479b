"""Between UTC datetimes and their wire forms: protobuf timestamps and ISO 8601 text."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def optional_timestamp(value: datetime | None) -> Timestamp | None:
    return None if value is None else timestamp(value)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, microseconds always shown: ``2026-01-02T03:04:05.678901Z``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
