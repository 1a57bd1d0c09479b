"""docs/BENCHMARKS.md from one benchmark run: the command, the machine, the figures, the goals."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from simfleet_devstack.loadgen import (
    GATEWAY_STEPS,
    HINTED_POLL_CEILING,
    SMS_DELIVERED,
    STEP_DELIVERY,
    STEP_OTP,
    STEP_TOTAL,
    STEP_VERIFY,
    LoadResult,
)
from simfleet_devstack.pgactivity import STATES, Activity
from simfleet_devstack.procstats import Sampler
from simfleet_devstack.promtext import GaugeKey, GaugeTrace, Histogram, HistogramKey

SERVICES = ("identity", "netsim", "accounts", "inventory", "billing", "ticketing", "notifications", "gateway")
BENCH_CLIENT = "bench client"
P99_GOAL_MS = 100.0
IDLE_RSS_GOAL_MIB = 150.0
SUSTAINED_SHARE = 0.95
ERROR_BUDGET = 0.01

HTTP_HISTOGRAM = "simfleet_http_request_duration_seconds"
GRPC_CLIENT_HISTOGRAM = "simfleet_grpc_client_handling_seconds"
GRPC_SERVER_HISTOGRAM = "simfleet_grpc_server_handling_seconds"
HISTOGRAMS = {HTTP_HISTOGRAM, GRPC_CLIENT_HISTOGRAM, GRPC_SERVER_HISTOGRAM}
OUTBOX_BACKLOG = "simfleet_outbox_backlog_messages"
CONSUMER_PENDING = "simfleet_nats_consumer_pending_messages"
QUEUE_GAUGES = {
    OUTBOX_BACKLOG,
    "simfleet_outbox_oldest_unpublished_seconds",
    CONSUMER_PENDING,
    "simfleet_http_requests_in_flight",
}
QUEUE_WORTH_A_NOTE = 25.0
# Which gateway route and identity method serve each measured call.
CALLS = {STEP_OTP: ("/v1/auth/otp", "StartOtpSignIn"), STEP_VERIFY: ("/v1/auth/otp/verify", "VerifyOtp")}


@dataclass
class Machine:
    cpus: int
    cpu_model: str
    memory_gib: float
    kernel: str
    python: str


@dataclass
class BenchRun:
    command: str
    date: str
    machine: Machine
    users: int
    warmup: float
    poll_first: float
    poll_interval: float
    settings_changed: dict[str, dict[str, str]]
    load: LoadResult
    idle: Sampler
    under_load: Sampler
    histograms: dict[str, dict[HistogramKey, Histogram]] = field(default_factory=dict)
    """Per process: what each histogram observed during the measured run."""
    queues: dict[GaugeKey, GaugeTrace] = field(default_factory=dict)
    """Queue-like gauges read every second during the measured run: peak and last value."""
    logged: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    """Per process: warnings and errors logged during the measured run, by (level, message)."""
    pg_activity: Activity | None = None
    """On PostgreSQL: what the services' connections waited for during the measured run."""


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def mib(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f}"


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _sustained(load: LoadResult) -> tuple[bool, float, float]:
    total = load.steps[STEP_TOTAL]
    achieved = total.ok / load.duration if load.duration else 0.0
    error_share = total.failed / load.scheduled if load.scheduled else 1.0
    return achieved >= SUSTAINED_SHARE * load.rate and error_share <= ERROR_BUDGET, achieved, error_share


def goals_table(run: BenchRun) -> list[str]:
    load = run.load
    rows = ["| goal | target | measured | result |", "| --- | --- | --- | --- |"]
    sustained, achieved, error_share = _sustained(load)
    rows.append(
        f"| sustain {load.rate:g} sign-ins/s | ≥ {SUSTAINED_SHARE:.0%} completed, ≤ {ERROR_BUDGET:.0%} errors "
        f"| {achieved:.1f}/s completed, {error_share:.1%} errors | {met(sustained)} |"
    )
    for step in GATEWAY_STEPS:
        p99 = load.steps[step].percentile(0.99)
        ok = not math.isnan(p99) and p99 * 1000 <= P99_GOAL_MS
        rows.append(
            f"| p99 of `{step}` at {load.rate:g} sign-ins/s | ≤ {P99_GOAL_MS:.0f} ms | {ms(p99)} ms | {met(ok)} |"
        )
    for service in (s for s in SERVICES if s in run.idle.samples):
        samples = run.idle.samples[service]
        idle = samples.rss_median_mib if samples else float("nan")
        ok = not math.isnan(idle) and idle <= IDLE_RSS_GOAL_MIB
        rows.append(f"| {service} resident memory, idle | ≤ {IDLE_RSS_GOAL_MIB:.0f} MB | {mib(idle)} MiB | {met(ok)} |")
    return rows


