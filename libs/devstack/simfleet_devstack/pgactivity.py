"""What the services' PostgreSQL connections were doing during a bench run.

``pg_stat_activity`` is read every ``interval`` (20 ms) for the bench's databases
(``<prefix>_<service>``), and each connection seen busy is counted under what it
waited for at that moment:

* *waiting for the service*: inside a transaction or a statement, the server
  waits for the service's next message (``idle in transaction``, or ``active``
  waiting on ``ClientRead``). The service is computing, waiting for a CPU, or
  waiting for its event loop to come back to this transaction;
* *PostgreSQL working*: running a statement (``active``, no wait event);
* *locks*: waiting for a row or table lock (wait event type ``Lock``);
* *WAL and disk*: writing or flushing the write-ahead log, reading pages
  (``IO``, and ``LWLock`` waits on the WAL).

With the transactions each database committed in the same time
(``pg_stat_database.xact_commit``), Little's law gives how long a transaction
was open on average: the mean number of busy connections divided by the
commits per second. A sample is a moment, not a trace: the shares are of the
moments a connection was busy, which is what the mean splits into.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg

SERVICE = "waiting for the service"
WORKING = "PostgreSQL working"
LOCKS = "locks"
WAL = "WAL and disk"
OTHER = "other"
STATES = (SERVICE, WORKING, LOCKS, WAL, OTHER)

_ACTIVITY = """
SELECT datname, state, wait_event_type, wait_event
FROM pg_stat_activity
WHERE datname LIKE $1 AND pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'
"""
_COMMITS = "SELECT datname, xact_commit FROM pg_stat_database WHERE datname LIKE $1"


def classify(state: str, wait_event_type: str | None, wait_event: str | None) -> str:
    """What a busy connection was doing, from its row of ``pg_stat_activity``."""
    if state.startswith("idle in transaction") or (wait_event_type == "Client" and wait_event == "ClientRead"):
        return SERVICE
    if wait_event_type is None:
        return WORKING if state == "active" else OTHER
    if wait_event_type == "Lock":
        return LOCKS
    if wait_event_type == "IO" or (wait_event_type == "LWLock" and (wait_event or "").startswith("WAL")):
        return WAL
    return OTHER


@dataclass
class DatabaseActivity:
    """One service's database over the sampled time."""

    busy: Counter[str] = field(default_factory=Counter)
    """Busy connections seen, summed over the samples, by what they waited for."""
    commits: int = 0

    def mean_busy(self, samples: int) -> float:
        return sum(self.busy.values()) / samples if samples else float("nan")

    def share(self, state: str) -> float:
        total = sum(self.busy.values())
        return self.busy[state] / total if total else float("nan")

    def transaction_seconds(self, samples: int, seconds: float) -> float:
        """Mean time a transaction was open (Little's law): busy connections over commits per second."""
        if not self.commits or seconds <= 0:
            return float("nan")
        return self.mean_busy(samples) / (self.commits / seconds)


@dataclass
class Activity:
    samples: int = 0
    seconds: float = 0.0
    databases: dict[str, DatabaseActivity] = field(default_factory=dict)

    def database(self, service: str) -> DatabaseActivity:
        return self.databases.setdefault(service, DatabaseActivity())


class ActivitySampler:
    """Samples ``pg_stat_activity`` for the databases ``<prefix>_<service>`` in a thread of its own."""

    def __init__(self, url: str, prefix: str, *, interval: float = 0.02) -> None:
        self._url = url
        self._prefix = f"{prefix}_"
        self._interval = interval
        self.activity = Activity()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)

    def start(self) -> ActivitySampler:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> Activity:
        self._stop.set()
        self._thread.join(timeout=30)
        if self._error is not None:
            raise self._error
        return self.activity

    def _service(self, datname: str) -> str:
        return datname[len(self._prefix) :]

    def _run(self) -> None:
        try:
            asyncio.run(self._sample())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller in stop()
            self._error = exc
            self._ready.set()

    async def _sample(self) -> None:
        conn = await asyncpg.connect(self._url.replace("postgresql+asyncpg://", "postgresql://"))
        pattern = self._prefix.replace("_", r"\_") + "%"
        try:
            before = dict(await conn.fetch(_COMMITS, pattern))
            started = time.monotonic()
            self._ready.set()
            while not self._stop.is_set():
                for datname, state, wait_type, wait_event in await conn.fetch(_ACTIVITY, pattern):
                    self.activity.database(self._service(datname)).busy[classify(state, wait_type, wait_event)] += 1
                self.activity.samples += 1
                await asyncio.sleep(self._interval)
            self.activity.seconds = time.monotonic() - started
            for datname, commits in await conn.fetch(_COMMITS, pattern):
                self.activity.database(self._service(datname)).commits = commits - before.get(datname, 0)
        finally:
            await conn.close()
