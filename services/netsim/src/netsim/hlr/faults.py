"""Fault injection of the simulated HLR: latency, failures, failing numbers, outage.

One :class:`FaultInjector` per netsim process (faults are process-local: a
second replica would have its own), built by the composition root from the
settings and changed at run time through ``HlrService.SetFaults`` or the
console. The consumer waits out an outage and sleeps the latency in its
``before`` hook, outside the database transaction; failures are drawn per
item inside it.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netsim import metrics
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.validation import normalize_msisdn

MAX_LATENCY_MS = 60_000
MAX_FAILING_MSISDNS = 1000
TIMEOUT_REASON = "the HLR did not answer in time"


@dataclass(frozen=True)
class Faults:
    """The fault injection in force (validated: build it with :func:`validate_faults`)."""

    latency_ms: int = 0
    failure_rate: float = 0.0
    outage: bool = False
    failing_msisdns: tuple[str, ...] = ()


def validate_faults(*, latency_ms: int, failure_rate: float, outage: bool, failing_msisdns: Sequence[str]) -> Faults:
    """Check faults where they enter; numbers are normalised to E.164 and de-duplicated (first kept)."""
    if not 0 <= latency_ms <= MAX_LATENCY_MS:
        raise InvalidArgument(
            f"latency_ms must be between 0 and {MAX_LATENCY_MS}",
            reason="INVALID_LATENCY",
            field_violations={"latency_ms": f"0 to {MAX_LATENCY_MS}"},
        )
    if not (math.isfinite(failure_rate) and 0.0 <= failure_rate <= 1.0):
        raise InvalidArgument(
            "failure_rate must be between 0.0 and 1.0",
            reason="INVALID_FAILURE_RATE",
            field_violations={"failure_rate": "0.0 to 1.0"},
        )
    if len(failing_msisdns) > MAX_FAILING_MSISDNS:
        raise InvalidArgument(
            f"at most {MAX_FAILING_MSISDNS} failing numbers",
            reason="TOO_MANY_FAILING_MSISDNS",
            field_violations={"failing_msisdns": f"at most {MAX_FAILING_MSISDNS}"},
        )
    numbers: dict[str, None] = {}
    for index, value in enumerate(failing_msisdns):
        numbers[normalize_msisdn(value, field=f"failing_msisdns[{index}]")] = None
    return Faults(latency_ms=latency_ms, failure_rate=failure_rate, outage=outage, failing_msisdns=tuple(numbers))


class FaultInjector:
    """The faults in force, and what they do to a command and its items."""

    def __init__(self, faults: Faults | None = None, *, seed: int | None = None) -> None:
        self._faults = Faults()
        self._random = random.Random(seed)  # a simulation's dice, not a secret
        self._available = asyncio.Event()
        self.set(faults or Faults())

    @property
    def faults(self) -> Faults:
        return self._faults

    def set(self, faults: Faults) -> Faults:
        """Replace every fault at once; ending an outage releases the waiting commands."""
        self._faults = faults
        if faults.outage:
            self._available.clear()
        else:
            self._available.set()
        metrics.HLR_OUTAGE.set(1 if faults.outage else 0)
        return faults

    async def wait_available(self) -> None:
        """Return once no outage is on (at once when none is)."""
        while self._faults.outage:
            await self._available.wait()

    def latency_seconds(self, items: int) -> float:
        """The delay added to a command of ``items`` items."""
        return self._faults.latency_ms * items / 1000

    def failure(self, msisdns: Iterable[str | None]) -> str | None:
        """Why an item concerning these numbers fails now (SYSTEM_FAILURE), or None when it goes through."""
        failing = self._faults.failing_msisdns
        for number in msisdns:
            if number and number in failing:
                return f"the HLR reported a system failure for {number}"
        rate = self._faults.failure_rate
        if rate > 0 and self._random.random() < rate:
            return TIMEOUT_REASON
        return None