def latency_table(load: LoadResult) -> list[str]:
    rows = [
        "| step | completed | failed | throughput (/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, stats in load.steps.items():
        rows.append(
            f"| {name} | {stats.ok} | {stats.failed} | {stats.throughput():.1f} | {ms(stats.percentile(0.5))} "
            f"| {ms(stats.percentile(0.9))} | {ms(stats.percentile(0.99))} "
            f"| {ms(max(stats.latencies) if stats.latencies else float('nan'))} |"
        )
    return rows


def errors_table(load: LoadResult, users: int) -> list[str]:
    rows = ["| step | error | count |", "| --- | --- | ---: |"]
    for name, stats in load.steps.items():
        if name == STEP_TOTAL:
            continue
        rows.extend(f"| {name} | {reason} | {count} |" for reason, count in stats.errors.most_common())
    no_user = load.steps[STEP_TOTAL].errors.get("no idle bench user", 0)
    if no_user:
        rows.append(f"| (scheduling) | no idle bench user | {no_user} |")
    if len(rows) == 2:
        return ["None: every scheduled sign-in completed."]
    if no_user:
        rows += [
            "",
            f"*no idle bench user*: the sign-in was due but every one of the {users} users was still in an "
            f"earlier sign-in (sign-ins took longer than {users} / {load.rate:g} = {users / load.rate:.1f} s), "
            "so it was not attempted and counts as failed.",
        ]
    return rows


def memory_table(run: BenchRun) -> list[str]:
    rows = [
        "| process | RSS idle (MiB) | RSS under load, median (MiB) | RSS under load, max (MiB) "
        "| CPU under load (cores) | main thread waiting for a CPU (share of the run) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in run.under_load.pids:
        idle = run.idle.samples[name]
        busy = run.under_load.samples[name]
        rows.append(
            f"| {name} | {mib(idle.rss_median_mib)} | {mib(busy.rss_median_mib)} | {mib(busy.rss_max_mib)} "
            f"| {run.under_load.cores_used(name):.2f} | {_share(run.under_load.cpu_wait_share(name))} |"
        )
    rows.append(f"| whole machine (every process on it) | | | | {run.under_load.machine_cores_busy():.2f} | |")
    return rows


def _share(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0%}"


def _find(run: BenchRun, process: str, name: str, **labels: str) -> Histogram | None:
    for (metric, _labels), histogram in run.histograms.get(process, {}).items():
        if metric == name and all(histogram.label(k) == v for k, v in labels.items()):
            return histogram
    return None


def split_table(run: BenchRun) -> list[str]:
    rows = [
        "| call | bench client sees | gateway HTTP handler | gateway → identity gRPC call | identity handler |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for step, (route, method) in CALLS.items():
        client = run.load.steps[step]
        client_mean = sum(client.latencies) / len(client.latencies) if client.latencies else float("nan")
        http = _find(run, "gateway", HTTP_HISTOGRAM, route=route, method="POST")
        grpc_client = _find(run, "gateway", GRPC_CLIENT_HISTOGRAM, grpc_method=method)
        server = _find(run, "identity", GRPC_SERVER_HISTOGRAM, grpc_method=method)

        def cell(h: Histogram | None) -> str:
            return "not exported" if h is None else f"{ms(h.mean)} / {ms(h.quantile(0.99))}"

        rows.append(
            f"| `{step}` | {ms(client_mean)} / {ms(client.percentile(0.99))} | {cell(http)} | {cell(grpc_client)} "
            f"| {cell(server)} |"
        )
    return rows


def _median_sign_in(run: BenchRun) -> list[str]:
    load = run.load
    total = load.steps[STEP_TOTAL].percentile(0.5)
    if math.isnan(total):
        return ["- No sign-in completed, so there is no split of a sign-in to show."]
    medians = {step: load.steps[step].percentile(0.5) for step in (STEP_OTP, STEP_DELIVERY, STEP_VERIFY)}
    line = (
        f"- A median sign-in takes {ms(total)} ms end to end: {ms(medians[STEP_OTP])} ms to request the code, "
        f"{ms(medians[STEP_DELIVERY])} ms until the SMS is on the handset, {ms(medians[STEP_VERIFY])} ms to "
        "verify it."
    )
    if max(medians, key=lambda k: medians[k]) == STEP_DELIVERY:
        line += (
            " Most of the wait is the SMS travelling identity → outbox → NATS (`simfleet.netsim.cmd.sms.submit`) "
            "→ netsim, which includes the outbox relay's polling interval (`outbox_poll_seconds`, 0.2 s by "
            "default) and the moment the bench next reads the inbox (see the Load line above); the user waits "
            "for that part in any case."
        )
    else:
        line += " Most of the wait is in the gateway calls themselves, not in the SMS delivery."
    return [line]


def _call_split(run: BenchRun) -> list[str]:
    lines: list[str] = []
    for step, (route, method) in CALLS.items():
        client = run.load.steps[step]
        http = _find(run, "gateway", HTTP_HISTOGRAM, route=route, method="POST")
        grpc_client = _find(run, "gateway", GRPC_CLIENT_HISTOGRAM, grpc_method=method)
        server = _find(run, "identity", GRPC_SERVER_HISTOGRAM, grpc_method=method)
        if not client.latencies or http is None or grpc_client is None or server is None:
            continue
        client_mean = sum(client.latencies) / len(client.latencies)
        # Differences of means from different vantage points; a small negative one is noise: shown as 0.
        parts = {
            "identity's handler (database, code, outbox)": server.mean,
            "gRPC between gateway and identity (serialisation, loopback, scheduling)": grpc_client.mean - server.mean,
            "the gateway around the call (validation, rate limit, middleware)": http.mean - grpc_client.mean,
            "before and after the gateway's handler (uvicorn, HTTP parsing, loopback, the bench client's loop)": (
                client_mean - http.mean
            ),
        }
        parts = {name: max(0.0, value) for name, value in parts.items()}
        biggest = max(parts, key=lambda k: parts[k])
        shares = "; ".join(f"{name} {ms(value)} ms ({value / client_mean:.0%})" for name, value in parts.items())
        line = f"- `{step}` (mean {ms(client_mean)} ms): {shares}. The largest part is {biggest}."
        client_p99, server_p99 = client.percentile(0.99), server.quantile(0.99)
        if server_p99 >= 0.5 * client_p99:
            line += (
                f" The slow calls are slow inside identity too: its handler's p99 is about {ms(server_p99)} ms "
                f"against {ms(client_p99)} ms seen by the client."
            )
        lines.append(line)
    return lines


def _cpu(run: BenchRun) -> list[str]:
    load = run.load
    cpus = run.machine.cpus
    sampler = run.under_load
    used = {name: sampler.cores_used(name) for name in sampler.pids if name != BENCH_CLIENT}
    platform_cores = sum(v for v in used.values() if not math.isnan(v))
    busiest = max(used, key=lambda k: -1.0 if math.isnan(used[k]) else used[k])
    client_cores = sampler.cores_used(BENCH_CLIENT) if BENCH_CLIENT in sampler.pids else 0.0
    machine_cores = sampler.machine_cores_busy()
    others = machine_cores - platform_cores - client_cores
    line = (
        f"- CPU: the platform used {platform_cores:.2f} of {cpus} cores under load (the busiest process: "
        f"{busiest}, {used[busiest]:.2f}), the bench client on the same machine {client_cores:.2f}"
    )
    if not math.isnan(machine_cores):
        line += f"; the whole machine was busy {machine_cores:.2f} cores, so other processes took {max(0, others):.2f}"
    line += "."
    saturated = [name for name, cores in used.items() if cores >= 0.75]
    if saturated:
        line += (
            f" {', '.join(saturated)} used about a whole core: a Python service runs its event loop on one core, "
            "so it was CPU-bound and everything it does (its consumers, its HTTP and gRPC handlers) queued behind "
            "the rest."
        )
    if not math.isnan(machine_cores) and machine_cores >= 0.85 * cpus:
        line += " The CPUs were close to saturated, so waiting for a CPU adds to every latency above."
        if others >= 0.25 * cpus:
            line += (
                " Much of that load was not SIMfleet's (other work on the machine during the run): these figures "
                "are pessimistic; run `make bench` on a quiet machine for the platform's own."
            )
    elif not saturated and any(
        load.steps[step].percentile(0.99) * 1000 > P99_GOAL_MS
        and load.steps[step].percentile(0.99) > 3 * load.steps[step].percentile(0.5)
        for step in GATEWAY_STEPS
    ):
        line += (
            " CPU was not the limit, yet the p99 of the gateway calls is far above their median: the tail is "
            "time spent waiting, not computing. Candidates to look at first: SQLite's single writer, which "
            "identity's use cases and its outbox relay share (each code request writes a challenge and an "
            "outbox row), and pauses of a service's event loop."
        )
    lines = [line]
    waited = sampler.cpu_wait_share("identity") if "identity" in sampler.pids else float("nan")
    if not math.isnan(waited):
        lines.append(
            f"- identity's event loop (its main thread) had work and waited for a CPU {waited:.0%} of the run "
            f"while it computed {used.get('identity', float('nan')):.0%} of it: every statement's answer, every "
            "request, wakes it, and on a busy machine each wake-up waits its turn for a core."
        )
    return lines


def where_the_time_goes(run: BenchRun) -> list[str]:
    load = run.load
    lines = _median_sign_in(run)
    lines += [
        "",
        "Per call, mean / p99 in ms: what the bench client measures, the gateway's HTTP histogram "
        f"(`{HTTP_HISTOGRAM}`), the gateway's gRPC client histogram (`{GRPC_CLIENT_HISTOGRAM}`) and "
        f"identity's server histogram (`{GRPC_SERVER_HISTOGRAM}`); p99 from histogram buckets is an "
        "interpolated estimate:",
        "",
        *split_table(run),
        "",
        *_call_split(run),
        *_cpu(run),
        *_queue_hints(run),
        *_logged_hints(run),
    ]
    if load.wall_seconds:
        lines.append(
            f"- Console reads: {load.console_polls} `GET /handsets/{{msisdn}}/sms` calls "
            f"({load.console_polls / load.wall_seconds:.0f}/s) were made to find the codes; they load netsim "
            "and are part of its CPU figure."
        )
    lines.append(
        f"- The load generator kept its schedule to within {load.max_schedule_lag * 1000:.1f} ms "
        "(the largest delay between a sign-in's planned and actual start)."
    )
    return lines


def logged_table(run: BenchRun) -> list[str]:
    rows = ["| process | level | message (numbers as N) | count |", "| --- | --- | --- | ---: |"]
    for process, counts in run.logged.items():
        for (level, message), count in counts.most_common(8):
            shown = message.replace("|", "\\|")
            rows.append(f"| {process} | {level} | {shown} | {count} |")
    return rows if len(rows) > 2 else ["None."]


def queues_table(run: BenchRun) -> list[str]:
    rows = ["| process | gauge | labels | peak | at the end |", "| --- | --- | --- | ---: | ---: |"]
    for (process, name, labels), trace in sorted(run.queues.items()):
        shown = ", ".join(f"{k}={v}" for k, v in labels)
        rows.append(f"| {process} | `{name}` | {shown} | {trace.peak:g} | {trace.last:g} |")
    return rows if len(rows) > 2 else ["No queue gauge was exported."]


def _queue_hints(run: BenchRun) -> list[str]:
    lines: list[str] = []
    for (process, name, labels), trace in sorted(run.queues.items()):
        if trace.peak < QUEUE_WORTH_A_NOTE:
            continue
        if name == OUTBOX_BACKLOG:
            lines.append(
                f"- {process}'s outbox held up to {trace.peak:g} unpublished events ({trace.last:g} at the end): "
                "its relay published more slowly than the use cases wrote them, so SMS waited in the outbox."
            )
        elif name == CONSUMER_PENDING:
            consumer = dict(labels).get("consumer", "?")
            lines.append(
                f"- {process}'s consumer `{consumer}` was up to {trace.peak:g} messages behind its stream "
                f"({trace.last:g} at the end): messages waited in NATS for {process} to handle them."
            )
    return lines


def _logged_hints(run: BenchRun) -> list[str]:
    locked = sum(
        count
        for counts in run.logged.values()
        for (_level, message), count in counts.items()
        if "database is locked" in message
    )
    if not locked:
        return []
    return [
        f"- The services logged `database is locked` {locked} time(s): SQLite lets one writer in at a time and "
        "the others wait in its busy handler (sleeps of up to 100 ms each, up to `busy_timeout`), which is "
        "waiting that uses no CPU and lands in the tail of every call that writes. `simfleet_runtime.db` "
        "opens every session with `BEGIN IMMEDIATE`, reads included, so the console reads this bench makes "
        "and the SMSC consumer's writes queue for the same lock in netsim, as identity's use cases and its "
        "outbox relay do in identity."
    ]


def other_histograms(run: BenchRun) -> list[str]:
    rows = [
        "| process | histogram | labels | observations | mean (ms) | p99 est. (ms) |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for process, found in run.histograms.items():
        for (name, labels), h in sorted(found.items()):
            shown = ", ".join(f"{k}={v}" for k, v in labels)
            rows.append(f"| {process} | `{name}` | {shown} | {h.count:.0f} | {ms(h.mean)} | {ms(h.quantile(0.99))} |")
    return rows if len(rows) > 2 else ["No histogram was exported."]


def _figures(run: BenchRun) -> list[str]:
    """The goals, latency, errors, memory and CPU of a sign-in run, and where its time went."""
    return [
        "## Goals",
        "",
        *goals_table(run),
        "",
        "## Latency and throughput",
        "",
        *latency_table(run.load),
        "",
        "Errors by step and status:",
        "",
        *errors_table(run.load, run.users),
        "",
        "## Memory and CPU",
        "",
        *memory_table(run),
        "",
        "## Where the time goes",
        "",
        *where_the_time_goes(run),
        "",
    ]


def render(run: BenchRun) -> str:
    load = run.load
    m = run.machine
    changed = [
        f"`{key}={value}`"
        for process in sorted(run.settings_changed)
        for key, value in run.settings_changed[process].items()
    ]
    out = [
        "# Benchmarks",
        "",
        "SMS one-time-code sign-ins through the gateway at a fixed offered rate, and each process's resident",
        "memory idle and under that load. Written by `make bench`; every figure below comes from this run:",
        "",
        "```",
        run.command,
        "```",
        "",
        "## The run",
        "",
        f"- Date: {run.date}",
        f"- Machine: {m.cpus} CPUs ({m.cpu_model}), {m.memory_gib:.1f} GiB memory, Linux {m.kernel}, Python {m.python}",
        "- Platform: the same launcher as `make up` (`simfleet_devstack.Platform`): nats-server with JetStream, "
        "netsim, identity and the gateway as separate processes on free ports, each service on its own SQLite "
        "file in a temporary folder.",
        f"- Settings changed from the defaults so that the limits meant for attackers do not throttle the bench: "
        f"{', '.join(changed) if changed else 'none'}.",
        f"- Load: open loop, {load.rate:g} sign-ins/s offered for {load.duration:g} s ({load.scheduled} sign-ins, "
        f"scheduled at fixed intervals whatever the responses) after a {run.warmup:g} s warm-up at the same rate "
        f"that is not counted; {run.users} users (+7999100xxxx), none in two sign-ins at once. A sign-in is "
        "`POST /v1/auth/otp` (channel sms), reading the code from netsim's console "
        f"(`GET /handsets/{{msisdn}}/sms`: first {run.poll_first * 1000:.0f} ms after the request, then again "
        f"after {run.poll_interval * 1000:.0f} ms, twice as long each time up to "
        f"{HINTED_POLL_CEILING * 1000:.0f} ms, or at once when netsim's delivery receipt for the number arrives "
        f"on `{SMS_DELIVERED}`), `POST /v1/auth/otp/verify`. End-to-end latency counts from the scheduled start.",
        f"- Background: while the platform sat idle before the load, the machine was busy "
        f"{run.idle.machine_cores_busy():.2f} of {m.cpus} cores (anything above ~0.1 is other work sharing the "
        "machine and competing with the run).",
        "- Memory: VmRSS from `/proc/<pid>/status`; idle is the median of samples taken after start-up and "
        "seeding, before any load; under load, sampled every 0.5 s.",
        "",
        *_figures(run),
        "### Queues during the measured run (read every second)",
        "",
        *queues_table(run),
        "",
        "### Warnings and errors the processes logged during the measured run",
        "",
        *logged_table(run),
        "",
        "### Every histogram that moved during the measured run",
        "",
        *other_histograms(run),
        "",
    ]
    return "\n".join(out)


def render_postgres_signins(run: BenchRun) -> str:
    """The same sign-in load on a platform whose services keep PostgreSQL databases (what a cluster runs)."""
    load = run.load
    out = [
        "# Sign-ins on PostgreSQL",
        "",
        "The sign-in load of the first section, on a platform whose services each keep their own PostgreSQL",
        "database on 127.0.0.1:5432 (what a cluster runs), started fresh for this part. Written by `make bench`:",
        "",
        "```",
        run.command,
        "```",
        "",
        f"- Date: {run.date}; background before the load: {run.idle.machine_cores_busy():.2f} of "
        f"{run.machine.cpus} cores busy.",
        f"- Load: open loop, {load.rate:g} sign-ins/s for {load.duration:g} s after a {run.warmup:g} s warm-up, "
        f"{run.users} users, the code read from netsim's console as in the first section.",
        "",
        *_figures(run),
        *pg_activity_section(run.pg_activity),
    ]
    return "\n".join(out)


def pg_activity_section(activity: Activity | None) -> list[str]:
    """What the services' PostgreSQL connections waited for (``simfleet_devstack.pgactivity``)."""
    if activity is None or not activity.samples:
        return []
    rows = [
        "| database | commits/s | busy connections, mean | transaction open, mean (ms) | " + " | ".join(STATES) + " |",
        "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in STATES) + " |",
    ]
    busiest = sorted(activity.databases.items(), key=lambda item: item[1].mean_busy(activity.samples), reverse=True)
    for service, found in busiest:
        if not found.commits and not found.busy:
            continue
        shares = " | ".join("" if math.isnan(found.share(state)) else f"{found.share(state):.0%}" for state in STATES)
        rows.append(
            f"| {service} | {found.commits / activity.seconds:.0f} | {found.mean_busy(activity.samples):.2f} | "
            f"{ms(found.transaction_seconds(activity.samples, activity.seconds))} | {shares} |"
        )
    lines = [
        "### What the database connections waited for",
        "",
        f"`pg_stat_activity` read every 20 ms during the measured run ({activity.samples} samples in "
        f"{activity.seconds:.1f} s); each busy connection is counted under what it waited for at that moment: "
        "*waiting for the service* (the server has answered and waits for the service's next statement: the "
        "service is computing, waiting for a CPU, or its event loop has not come back to the transaction yet), "
        "*PostgreSQL working* (running a statement), *locks*, *WAL and disk*. The mean time a transaction was "
        "open is Little's law: busy connections over commits per second.",
        "",
        *rows,
        "",
    ]
    identity = activity.databases.get("identity")
    if identity is not None and identity.busy:
        waiting = identity.share(STATES[0])
        if waiting >= 0.5:
            lines.append(
                f"- identity's connections spent {waiting:.0%} of their busy time waiting for identity, not for "
                "PostgreSQL: a sign-in's statements go one at a time, and each round trip wakes two processes "
                "on a machine whose CPUs are busy, so the time is in the number of round trips and in waiting "
                "for a CPU rather than in the database's work."
            )
        else:
            lines.append(
                f"- identity's connections spent {waiting:.0%} of their busy time waiting for identity and the "
                "rest in PostgreSQL (working, locks, WAL): the database's own work is a large part of a sign-in."
            )
        lines.append("")
    return lines
