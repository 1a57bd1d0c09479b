"""An in-process token bucket per client address.

It spares identity from floods at the edge; the authoritative limits (per phone
number, per address) live in identity. Buckets of addresses not seen for a
while are forgotten first when the table is full.

Every answer subject to it tells the client where it stands, in the fields of
the IETF draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-
ratelimit-headers, the separate-field form): ``RateLimit-Limit`` (the burst:
calls that may be made at once), ``RateLimit-Remaining`` (calls left now),
``RateLimit-Reset`` (seconds until the bucket is full again) and
``RateLimit-Policy: <burst>;w=<seconds to refill it>``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True, slots=True)
class Decision:
    wait: int
    """0 when the call may go on, else the whole seconds until it may (Retry-After)."""
    limit: int
    remaining: int
    reset: int

    def headers(self, window: int) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={window}",
        }


class TokenBucketLimiter:
    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    @property
    def window(self) -> int:
        """Seconds an empty bucket takes to fill."""
        return max(1, math.ceil(self._burst / self._rate)) if self.enabled else 0

    def acquire(self, key: str) -> int:
        """Take a token for ``key``: 0 when granted, else the whole seconds to wait."""
        return self.take(key).wait

    def take(self, key: str) -> Decision:
        """Take a token for ``key``, and say what is left."""
        burst = int(self._burst)
        if not self.enabled:
            return Decision(0, burst, burst, 0)
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self._burst, now)
            self._buckets[key] = bucket
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            self._buckets.move_to_end(key)
        wait = 0
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
        else:
            wait = max(1, math.ceil((1.0 - bucket.tokens) / self._rate))
        reset = math.ceil((self._burst - bucket.tokens) / self._rate - 1e-9)
        return Decision(wait, burst, math.floor(bucket.tokens), reset)

    def headers(self, decision: Decision) -> dict[str, str]:
        return decision.headers(self.window)

    def __len__(self) -> int:
        return len(self._buckets)
