"""Between UTC datetimes and protobuf timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def optional_timestamp(value: datetime | None) -> Timestamp | None:
    return None if value is None else timestamp(value)
