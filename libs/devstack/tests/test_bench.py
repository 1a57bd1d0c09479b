"""The benchmark's parts that need no platform: histogram arithmetic, the load generator, the report."""

from __future__ import annotations

import itertools
import json
import math
import os
import secrets
from collections import Counter
from pathlib import Path

import httpx
import pytest

from simfleet_devstack.bench import (
    BENCH_SETTINGS,
    bench_users,
    machine,
    parse_args,
    postgres_signins_command_line,
)
from simfleet_devstack.loadgen import (
    STEP_DELIVERY,
    STEP_OTP,
    STEP_TOTAL,
    STEP_VERIFY,
    LoadResult,
    LoadSettings,
    SignInLoad,
    StepStats,
)
from simfleet_devstack.procstats import Sampler
from simfleet_devstack.promtext import GaugeTrace, difference, parse_gauges, parse_histograms
from simfleet_devstack.report import BenchRun, render, render_postgres_signins

METRICS_BEFORE = """
# HELP simfleet_grpc_server_handling_seconds Time this server spent on a gRPC call.
# TYPE simfleet_grpc_server_handling_seconds histogram
simfleet_grpc_server_handling_seconds_bucket{grpc_method="VerifyOtp",grpc_service="s",le="0.01"} 5.0
simfleet_grpc_server_handling_seconds_bucket{grpc_method="VerifyOtp",grpc_service="s",le="0.1"} 5.0
simfleet_grpc_server_handling_seconds_bucket{grpc_method="VerifyOtp",grpc_service="s",le="+Inf"} 5.0
simfleet_grpc_server_handling_seconds_count{grpc_method="VerifyOtp",grpc_service="s"} 5.0
simfleet_grpc_server_handling_seconds_sum{grpc_method="VerifyOtp",grpc_service="s"} 0.02
# HELP other_seconds Not asked for.
# TYPE other_seconds histogram
other_seconds_bucket{le="+Inf"} 1.0
other_seconds_count 1.0
other_seconds_sum 1.0
"""
NAMES = {"simfleet_grpc_server_handling_seconds", "other_seconds"}


