"""The rating part of ``make bench``: the network's usage rated end to end, and a line's balance read meanwhile.

On a fresh platform (the one ``make up`` runs: SQLite, or PostgreSQL), seeded
with the demo customer, netsim's mediation is asked for ``records`` usage
records of the demo lines (``UsageService.GenerateUsage``, published in
batches of 1,000 on ``NETSIM_USAGE``); the bench times from that request until
billing has taken them all (``simfleet_billing_usage_records_total``, rated or
rejected), sampling each process's CPU, while a client reads one line's usage
and balance (``GET /v1/lines/{msisdn}/usage``) a few times a second and keeps
the latencies. Exactly once is checked too: the records billing took equal
the records netsim made, with no duplicate.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx

from simfleet.netsim.v1 import usage_pb2, usage_pb2_grpc
from simfleet_devstack.platform import BILLING, BILLING_RATER, Platform, PlatformConfig
from simfleet_devstack.procstats import Sampler
from simfleet_devstack.promtext import parse_histograms
from simfleet_devstack.seed import DEMO_LINES_PREFIX, DEMO_MANAGER

POSTGRESQL = "postgresql"
POSTGRES_PREFIX = "simfleet_ratingbench"
GOAL_RECORDS_PER_SECOND = 10_000
GOAL_BALANCE_P99 = 0.050
READ_INTERVAL = 0.2


@dataclass
class RatingRun:
    database: str
    records: int
    generated: int
    seconds: float
    taken: float
    duplicates: float
    balance_reads: list[float] = field(default_factory=list)
    balance_failures: int = 0
    cores: dict[str, float] = field(default_factory=dict)
    machine_cores: float = 0.0
    batch_p50: float = float("nan")
    batch_p99: float = float("nan")

    @property
    def per_second(self) -> float:
        return self.taken / self.seconds if self.seconds else 0.0

    def read_quantile(self, q: float) -> float:
        ordered = sorted(self.balance_reads)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _counts(platform: Platform) -> tuple[float, float]:
    """The records billing's rater took (rated or rejected) and duplicates, from its metrics."""
    text = httpx.get(platform.metrics_urls()[BILLING_RATER], timeout=10).text
    taken = duplicates = 0.0
    for line in text.splitlines():
        if not line.startswith("simfleet_billing_usage_records_total{"):
            continue
        value = float(line.rsplit(" ", 1)[1])
        if 'outcome="duplicate"' in line:
            duplicates += value
        else:
            taken += value
    return taken, duplicates


def _batch_times(platform: Platform) -> tuple[float, float]:
    name = "simfleet_billing_rating_batch_seconds"
    text = httpx.get(platform.metrics_urls()[BILLING_RATER], timeout=10).text
    found = parse_histograms(text, {name})
    histogram = next(iter(found.values()), None)
    if histogram is None:
        return float("nan"), float("nan")
    return histogram.quantile(0.5), histogram.quantile(0.99)


class BalanceReader:
    """Reads a line's usage and balance every READ_INTERVAL seconds in a thread, keeping the latencies."""

    def __init__(self, base_url: str, headers: dict[str, str], msisdn: str) -> None:
        self.seconds: list[float] = []
        self.failures = 0
        self._url = f"{base_url}/v1/lines/{msisdn}/usage"
        self._headers = headers
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="balance-reader", daemon=True)

    def start(self) -> BalanceReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.wait(READ_INTERVAL):
                started = time.perf_counter()
                answer = client.get(self._url, headers=self._headers)
                if answer.status_code == 200:
                    self.seconds.append(time.perf_counter() - started)
                else:
                    self.failures += 1


