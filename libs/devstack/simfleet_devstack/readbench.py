"""The authenticated-reads part of ``make bench``: ``GET /v1/me`` and ``GET /v1/lines?limit=50`` under wrk.

For each database asked for (SQLite, as ``make up`` runs; PostgreSQL, as a
cluster runs) a fresh platform is started on free ports and seeded (the demo
customer and its lines), the demo manager signs in with its password, and wrk
(1 thread, 32 connections, closed loop) drives each read with the manager's
bearer token after an uncounted warm-up. The same run drives the *floor*
(:mod:`simfleet_devstack.floor`: a bare FastAPI app making one grpc.aio call to
an echo server in another process) the same way, and each read is reported as
a ratio to it. wrk is Debian's ``wrk`` package (``apt-get install -y wrk``); the
bench does not install it.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simfleet_devstack import databases, floor
from simfleet_devstack.platform import GATEWAY, IDENTITY, INVENTORY, LOCALHOST, Platform, PlatformConfig
from simfleet_devstack.ports import distinct_free_ports
from simfleet_devstack.process import ManagedProcess
from simfleet_devstack.procstats import Sampler
from simfleet_devstack.seed import DEMO_MANAGER

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
DATABASES = (SQLITE, POSTGRESQL)
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_PREFIX = "simfleet_readbench"
"""Databases on the PostgreSQL server: simfleet_readbench_<service>, dropped and re-created each run."""

FLOOR = "floor"
ME = "GET /v1/me"
LINES = "GET /v1/lines?limit=50"
READ_PATHS = {ME: "/v1/me", LINES: "/v1/lines?limit=50"}

GOAL_RATIO = 0.6
GOAL_P99_SECONDS = 0.030

WRK_MISSING = (
    "wrk is not installed (the authenticated-reads part drives the reads with it): install it with "
    "`apt-get install -y wrk` (Debian, Ubuntu) or `brew install wrk` (macOS), or leave the part out "
    "with --parts signins,lines"
)

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = r"([0-9.]+)(us|ms|s|m|h)"


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed something this parser does not understand."""


@dataclass(frozen=True)
class WrkSettings:
    threads: int = 1
    connections: int = 32
    seconds: float = 10.0
    warmup: float = 2.0