def _after() -> str:
    lines = []
    for line in METRICS_BEFORE.splitlines():
        if line.startswith("simfleet_grpc_server_handling_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            line = line.rsplit(" ", 1)[0] + " " + {"0.01": "55.0", "0.1": "105.0", "+Inf": "105.0"}[bound]
        elif line.startswith("simfleet_grpc_server_handling_seconds_count"):
            line = line.rsplit(" ", 1)[0] + " 105.0"
        elif line.startswith("simfleet_grpc_server_handling_seconds_sum"):
            line = line.rsplit(" ", 1)[0] + " 3.02"
        lines.append(line)
    return "\n".join(lines)


def test_histogram_difference_mean_and_quantile_follow_promql() -> None:
    before = parse_histograms(METRICS_BEFORE, {"simfleet_grpc_server_handling_seconds"})
    after = parse_histograms(_after(), {"simfleet_grpc_server_handling_seconds"})
    assert len(after) == 1
    (delta,) = difference(before, after).values()
    assert delta.label("grpc_method") == "VerifyOtp"
    assert delta.count == 100
    assert delta.mean == pytest.approx(0.03)
    # 50 observations in (0, 0.01], 50 in (0.01, 0.1]: the median is the top of the first bucket,
    # the 75th percentile halfway through the second (histogram_quantile's linear interpolation).
    assert delta.quantile(0.5) == pytest.approx(0.01)
    assert delta.quantile(0.75) == pytest.approx(0.055)
    assert delta.quantile(0.99) == pytest.approx(0.0982)  # 0.01 + 0.09 * (99 - 50) / 50
    # a series with nothing new is left out
    assert difference(after, after) == {}


def test_step_stats_percentiles_are_nearest_rank() -> None:
    stats = StepStats()
    for index in range(1, 101):
        stats.record(0.0, index / 1000)
    assert stats.percentile(0.5) == pytest.approx(0.050)
    assert stats.percentile(0.99) == pytest.approx(0.099)
    assert stats.percentile(1.0) == pytest.approx(0.100)
    assert math.isnan(StepStats().percentile(0.5))


class FakePlatform:
    """The gateway's sign-in routes and netsim's handset inboxes, in-process."""

    def __init__(self, refuse_phone: str) -> None:
        self.refuse_phone = refuse_phone
        self.inboxes: dict[str, list[dict[str, str]]] = {}
        self.challenges: dict[str, tuple[str, str]] = {}
        self.ids = itertools.count()
        self.verified = 0

    def sms(self, phone: str, text: str) -> None:
        self.inboxes.setdefault(phone, []).insert(0, {"id": f"m{next(self.ids)}", "text": text})

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/auth/otp":
            phone = json.loads(request.content)["phone"]
            if phone == self.refuse_phone:
                return httpx.Response(429, json={"title": "too many"})
            code = f"{secrets.randbelow(1_000_000):06d}"
            challenge = f"c{next(self.ids)}"
            self.challenges[challenge] = (phone, code)
            self.sms(phone, f"SIMfleet sign-in code: {code}. Valid for 5 minutes.")
            return httpx.Response(202, json={"challenge_id": challenge})
        if request.method == "POST" and path == "/v1/auth/otp/verify":
            body = json.loads(request.content)
            phone, code = self.challenges.pop(body["challenge_id"])
            if body["code"] != code:
                return httpx.Response(401, json={"title": "wrong code"})
            self.verified += 1
            self.sms(phone, "New sign-in to SIMfleet from 127.0.0.1 at 02:11 UTC.")  # no code in it
            return httpx.Response(200, json={"access_token": "a", "refresh_token": "r"})
        if request.method == "GET" and path.startswith("/handsets/"):
            phone = path.split("/")[2]
            return httpx.Response(200, json={"msisdn": phone, "messages": self.inboxes.get(phone, [])[:5]})
        return httpx.Response(404)


async def test_the_load_signs_in_with_the_code_from_the_handset_and_counts_refusals() -> None:
    phones = [user.phone for user in bench_users(10)]
    fake = FakePlatform(refuse_phone=phones[0])
    fake.sms(phones[1], "an old code 111111 from an earlier run must not be used")
    settings = LoadSettings(
        gateway_url="http://gateway",
        console_url="http://console",
        phones=phones,
        rate=100,
        duration=0.3,
        poll_first=0.0,
        poll_interval=0.01,
        transport=httpx.MockTransport(fake.handle),
    )
    result = await SignInLoad(settings).run()
    assert result.scheduled == 30
    total = result.steps[STEP_TOTAL]
    refused = result.steps[STEP_OTP].errors["HTTP 429"]
    assert refused >= 1
    assert total.ok == fake.verified == 30 - refused
    assert result.steps[STEP_VERIFY].failed == 0  # every code read from the inbox was the right one
    assert result.steps[STEP_DELIVERY].ok == 30 - refused
    assert total.errors[f"{STEP_OTP}: HTTP 429"] == refused
    assert result.console_polls >= 30 - refused


def test_the_report_states_the_command_the_machine_and_the_goals(tmp_path: Path) -> None:
    stats = {name: StepStats() for name in (STEP_OTP, STEP_DELIVERY, STEP_VERIFY, STEP_TOTAL)}
    for index in range(100):
        start = index * 0.02
        stats[STEP_OTP].record(start, start + 0.020)
        stats[STEP_DELIVERY].record(start, start + 0.200)
        stats[STEP_VERIFY].record(start, start + (0.150 if index >= 98 else 0.030))
        stats[STEP_TOTAL].record(start, start + 0.260)
    load = LoadResult(
        rate=50, duration=2, scheduled=100, steps=stats, console_polls=300, max_schedule_lag=0.001, wall_seconds=2.3
    )
    pids = {"identity": os.getpid(), "netsim": os.getpid(), "gateway": os.getpid(), "bench client": os.getpid()}
    idle, busy = Sampler(pids).start().stop(), Sampler(pids).start().stop()
    args = parse_args(["--output", str(tmp_path / "B.md")])
    histograms = {"identity": difference(parse_histograms(METRICS_BEFORE, NAMES), parse_histograms(_after(), NAMES))}
    run = BenchRun(
        command="python -m simfleet_devstack.bench --output B.md --rate 50 --duration 2",
        date="2026-01-01 00:00 UTC",
        machine=machine(),
        users=args.users,
        warmup=args.warmup,
        poll_first=args.poll_first,
        poll_interval=args.poll_interval,
        settings_changed=BENCH_SETTINGS,
        load=load,
        idle=idle,
        under_load=busy,
        histograms=histograms,
        queues={
            ("identity", "simfleet_outbox_backlog_messages", ()): GaugeTrace(peak=120, last=3),
            ("netsim", "simfleet_nats_consumer_pending_messages", (("consumer", "smsc"),)): GaugeTrace(peak=2, last=0),
        },
        logged={"identity": Counter({("error", "outbox relay pass failed (OperationalError: database is locked)"): 3})},
    )
    text = render(run)
    on_postgres = render_postgres_signins(run)
    assert on_postgres.startswith("# Sign-ins on PostgreSQL\n")
    assert "| p99 of `POST /v1/auth/otp/verify` at 50 sign-ins/s | ≤ 100 ms | 150.0 ms | **not met** |" in on_postgres
    assert "| identity |" in on_postgres and "Where the time goes" in on_postgres
    assert "| main thread waiting for a CPU (share of the run) |" in text
    assert "identity's event loop (its main thread) had work and waited for a CPU" in text
    assert "python -m simfleet_devstack.bench --output B.md --rate 50 --duration 2" in text
    assert f"{len(os.sched_getaffinity(0))} CPUs" in text
    assert "`IDENTITY_OTP_SEND_LIMIT_PER_PHONE=1000`" in text
    assert "| p99 of `POST /v1/auth/otp` at 50 sign-ins/s | ≤ 100 ms | 20.0 ms | met |" in text
    assert "| p99 of `POST /v1/auth/otp/verify` at 50 sign-ins/s | ≤ 100 ms | 150.0 ms | **not met** |" in text
    assert "| sustain 50 sign-ins/s | ≥ 95% completed, ≤ 1% errors | 50.0/s completed, 0.0% errors | met |" in text
    assert "Most of the wait is the SMS travelling" in text
    assert "None: every scheduled sign-in completed." in text
    assert (
        "| identity | `simfleet_grpc_server_handling_seconds` | grpc_method=VerifyOtp, grpc_service=s | 100 |" in text
    )


def test_logged_warnings_and_errors_are_counted_by_message(tmp_path: Path) -> None:
    from simfleet_devstack.logscan import serious_lines, size

    log = tmp_path / "identity.log"
    log.write_text('{"level": "error", "message": "before the run"}\n')
    offset = size(log)
    records = [
        {"level": "info", "message": "request served"},
        {"level": "warning", "message": "slow call 120 ms"},
        {"level": "warning", "message": "slow call 300 ms"},
        {"level": "error", "message": "outbox relay pass failed", "exception": "Traceback\nOperationalError: x"},
        {
            "level": "error",
            "message": "Exception in ASGI application\n",
            "exception": "Traceback (most recent call last):\n  File x\n"
            "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked\n"
            "[SQL: BEGIN IMMEDIATE]\n(Background on this error at: https://sqlalche.me/e/21/e3q8)\n",
        },
    ]
    with log.open("a") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)
        handle.write("[123] 2026/11/22 02:18:39.848 [WRN] JetStream resource limits\n")
        handle.write("not json, not a warning\n")
    counts = serious_lines(log, offset)
    assert counts == {
        ("warning", "slow call N ms"): 2,
        ("error", "outbox relay pass failed (OperationalError: x)"): 1,
        ("wrn", "JetStream resource limits"): 1,
        (
            "error",
            "Exception in ASGI application (sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) "
            "database is locked)",
        ): 1,
    }


