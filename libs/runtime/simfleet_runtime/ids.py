"""Identifiers for SIMfleet's own objects: ULIDs (sortable by creation time)."""

from __future__ import annotations

import base64
import functools
import os
import threading
import time

from ulid import ULID

_STANDARD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = bytes.maketrans(_STANDARD, _CROCKFORD.encode())
_COUNTER_BITS = 25
"""The last five characters of a batch's ids count up; the other 55 random bits are drawn once per batch."""


_RANDOM_MAX = (1 << 80) - 1
_last = [0, 0]
"""The last id's milliseconds and random part: ids made in one millisecond count up from the first's random part."""
_lock = threading.Lock()


def new_id() -> str:
    """A ULID: the time in milliseconds, then 80 random bits, monotonic in a process as ``str(ULID())`` is (an
    id made in the same millisecond as the last one is the last one plus one, so ids sort in the order they were
    made: lists keyed and paged by id rely on it); a few times cheaper than the ``ULID`` object (the gateway makes
    one for every request that brings no request id)."""
    now = time.time_ns() // 1_000_000
    with _lock:
        if now > _last[0]:
            _last[0], _last[1] = now, int.from_bytes(os.urandom(10), "big")
        elif _last[1] < _RANDOM_MAX:
            _last[1] += 1
        else:  # 2**80 ids in one millisecond: the next millisecond's
            _last[0], _last[1] = _last[0] + 1, int.from_bytes(os.urandom(10), "big")
        value = (_last[0] << 80 | _last[1]) << 6
    # 128 bits as 26 characters of 5 bits (130, the top 2 zero): that form, at the top of 17 bytes.
    return base64.b32encode(value.to_bytes(17, "big"))[:26].translate(_TO_CROCKFORD).decode()


@functools.cache
def _chars(width: int) -> tuple[str, ...]:
    """Every ``width``-character Crockford base32 string, in order."""
    out = [""]
    for _ in range(width):
        out = [prefix + c for prefix in out for c in _CROCKFORD]
    return tuple(out)


def new_ids(count: int) -> list[str]:
    """``count`` distinct ULIDs at once, sorted: one timestamp and one random draw for the lot.

    Bulk paths (an operation's 200,000 items) made each id apart, which cost more than writing the rows.
    """
    if count <= 0:
        return []
    if count > 1 << _COUNTER_BITS:
        raise ValueError(f"at most {1 << _COUNTER_BITS} ids at once")
    millis = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big") >> _COUNTER_BITS << _COUNTER_BITS
    # A ULID is 128 bits written as 26 characters of 5 bits (130, the top 2 zero): that form, at the top of 17 bytes.
    value = (millis << 80 | random_bits) << 6
    head = base64.b32encode(value.to_bytes(17, "big"))[:21].translate(_TO_CROCKFORD).decode()
    high, low = _chars(2), _chars(3)
    return [head + high[i >> 15] + low[i & 0x7FFF] for i in range(count)]


def is_id(value: str) -> bool:
    try:
        ULID.from_str(value)
    except ValueError:
        return False
    return True
