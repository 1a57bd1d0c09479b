"""Identifiers for SIMfleet's own objects: ULIDs (sortable by creation time)."""

from __future__ import annotations

import base64
import functools
import os
import time

from ulid import ULID

_STANDARD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = bytes.maketrans(_STANDARD, _CROCKFORD.encode())
_COUNTER_BITS = 25
"""The last five characters of a batch's ids count up; the other 55 random bits are drawn once per batch."""


def new_id() -> str:
    """A ULID: the time in milliseconds, then 80 random bits (as ``str(ULID())``, a few times cheaper: the
    gateway makes one for every request that brings no request id)."""
    # 128 bits as 26 characters of 5 bits (130, the top 2 zero): that form, at the top of 17 bytes.
    value = ((time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")) << 6
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