def test_gauges_are_read_by_name_and_labels() -> None:
    text = """
# HELP simfleet_nats_consumer_pending_messages Lag.
# TYPE simfleet_nats_consumer_pending_messages gauge
simfleet_nats_consumer_pending_messages{consumer="smsc"} 7.0
simfleet_nats_consumer_pending_messages{consumer="other"} 1.0
# HELP unrelated Something else.
# TYPE unrelated gauge
unrelated 5.0
"""
    assert parse_gauges(text, {"simfleet_nats_consumer_pending_messages"}) == {
        ("simfleet_nats_consumer_pending_messages", (("consumer", "smsc"),)): 7.0,
        ("simfleet_nats_consumer_pending_messages", (("consumer", "other"),)): 1.0,
    }


def test_the_lines_report_states_both_goals_and_the_pages() -> None:
    from simfleet_devstack.linebench import LinesResult, PageTimes, render_lines

    result = LinesResult(
        bulk_lines=100_000,
        import_seconds=40.0,
        register_seconds=60.0,
        operation={
            "state": "completed",
            "counts": {"succeeded": 100_000, "failed": 0, "skipped": 0},
            "started_at": "2026-12-01T10:00:00+00:00",
            "finished_at": "2026-12-01T10:00:42+00:00",
        },
        wall_seconds=42.5,
        sampler=None,
        scale_lines=1_000_000,
        seed_seconds=90.0,
        pages=[PageTimes("first page", [0.010] * 99 + [0.080]), PageTimes("next pages", [0.020] * 100)],
        accept_numbers=200_000,
        accept_seconds=[0.61, 0.55, 0.58],
    )
    text = "\n".join(render_lines(result, "python -m simfleet_devstack.bench --bulk-lines 100000"))
    assert (
        "| `POST /v1/operations` on 200,000 numbers, to its 202 (worst of 3) | < 1 s | 0.61 s / 0.55 s / 0.58 s" in text
    )
    assert "0.58 s | met |" in text
    assert "| bulk block of 100,000 lines, request to end | < 30 s | 42.5 s (2,353 lines/s) | **not met** |" in text
    assert "| p99 of a `GET /v1/lines` page, 1,000,000 lines | < 50 ms | 80.0 ms" in text
    assert "| first page | 100 | 10.0 | 10.0 | 80.0 | 80.0 | 10.7 |" in text
    assert result.run_seconds == 42.0


