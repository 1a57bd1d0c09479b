"""Fault injection of the simulated HLR: latency, failures, failing numbers, outage.

The faults in force are netsim's state, shared by every replica: one row of
``hlr_faults`` (:class:`~netsim.hlr.models.StoredFaults`: the faults, a
``version`` raised by every change, ``updated_at``), kept by
:class:`~netsim.hlr.fault_store.FaultStore`. ``HlrService.SetFaults`` and the
console's ``PUT /hlr/faults`` validate the faults (:func:`validate_faults`),
write the row and apply it at once in the process that took the call
(``GetFaults`` and ``GET /hlr/faults`` answer the row); every process reads the
row's version every ``hlr_faults_refresh_seconds`` (0.5 s by default, a runtime
task) and applies the row when its version is not the one it holds, so a
change reaches every replica within about that interval and survives restarts.
The settings ``hlr_latency_ms`` and ``hlr_failure_rate`` give the faults of a
fresh database only (the first process to start writes them as the row); once
the row exists, the row wins.

Each process applies the faults through its one :class:`FaultInjector`, in
memory: the provisioning consumer asks it per command and per item and never
reads the database for faults. The consumer waits out an outage (and, at
start, until the stored faults are first read) and sleeps the latency in its
``before`` hook, outside the database transaction; failures are drawn per item
inside it. Ending an outage, in this process or through the row on another,
releases the commands waiting in the hook. ``simfleet_netsim_hlr_outage`` and
``simfleet_netsim_hlr_faults_version`` show each process's view.
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
    """The faults in force in this process, and what they do to a command and its items."""

    def __init__(self, faults: Faults | None = None, *, seed: int | None = None, held: bool = False) -> None:
        """``held``: take no command until :meth:`set` gives the first faults (the stored ones)."""
        self._faults = faults or Faults()
        self._version: int | None = None
        self._held = held
        self._random = random.Random(seed)  # a simulation's dice, not a secret
        self._available = asyncio.Event()
        self._holding = 0
        self._update()

    @property
    def faults(self) -> Faults:
        return self._faults

    @property
    def holding(self) -> int:
        """How many commands an outage (or the hold) keeps waiting right now."""
        return self._holding

    @property
    def version(self) -> int | None:
        """The version of the stored faults applied here; None when these did not come from the store."""
        return self._version

    def set(self, faults: Faults, *, version: int | None = None) -> Faults:
        """Replace every fault at once; ending an outage (or a hold) releases the waiting commands.

        ``version`` is the stored row's when the faults come from it (the store
        re-applies the row while the version differs).
        """
        self._faults = faults
        self._version = version
        self._held = False
        self._update()
        return faults

    def _update(self) -> None:
        if self._faults.outage or self._held:
            self._available.clear()
        else:
            self._available.set()
        metrics.HLR_OUTAGE.set(1 if self._faults.outage else 0)
        metrics.HLR_FAULTS_VERSION.set(self._version or 0)

    async def wait_available(self) -> None:
        """Return once no outage (and no hold) is on (at once when none is)."""
        if self._available.is_set():
            return
        self._holding += 1
        try:
            while not self._available.is_set():
                await self._available.wait()
        finally:
            self._holding -= 1

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
