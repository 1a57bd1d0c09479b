"""Resident memory and CPU time of the platform's processes, sampled from /proc."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field

from simfleet_devstack.process import (
    read_cpu_seconds,
    read_cpu_wait_seconds,
    read_machine_cpu_seconds,
    read_rss_bytes,
)

MIB = 1024 * 1024


@dataclass
class ProcessSamples:
    rss: list[int] = field(default_factory=list)
    cpu_start: float | None = None
    cpu_end: float | None = None
    wait_start: float | None = None
    wait_end: float | None = None

    @property
    def rss_median_mib(self) -> float:
        return statistics.median(self.rss) / MIB if self.rss else float("nan")

    @property
    def rss_max_mib(self) -> float:
        return max(self.rss) / MIB if self.rss else float("nan")

    @property
    def cpu_wait_seconds(self) -> float:
        """Seconds the main thread waited for a CPU while sampled (NaN without scheduler statistics)."""
        if self.wait_start is None or self.wait_end is None:
            return float("nan")
        return self.wait_end - self.wait_start

    @property
    def cpu_seconds(self) -> float:
        if self.cpu_start is None or self.cpu_end is None:
            return float("nan")
        return self.cpu_end - self.cpu_start


class Sampler:
    """Samples every process's VmRSS every ``interval`` seconds in a thread; CPU time at start and stop."""

    def __init__(self, pids: dict[str, int], interval: float = 0.5) -> None:
        self.pids = pids
        self.interval = interval
        self.samples = {name: ProcessSamples() for name in pids}
        self.wall_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = 0.0
        self._machine_start: tuple[float, float] | None = None
        self._machine_end: tuple[float, float] | None = None

    def start(self) -> Sampler:
        self._started = time.monotonic()
        self._machine_start = read_machine_cpu_seconds()
        for name, pid in self.pids.items():
            self.samples[name].cpu_start = read_cpu_seconds(pid)
            self.samples[name].wait_start = read_cpu_wait_seconds(pid)
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> Sampler:
        self._stop.set()
        self._thread.join()
        self._sample()
        for name, pid in self.pids.items():
            self.samples[name].cpu_end = read_cpu_seconds(pid)
            self.samples[name].wait_end = read_cpu_wait_seconds(pid)
        self._machine_end = read_machine_cpu_seconds()
        self.wall_seconds = time.monotonic() - self._started
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            rss = read_rss_bytes(pid)
            if rss is not None:
                self.samples[name].rss.append(rss)

    def cores_used(self, name: str) -> float:
        """Average CPU cores the process used while sampled."""
        return self.samples[name].cpu_seconds / self.wall_seconds if self.wall_seconds else float("nan")

    def cpu_wait_share(self, name: str) -> float:
        """The share of the sampled time the process's main thread was runnable but waiting for a CPU."""
        return self.samples[name].cpu_wait_seconds / self.wall_seconds if self.wall_seconds else float("nan")

    def machine_cores_busy(self) -> float:
        """Average CPU cores the whole machine (every process on it) kept busy while sampled."""
        if self._machine_start is None or self._machine_end is None or not self.wall_seconds:
            return float("nan")
        return (self._machine_end[0] - self._machine_start[0]) / self.wall_seconds
