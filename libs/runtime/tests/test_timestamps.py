"""The runtime's timestamp conversions give what protobuf's own FromDatetime / ToDatetime give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from simfleet_runtime.timestamps import optional_timestamp, timestamp, to_datetime

MOMENTS = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2026, 12, 6, 21, 3, 4, 567891, tzinfo=UTC),
    datetime(2026, 12, 6, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=3))),
    datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    datetime(1900, 5, 5, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30),  # naive: local time, as astimezone takes it
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_timestamp_is_protobufs_own(moment: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(moment.astimezone(UTC))
    assert timestamp(moment) == expected


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_to_datetime_is_protobufs_own_and_round_trips(moment: datetime) -> None:
    stamp = timestamp(moment)
    back = to_datetime(stamp)
    assert back == stamp.ToDatetime(tzinfo=UTC)
    assert back.tzinfo is UTC
    assert back == moment.astimezone(UTC)


@pytest.mark.parametrize("nanos", [0, 999, 1_000, 123_456_789, 999_999_999])
def test_to_datetime_truncates_nanoseconds_as_protobuf_does(nanos: int) -> None:
    for seconds in (-1, 0, 1_765_000_000):
        stamp = Timestamp(seconds=seconds, nanos=nanos)
        assert to_datetime(stamp) == stamp.ToDatetime(tzinfo=UTC)


def test_optional_timestamp() -> None:
    assert optional_timestamp(None) is None
    assert optional_timestamp(MOMENTS[1]) == timestamp(MOMENTS[1])