def test_the_rating_report_states_both_goals_and_where_the_time_goes() -> None:
    from simfleet_devstack.ratingbench import RatingRun, render_rating

    fast = RatingRun(
        database="sqlite",
        records=1_000_000,
        generated=1_000_000,
        seconds=80.0,
        taken=1_000_000,
        duplicates=0,
        balance_reads=[0.010] * 99 + [0.040],
        cores={"billing": 0.05, "billing-rater": 0.9, "netsim": 0.1},
        machine_cores=1.6,
        batch_p50=0.080,
        batch_p99=0.200,
    )
    slow = RatingRun(
        database="postgresql",
        records=1_000_000,
        generated=1_000_000,
        seconds=200.0,
        taken=1_000_000,
        duplicates=3,
        balance_reads=[0.300] * 10,
        balance_failures=1,
        cores={"billing-rater": 1.0},
        machine_cores=1.9,
    )
    text = "\n".join(render_rating([fast, slow], "python -m simfleet_devstack.bench --parts rating", "2026-12-07"))
    assert text.startswith("\n# Rating usage\n")
    assert "| sqlite | 1,000,000 of 1,000,000 | 80.0 s | 12,500 (met) | 0 | 10.0 / 40.0 ms (met; 100 reads" in text
    assert "| postgresql | 1,000,000 of 1,000,000 | 200.0 s | 5,000 (NOT MET) | 3 | 300.0 / 300.0 ms (NOT MET" in text
    assert "| database | billing | billing-rater | netsim | whole machine |" in text
    assert "| sqlite | 0.05 | 0.90 | 0.10 | 1.60 |" in text
    assert "sqlite: billing's rater 72 µs, billing's API 4 µs, netsim 8 µs" in text
    assert parse_args(["--parts", "rating", "--databases", "sqlite", "--usage-records", "5000"]).usage_records == 5000


def test_sign_ins_run_on_each_database_named_and_the_lines_part_needs_sqlite(tmp_path: Path) -> None:
    args = parse_args(["--output", str(tmp_path / "B.md"), "--parts", "signins", "--databases", "postgresql"])
    assert args.databases == ["postgresql"] and args.bulk_lines == 0
    assert postgres_signins_command_line(args).startswith(
        f"python -m simfleet_devstack.bench --output {tmp_path / 'B.md'} --parts signins "
        "--databases postgresql --rate 50"
    )
    with pytest.raises(SystemExit):
        parse_args(["--parts", "signins,lines", "--databases", "postgresql"])
    with pytest.raises(SystemExit):
        parse_args(["--databases", ""])


def test_a_process_waiting_for_a_cpu_is_measured_from_the_schedulers_statistics() -> None:
    from simfleet_devstack.process import read_cpu_wait_seconds

    waited = read_cpu_wait_seconds(os.getpid())
    if waited is None:
        pytest.skip("this kernel keeps no scheduler statistics (/proc/<pid>/schedstat)")
    assert waited >= 0
    assert read_cpu_wait_seconds(2**22 + 12345) is None  # no such process
    sampler = Sampler({"me": os.getpid()}).start()
    sum(range(200_000))
    sampler.stop()
    assert 0 <= sampler.cpu_wait_share("me") <= 1