@dataclass
class WrkResult:
    """What ``wrk --latency`` printed for one run (latencies in seconds)."""

    requests: int
    seconds: float
    requests_per_second: float
    percentiles: dict[int, float]
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def p50(self) -> float:
        return self.percentiles.get(50, math.nan)

    @property
    def p99(self) -> float:
        return self.percentiles.get(99, math.nan)

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def _duration(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Parse ``wrk --latency`` output: requests, req/s, the latency distribution, errors."""
    total = re.search(r"^\s*(\d+) requests in " + _DURATION, output, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s*([0-9.]+)", output, re.MULTILINE)
    if total is None or rate is None:
        raise WrkError(f"wrk's output has no totals:\n{output}")
    percentiles = {
        int(m.group(1)): _duration(m.group(2), m.group(3))
        for m in re.finditer(r"^\s*(\d+)%\s+" + _DURATION + r"\s*$", output, re.MULTILINE)
    }
    if 99 not in percentiles:
        raise WrkError(f"wrk's output has no latency distribution (run it with --latency):\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True)) if sockets else {}
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_duration(total.group(2), total.group(3)),
        requests_per_second=float(rate.group(1)),
        percentiles=percentiles,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors={k: v for k, v in socket_errors.items() if v},
    )


def postgres_problem(url: str) -> str | None:
    """Why the PostgreSQL server at ``url`` cannot be used, or None when it answers."""
    try:
        databases.ensure_postgres_databases(url, [])
    except Exception as exc:  # noqa: BLE001 - any failure is reported as it is
        return (
            f"PostgreSQL does not answer at {url} ({type(exc).__name__}: {exc}): start it, give another "
            "server with --postgres-url, or leave it out with --databases sqlite"
        )
    return None


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkError(WRK_MISSING)
    return found


def wrk_command(url: str, settings: WrkSettings, seconds: float, headers: dict[str, str]) -> list[str]:
    command = [
        wrk_binary(),
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{seconds:g}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    return [*command, url]


@dataclass
class ReadRun:
    """One target driven by wrk, and each process's CPU meanwhile."""

    target: str
    wrk: WrkResult
    cores: dict[str, float]
    machine_cores: float


@dataclass
class DatabaseReads:
    """The floor and the reads of one platform on one database."""

    database: str
    background_cores: float
    runs: list[ReadRun]
    lines_seen: int = 0

    def run(self, target: str) -> ReadRun | None:
        return next((r for r in self.runs if r.target == target), None)


@dataclass
class ReadsResult:
    command: str
    date: str
    cpus: int
    settings: WrkSettings
    databases: list[DatabaseReads]


def drive(url: str, settings: WrkSettings, headers: dict[str, str], pids: dict[str, int], target: str) -> ReadRun:
    """A warm-up (not counted), then the measured wrk run with CPU sampled around it."""
    if settings.warmup > 0:
        subprocess.run(
            wrk_command(url, settings, settings.warmup, headers), capture_output=True, text=True, check=False
        )
    sampler = Sampler(pids, interval=1.0).start()
    done = subprocess.run(
        wrk_command(url, settings, settings.seconds, headers), capture_output=True, text=True, check=False
    )
    sampler.stop()
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return ReadRun(
        target=target,
        wrk=parse_wrk(done.stdout),
        cores={name: sampler.cores_used(name) for name in pids},
        machine_cores=sampler.machine_cores_busy(),
    )


@contextmanager
def running_floor(data_dir: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """Start the floor's two processes; yields its URL and their pids."""
    app_port, echo_port = distinct_free_ports(2)
    python = sys.executable
    echo = ManagedProcess(
        "floor-echo",
        [python, "-m", "simfleet_devstack.floor", "echo", "--port", str(echo_port)],
        log_path=data_dir / "floor-echo.log",
    )
    app = ManagedProcess(
        "floor-app",
        [
            python,
            "-m",
            "simfleet_devstack.floor",
            "app",
            "--port",
            str(app_port),
            "--target",
            f"{LOCALHOST}:{echo_port}",
        ],
        log_path=data_dir / "floor-app.log",
    )
    url = f"http://{LOCALHOST}:{app_port}{floor.PATH}"
    try:
        echo.start(truncate_log=True)
        app.start(truncate_log=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not (echo.running() and app.running()):
                raise WrkError(f"the floor did not start:\n{app.log_tail()}\n{echo.log_tail()}")
            time.sleep(0.2)
        assert app.pid is not None and echo.pid is not None
        yield url, {"floor app": app.pid, "floor echo": echo.pid}
    finally:
        app.stop(5)
        echo.stop(5)


def _bearer(gateway_url: str) -> tuple[dict[str, str], int]:
    with httpx.Client(base_url=gateway_url, timeout=10) as api:
        answer = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
        answer.raise_for_status()
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        for path in READ_PATHS.values():
            api.get(path, headers=headers).raise_for_status()
        lines = api.get(READ_PATHS[LINES], headers=headers).json()
    return headers, len(lines.get("items", []))


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def reads_on(
    database: str,
    settings: WrkSettings,
    *,
    postgres_url: str,
    extra_env: dict[str, dict[str, str]],
    settle: float = 3.0,
    hold: float = 0.0,
) -> DatabaseReads:
    """A fresh platform on ``database``: seeded, idle sample, then the floor, /v1/me and /v1/lines under wrk."""
    wrk_binary()
    data_dir = Path(tempfile.mkdtemp(prefix=f"simfleet-readbench-{database}-"))
    overrides: dict[str, object] = {"extra_env": extra_env}
    if database == POSTGRESQL:
        overrides.update(postgres_url=postgres_url, postgres_prefix=POSTGRES_PREFIX, postgres_reset=True)
    platform = Platform(PlatformConfig.free_ports(data_dir, **overrides))
    try:
        _say(f"reads on {database}: starting the platform in {data_dir}")
        platform.start()
        platform.wait_ready(timeout=120)
        platform.seed()
        platform.analyze()  # statistics, as a database in service has them (see databases.analyze_...)
        headers, lines_seen = _bearer(platform.gateway_url)
        time.sleep(settle)
        pids = {name: pid for name, pid in platform.pids().items() if name in (GATEWAY, IDENTITY, INVENTORY)}
        idle = Sampler(pids, interval=1.0).start()
        time.sleep(3)
        idle.stop()
        runs: list[ReadRun] = []
        with running_floor(data_dir) as (floor_url, floor_pids):
            _say(f"reads on {database}: the floor, {settings.seconds:g} s")
            runs.append(drive(floor_url, settings, {}, floor_pids, FLOOR))
        if hold > 0:
            _say(f"reads on {database}: platform pids {platform.pids()}; holding {hold:g} s before the reads")
            time.sleep(hold)
        for target, path in READ_PATHS.items():
            _say(f"reads on {database}: {target}, {settings.seconds:g} s")
            runs.append(drive(f"{platform.gateway_url}{path}", settings, headers, pids, target))
            platform.raise_if_dead()
        return DatabaseReads(
            database=database, background_cores=idle.machine_cores_busy(), runs=runs, lines_seen=lines_seen
        )
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def run_reads(
    databases: list[str],
    settings: WrkSettings,
    *,
    command: str,
    date: str,
    postgres_url: str = DEFAULT_POSTGRES_URL,
    extra_env: dict[str, dict[str, str]] | None = None,
    hold: float = 0.0,
) -> ReadsResult:
    results = [
        reads_on(database, settings, postgres_url=postgres_url, extra_env=extra_env or {}, hold=hold)
        for database in databases
    ]
    return ReadsResult(
        command=command, date=date, cpus=len(os.sched_getaffinity(0)), settings=settings, databases=results
    )


# ---------------------------------------------------------------- report


def _ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def goal_met(run: ReadRun, floor_run: ReadRun | None) -> bool:
    if floor_run is None or floor_run.wrk.requests_per_second <= 0:
        return False
    ratio = run.wrk.requests_per_second / floor_run.wrk.requests_per_second
    return ratio >= GOAL_RATIO and run.wrk.p99 <= GOAL_P99_SECONDS and run.wrk.errors == 0


def reads_table(result: DatabaseReads) -> list[str]:
    """Target, req/s, p50, p99, ratio to the floor, errors, goal met or not."""
    floor_run = result.run(FLOOR)
    rows = [
        "| target | req/s | p50 (ms) | p99 (ms) | ratio to floor | errors | goal |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in result.runs:
        wrk = run.wrk
        if run.target == FLOOR:
            ratio, goal = "1.00", "(the floor)"
        else:
            base = floor_run.wrk.requests_per_second if floor_run else 0.0
            ratio = f"{wrk.requests_per_second / base:.2f}" if base > 0 else "n/a"
            goal = "met" if goal_met(run, floor_run) else "**not met**"
        label = "floor (FastAPI + one grpc.aio call)" if run.target == FLOOR else f"`{run.target}`"
        rows.append(
            f"| {label} | {wrk.requests_per_second:,.0f} | {_ms(wrk.p50)} | {_ms(wrk.p99)} | {ratio} | "
            f"{wrk.errors} | {goal} |"
        )
    return rows


def cpu_table(result: DatabaseReads) -> list[str]:
    names = sorted({name for run in result.runs for name in run.cores})
    rows = [
        "| target | " + " | ".join(names) + " | whole machine |",
        "| --- | " + " | ".join("---:" for _ in names) + " | ---: |",
    ]
    for run in result.runs:
        rate = run.wrk.requests_per_second
        cells = [
            f"{run.cores[n]:.2f} ({run.cores[n] * 1000 / rate:.1f} ms)" if n in run.cores and rate > 0 else ""
            for n in names
        ]
        rows.append(f"| {run.target} | " + " | ".join(cells) + f" | {run.machine_cores:.2f} |")
    return rows


DATABASE_LABELS = {
    SQLITE: "SQLite (what `make up` runs: each service on its own file)",
    POSTGRESQL: "PostgreSQL (what a cluster runs: each service on its own database, 127.0.0.1:5432)",
}


def render_reads(result: ReadsResult) -> list[str]:
    s = result.settings
    out = [
        "# Authenticated reads",
        "",
        "`GET /v1/me` and `GET /v1/lines?limit=50` with a signed-in user's bearer token, next to a floor measured "
        "in the same run. Written by `make bench`; every figure below comes from this run:",
        "",
        "```",
        result.command,
        "```",
        "",
        f"- Date: {result.date}; {result.cpus} CPUs, shared by the platform, the floor and wrk.",
        f"- Load: wrk {s.threads} thread, {s.connections} connections, closed loop, {s.seconds:g} s per target "
        f"after a {s.warmup:g} s warm-up that is not counted; latency percentiles as wrk reports them (`--latency`).",
        "- Floor: a bare FastAPI app under uvicorn (one process, the gateway's uvicorn settings) making one unary "
        "grpc.aio call per request to an echo server in another process (`python -m simfleet_devstack.floor`).",
        "- Platform: a fresh one per database, on free ports, seeded as `make up` seeds it (the demo customer and "
        "its lines), and on PostgreSQL analysed after seeding (`ANALYZE`: without statistics a page of lines was "
        "planned for empty tables and took 11 ms in the database instead of 0.2 ms); the reads are the demo "
        "manager's (whole-company scope), signed in with its password.",
        f"- Goal: at least {GOAL_RATIO:g} times the floor's requests per second, p99 at most "
        f"{GOAL_P99_SECONDS * 1000:.0f} ms, and no errors (non-2xx answers or socket errors).",
        "",
    ]
    for db in result.databases:
        busy = db.background_cores >= 0.15
        out += [
            f"## {DATABASE_LABELS.get(db.database, db.database)}",
            "",
            f"Background: while the platform sat idle before the reads, the machine was busy "
            f"{db.background_cores:.2f} of {result.cpus} cores"
            + (
                " — other work was sharing the machine, so these figures are from a busy machine."
                if busy
                else " (anything above ~0.1 is other work sharing the machine)."
            ),
            "",
            *reads_table(db),
            "",
            "CPU during each run, in cores and (in brackets) CPU milliseconds per request: the second figure "
            "depends less on what else the machine runs.",
            "",
            *cpu_table(db),
            "",
        ]
    return out


def replace_sections(document: str, sections: dict[str, str]) -> str:
    """``document`` with each top-level ``# Title`` section named in ``sections`` replaced (or appended).

    A section runs from its ``# `` heading to the next one outside a code fence.
    """
    parts: list[tuple[str, list[str]]] = [("", [])]
    fenced = False
    for line in document.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("# "):
            parts.append((line[2:].strip(), []))
        parts[-1][1].append(line)
    out: list[str] = []
    done: set[str] = set()
    for title, lines in parts:
        if title in sections:
            out.append(sections[title].strip("\n"))
            done.add(title)
        elif lines:
            out.append("\n".join(lines).strip("\n"))
    out += [sections[t].strip("\n") for t in sections if t not in done]
    return "\n\n".join(chunk for chunk in out if chunk) + "\n"
