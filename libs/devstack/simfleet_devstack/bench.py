"""``python -m simfleet_devstack.bench --output docs/BENCHMARKS.md [--rate 50 --duration 20]`` (``make bench``).

Five parts, all by default (``--parts``): ``signins`` and ``lines`` below,
``reads`` (:mod:`simfleet_devstack.readbench`: ``GET /v1/me`` and
``GET /v1/lines`` under wrk next to a floor, on SQLite and on PostgreSQL, each
on a platform of its own), ``rating`` (:mod:`simfleet_devstack.ratingbench`)
and ``console`` (:mod:`simfleet_devstack.consolebench`: the web console's
first-load JavaScript and its lines page for a customer of ``--scale-lines``
lines, in Chromium). A run of some parts rewrites only their sections of
the report and keeps the others. The reads need ``wrk`` on the PATH; the bench
says so and stops before starting anything when it is missing, and so it does
when the PostgreSQL server (``--postgres-url``) does not answer.

Starts the platform on free ports in a temporary folder, seeds bench users,
measures each process's resident memory idle, runs an open-loop load of SMS-OTP
sign-ins through the gateway (see :mod:`simfleet_devstack.loadgen`) while
sampling memory and CPU, reads the services' latency histograms before and
after, and writes the report. Goals that are not met are reported, never
turned into a failing exit status; only a platform that cannot start is (1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from simfleet_devstack import logscan, promtext
from simfleet_devstack.consolebench import TITLE as CONSOLE_TITLE
from simfleet_devstack.consolebench import ConsoleBenchError, console_problem, render_console, run_console
from simfleet_devstack.linebench import LinesResult, render_lines, run_lines
from simfleet_devstack.loadgen import LoadResult, LoadSettings, SignInLoad
from simfleet_devstack.pgactivity import ActivitySampler
from simfleet_devstack.platform import Platform, PlatformConfig, PlatformError
from simfleet_devstack.procstats import Sampler
from simfleet_devstack.ratingbench import rating_on, render_rating
from simfleet_devstack.readbench import (
    DATABASES,
    DEFAULT_POSTGRES_URL,
    POSTGRES_PREFIX,
    POSTGRESQL,
    SQLITE,
    ReadsResult,
    WrkError,
    WrkSettings,
    postgres_problem,
    render_reads,
    replace_sections,
    run_reads,
    wrk_binary,
)
from simfleet_devstack.report import (
    BENCH_CLIENT,
    HISTOGRAMS,
    QUEUE_GAUGES,
    BenchRun,
    Machine,
    goals_table,
    latency_table,
    render,
    render_postgres_signins,
)
from simfleet_devstack.seed import DEMO_CUSTOMER_ID, SeedUser, create_users

# The limits that protect real users from attackers would throttle a bench that
# signs in 200 numbers from one address; these raise them (names are the services' settings).
BENCH_SETTINGS: dict[str, dict[str, str]] = {
    "identity": {
        "IDENTITY_OTP_SEND_LIMIT_PER_PHONE": "1000",
        "IDENTITY_OTP_SEND_LIMIT_PER_CLIENT": "100000",
    },
    "gateway": {
        "GATEWAY_AUTH_RATE_LIMIT_PER_MINUTE": "100000",
        "GATEWAY_AUTH_RATE_LIMIT_BURST": "1000",
    },
}


def bench_users(count: int) -> list[SeedUser]:
    return [
        SeedUser(
            customer_id=DEMO_CUSTOMER_ID,
            phone=f"+7999100{index:04d}",
            email=f"bench-{index:04d}@bench.example",
            display_name=f"Bench User {index:04d}",
        )
        for index in range(count)
    ]


def machine() -> Machine:
    model = "unknown CPU"
    memory_kib = 0
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory_kib = int(line.split()[1])
    except OSError:
        pass
    return Machine(
        cpus=len(os.sched_getaffinity(0)),
        cpu_model=model,
        memory_gib=memory_kib / 1024 / 1024,
        kernel=os.uname().release,
        python=sys.version.split()[0],
    )


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _scrape(platform: Platform) -> dict[str, dict[promtext.HistogramKey, promtext.Histogram]]:
    return {name: promtext.scrape(url, HISTOGRAMS) for name, url in platform.metrics_urls().items()}


def _load(platform: Platform, phones: list[str], args: argparse.Namespace, duration: float) -> LoadResult:
    settings = LoadSettings(
        gateway_url=platform.gateway_url,
        console_url=platform.console_url,
        phones=phones,
        rate=args.rate,
        duration=duration,
        poll_first=args.poll_first,
        poll_interval=args.poll_interval,
        nats_url=platform.nats_url,
    )
    return asyncio.run(SignInLoad(settings).run())


PARTS = ("signins", "lines", "reads", "rating", "console")
SIGN_IN_TITLE = "Benchmarks"
SIGN_IN_POSTGRES_TITLE = "Sign-ins on PostgreSQL"
LINES_TITLE = "Lines and operations"
READS_TITLE = "Authenticated reads"
RATING_TITLE = "Rating usage"


def command_line(args: argparse.Namespace) -> str:
    return (
        f"python -m simfleet_devstack.bench --output {args.output} --rate {args.rate:g} --duration {args.duration:g} "
        f"--users {args.users} --warmup {args.warmup:g} --poll-first {args.poll_first:g} "
        f"--poll-interval {args.poll_interval:g} --bulk-lines {args.bulk_lines} --scale-lines {args.scale_lines} "
        f"--pages {args.pages}"
        + ("" if list(args.parts) == list(PARTS) else f" --parts {','.join(args.parts)}")
        + ("" if list(args.databases) == list(DATABASES) else f" --databases {','.join(args.databases)}")
    )


def postgres_signins_command_line(args: argparse.Namespace) -> str:
    return (
        f"python -m simfleet_devstack.bench --output {args.output} --parts signins --databases postgresql "
        f"--rate {args.rate:g} --duration {args.duration:g} --users {args.users} --warmup {args.warmup:g} "
        f"--poll-first {args.poll_first:g} --poll-interval {args.poll_interval:g}"
    )


def reads_command_line(args: argparse.Namespace) -> str:
    return (
        f"python -m simfleet_devstack.bench --output {args.output} --parts reads "
        f"--databases {','.join(args.databases)} --wrk-seconds {args.wrk_seconds:g} "
        f"--wrk-connections {args.wrk_connections} --wrk-warmup {args.wrk_warmup:g}"
    )


def rating_command_line(args: argparse.Namespace) -> str:
    return (
        f"python -m simfleet_devstack.bench --output {args.output} --parts rating "
        f"--databases {','.join(args.databases)} --usage-records {args.usage_records}"
    )


def console_command_line(args: argparse.Namespace) -> str:
    return (
        f"python -m simfleet_devstack.bench --output {args.output} --parts console "
        f"--scale-lines {args.scale_lines} --console-loads {args.console_loads}"
    )


def run(args: argparse.Namespace, database: str = SQLITE) -> tuple[BenchRun, LinesResult | None]:
    """Sign-ins (and on SQLite, the lines part) on a fresh platform whose services keep ``database``."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"simfleet-bench-{database}-"))
    overrides: dict[str, object] = {"extra_env": BENCH_SETTINGS}
    if database == POSTGRESQL:
        overrides.update(postgres_url=args.postgres_url, postgres_prefix=POSTGRES_PREFIX, postgres_reset=True)
    platform = Platform(PlatformConfig.free_ports(data_dir, **overrides))
    try:
        _say(f"starting the platform in {data_dir}")
        platform.start()
        platform.wait_ready(timeout=120)
        platform.seed()
        users = bench_users(args.users)
        created = create_users(platform.identity_target, platform.config.operator_key, users)
        platform.analyze()  # on PostgreSQL: statistics, as a database in service has them
        _say(f"{created} bench users created; letting the platform settle for {args.settle:g} s")
        time.sleep(args.settle)

        pids = {**platform.pids(), BENCH_CLIENT: os.getpid()}
        idle = Sampler(pids, interval=0.5).start()
        time.sleep(3)
        idle.stop()

        phones = [user.phone for user in users]
        if args.warmup > 0:
            _say(f"warm-up: {args.rate:g} sign-ins/s for {args.warmup:g} s")
            _load(platform, phones, args, args.warmup)
        before = _scrape(platform)
        log_offsets = {name: logscan.size(platform.log_path(name)) for name in platform.processes}
        _say(f"measuring: {args.rate:g} sign-ins/s for {args.duration:g} s")
        under_load = Sampler(pids, interval=0.5).start()
        queues = promtext.GaugeWatcher(platform.metrics_urls(), QUEUE_GAUGES).start()
        activity = ActivitySampler(args.postgres_url, POSTGRES_PREFIX).start() if database == POSTGRESQL else None
        result = _load(platform, phones, args, args.duration)
        pg_activity = activity.stop() if activity is not None else None
        queues.stop()
        under_load.stop()
        after = _scrape(platform)
        platform.raise_if_dead()
        lines = None
        if args.bulk_lines > 0 and database == SQLITE:
            lines = run_lines(
                platform,
                bulk_lines=args.bulk_lines,
                scale_lines=args.scale_lines,
                pages=args.pages,
                pids={**platform.pids(), BENCH_CLIENT: os.getpid()},
            )
            platform.raise_if_dead()
        return BenchRun(
            command=command_line(args) if database == SQLITE else postgres_signins_command_line(args),
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            machine=machine(),
            users=args.users,
            warmup=args.warmup,
            poll_first=args.poll_first,
            poll_interval=args.poll_interval,
            settings_changed=BENCH_SETTINGS,
            load=result,
            idle=idle,
            under_load=under_load,
            histograms={name: promtext.difference(before.get(name, {}), after[name]) for name in after},
            queues=queues.traces,
            logged={
                name: logscan.serious_lines(platform.log_path(name), offset) for name, offset in log_offsets.items()
            },
            pg_activity=pg_activity,
        ), lines
    finally:
        platform.stop()
        if args.keep_data:
            _say(f"data and logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simfleet_devstack.bench", description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("docs/BENCHMARKS.md"), help="the report to write")
    parser.add_argument("--rate", type=float, default=50.0, help="offered sign-ins per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of measured load")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of uncounted load first")
    parser.add_argument("--users", type=int, default=200, help="bench users (+7999100xxxx)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between seeding and the idle sample")
    parser.add_argument("--poll-first", type=float, default=0.15, help="seconds before the first inbox read")
    parser.add_argument(
        "--poll-interval", type=float, default=0.1, help="first pause between inbox reads (then doubling)"
    )
    parser.add_argument(
        "--bulk-lines", type=int, default=100_000, help="lines blocked in one operation (0: no lines part)"
    )
    parser.add_argument("--scale-lines", type=int, default=1_000_000, help="lines of the customer whose pages are read")
    parser.add_argument("--pages", type=int, default=300, help="requests of each kind of GET /v1/lines page")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary folder (logs, databases)")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)} (lines needs signins)"
    )
    parser.add_argument(
        "--databases",
        default=",".join(DATABASES),
        help="comma-separated: where the sign-ins, reads and rating parts run (sqlite, postgresql); "
        "the lines part runs with the sign-ins on sqlite",
    )
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES_URL, help="the PostgreSQL server for --databases postgresql"
    )
    parser.add_argument("--wrk-seconds", type=float, default=10.0, help="seconds wrk drives each read")
    parser.add_argument("--wrk-connections", type=int, default=32, help="wrk's connections (one thread)")
    parser.add_argument("--wrk-warmup", type=float, default=2.0, help="seconds of uncounted wrk load first")
    parser.add_argument(
        "--usage-records", type=int, default=1_000_000, help="usage records the rating part makes and rates"
    )
    parser.add_argument(
        "--console-loads", type=int, default=5, help="loads of the lines page the console part times after the first"
    )
    parser.add_argument(
        "--hold", type=float, default=0.0, help="seconds to wait before the reads (to attach a profiler)"
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or not 0 < args.users <= 10_000:
        parser.error("--rate and --duration must be positive, --users between 1 and 10000")
    args.parts = [p for p in args.parts.split(",") if p]
    args.databases = [d for d in args.databases.split(",") if d]
    if not args.parts or set(args.parts) - set(PARTS) or ("lines" in args.parts and "signins" not in args.parts):
        parser.error(f"--parts takes some of {', '.join(PARTS)}, and lines only with signins")
    if set(args.databases) - set(DATABASES) or not args.databases:
        parser.error(f"--databases takes some of {', '.join(DATABASES)}")
    if "lines" in args.parts and SQLITE not in args.databases:
        parser.error("the lines part runs with the sign-ins on sqlite: --databases must name sqlite")
    if args.wrk_seconds <= 0 or args.wrk_connections <= 0 or args.wrk_warmup < 0:
        parser.error("--wrk-seconds and --wrk-connections must be positive")
    if "lines" not in args.parts:
        args.bulk_lines = 0
    return args


def _raise_open_files_limit() -> None:
    """An open-loop client under overload holds many connections; the hard limit is the ceiling."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _reads(args: argparse.Namespace) -> ReadsResult:
    settings = WrkSettings(connections=args.wrk_connections, seconds=args.wrk_seconds, warmup=args.wrk_warmup)
    return run_reads(
        args.databases,
        settings,
        command=reads_command_line(args),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        postgres_url=args.postgres_url,
        hold=args.hold,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _raise_open_files_limit()
    if "reads" in args.parts:
        try:
            wrk_binary()
        except WrkError as exc:
            _say(str(exc))
            return 2
    if "console" in args.parts:
        problem = console_problem()
        if problem is not None:
            _say(problem)
            return 2
    if POSTGRESQL in args.databases:
        problem = postgres_problem(args.postgres_url)
        if problem is not None:
            _say(problem)
            return 2
    sections: dict[str, str] = {}
    summary: list[str] = []
    try:
        if "signins" in args.parts and SQLITE in args.databases:
            result, lines = run(args)
            sections[SIGN_IN_TITLE] = render(result)
            summary += [*goals_table(result), "", *latency_table(result.load), ""]
            if lines is not None:
                sections[LINES_TITLE] = "\n".join(render_lines(lines, command_line(args)))
        if "signins" in args.parts and POSTGRESQL in args.databases:
            on_postgres, _ = run(args, POSTGRESQL)
            sections[SIGN_IN_POSTGRES_TITLE] = render_postgres_signins(on_postgres)
            summary += [*goals_table(on_postgres), "", *latency_table(on_postgres.load), ""]
        if "rating" in args.parts:
            runs = [
                rating_on(database, records=args.usage_records, postgres_url=args.postgres_url)
                for database in args.databases
            ]
            rendered = render_rating(runs, rating_command_line(args), datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
            sections[RATING_TITLE] = "\n".join(rendered)
            summary += [line for line in rendered if line.startswith("|")]
        if "reads" in args.parts:
            reads = _reads(args)
            rendered = render_reads(reads)
            sections[READS_TITLE] = "\n".join(rendered)
            summary += [line for line in rendered if line.startswith(("|", "## "))]
        if "console" in args.parts:
            console = run_console(lines=args.scale_lines, loads=args.console_loads, command=console_command_line(args))
            rendered = render_console(console)
            sections[CONSOLE_TITLE] = "\n".join(rendered)
            summary += [line for line in rendered if line.startswith("|")]
    except ConsoleBenchError as exc:
        _say(str(exc))
        return 2
    except PlatformError as exc:
        _say(f"the platform failed, no report written:\n{exc}")
        return 1
    except WrkError as exc:
        _say(f"wrk failed, no report written:\n{exc}")
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    existing = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(replace_sections(existing, sections))
    print("\n".join(summary))
    _say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