def rating_on(database: str, *, records: int, postgres_url: str, timeout: float = 1800.0) -> RatingRun:
    data_dir = Path(tempfile.mkdtemp(prefix=f"simfleet-ratingbench-{database}-"))
    overrides: dict[str, object] = {}
    if database == POSTGRESQL:
        overrides.update(postgres_url=postgres_url, postgres_prefix=POSTGRES_PREFIX, postgres_reset=True)
    platform = Platform(PlatformConfig.free_ports(data_dir, **overrides))
    try:
        _say(f"rating on {database}: starting the platform in {data_dir}")
        platform.start()
        platform.wait_ready(timeout=120)
        platform.seed()
        with httpx.Client(base_url=platform.gateway_url, timeout=15) as api:
            signed = api.post(
                "/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password}
            )
            signed.raise_for_status()
            headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            lines = api.get("/v1/lines", params={"state": "active", "limit": 20}, headers=headers).json()["items"]
            msisdn = next(line["msisdn"] for line in lines if line["msisdn"].startswith(DEMO_LINES_PREFIX))
            deadline = time.monotonic() + 60
            while api.get(f"/v1/lines/{msisdn}/usage", headers=headers).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("billing never learnt of the demo lines")
                time.sleep(0.2)
        time.sleep(2)
        reader = BalanceReader(platform.gateway_url, headers, msisdn).start()
        sampler = Sampler(platform.pids(), interval=1.0).start()
        started = time.monotonic()
        _say(f"rating on {database}: {records:,} records of the demo lines")
        with grpc.insecure_channel(platform.netsim_target) as channel:
            made = usage_pb2_grpc.UsageServiceStub(channel).GenerateUsage(
                usage_pb2.GenerateUsageRequest(count=records, msisdn_prefixes=[DEMO_LINES_PREFIX]), timeout=600
            )
        _say(f"rating on {database}: {made.generated:,} published in {time.monotonic() - started:.1f} s")
        deadline = started + timeout
        taken, duplicates = _counts(platform)
        while taken < made.generated:
            if time.monotonic() > deadline:
                raise RuntimeError(f"billing took {taken:,.0f} of {made.generated:,} records in {timeout:g} s")
            platform.raise_if_dead()
            time.sleep(0.5)
            taken, duplicates = _counts(platform)
        seconds = time.monotonic() - started
        sampler.stop()
        reader.stop()
        p50, p99 = _batch_times(platform)
        run = RatingRun(
            database=database,
            records=records,
            generated=made.generated,
            seconds=seconds,
            taken=taken,
            duplicates=duplicates,
            balance_reads=reader.seconds,
            balance_failures=reader.failures,
            cores={name: sampler.cores_used(name) for name in platform.pids()},
            machine_cores=sampler.machine_cores_busy(),
            batch_p50=p50,
            batch_p99=p99,
        )
        _say(
            f"rating on {database}: {run.taken:,.0f} records in {run.seconds:.1f} s = {run.per_second:,.0f}/s; "
            f"balance p99 {run.read_quantile(0.99) * 1000:.1f} ms"
        )
        return run
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def render_rating(runs: list[RatingRun], command: str, date: str) -> list[str]:
    out = [
        "",
        "# Rating usage",
        "",
        f"Measured {date} with `{command}`: on a fresh platform per database (seeded with the demo customer), "
        "netsim's mediation publishes the records for the demo lines (`UsageService.GenerateUsage`, batches of "
        "1,000); the time runs from that request until billing's rater (a process of its own, `BILLING_ROLE=rater`) "
        "has taken every record (rated or rejected), while "
        f"a client reads one line's usage and balance (`GET /v1/lines/{{msisdn}}/usage`) every {READ_INTERVAL:g} s.",
        "",
        "| database | records | end to end | records/s (goal ≥ "
        f"{GOAL_RECORDS_PER_SECOND:,}) | duplicates | balance read p50 / p99 (goal ≤ {GOAL_BALANCE_P99 * 1000:.0f} ms) "
        "| transaction p50 / p99 (up to 4 batches) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        met = "met" if run.per_second >= GOAL_RECORDS_PER_SECOND else "NOT MET"
        read_met = "met" if run.read_quantile(0.99) <= GOAL_BALANCE_P99 else "NOT MET"
        out.append(
            f"| {run.database} | {run.taken:,.0f} of {run.generated:,} | {run.seconds:.1f} s | "
            f"{run.per_second:,.0f} ({met}) | {run.duplicates:,.0f} | "
            f"{run.read_quantile(0.5) * 1000:.1f} / {run.read_quantile(0.99) * 1000:.1f} ms ({read_met}; "
            f"{len(run.balance_reads)} reads, {run.balance_failures} failed) | "
            f"{run.batch_p50 * 1000:.0f} / {run.batch_p99 * 1000:.0f} ms |"
        )
    cpus = len(os.sched_getaffinity(0))
    out += ["", f"Where the time goes (average cores over the run; the machine has {cpus}):", ""]
    names = sorted({name for run in runs for name in run.cores})
    out.append("| database | " + " | ".join(names) + " | whole machine |")
    out.append("| --- | " + " | ".join("---" for _ in names) + " | --- |")
    for run in runs:
        cells = " | ".join(f"{run.cores.get(name, float('nan')):.2f}" for name in names)
        out.append(f"| {run.database} | {cells} | {run.machine_cores:.2f} |")
    if runs:
        out += ["", "CPU per record: " + "; ".join(_per_record(run) for run in runs)]
    return out


def _per_record(run: RatingRun) -> str:
    def micros(name: str) -> float:
        return run.cores.get(name, 0.0) * run.seconds / max(run.taken, 1.0) * 1e6

    return (
        f"{run.database}: billing's rater {micros(BILLING_RATER):.0f} µs, billing's API {micros(BILLING):.0f} µs, "
        f"netsim {micros('netsim'):.0f} µs"
    )
