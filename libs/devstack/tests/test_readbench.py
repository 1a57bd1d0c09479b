"""The authenticated-reads part of the bench that needs no load: wrk's output, the table, the report's sections."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simfleet_devstack import bench, readbench
from simfleet_devstack.readbench import (
    FLOOR,
    LINES,
    ME,
    DatabaseReads,
    ReadRun,
    ReadsResult,
    WrkError,
    WrkResult,
    WrkSettings,
    parse_wrk,
    reads_table,
    render_reads,
    replace_sections,
    wrk_command,
)

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8080/v1/me
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    16.51ms    3.31ms  29.21ms   84.30%
    Req/Sec     1.93k   163.07     2.36k    65.00%
  Latency Distribution
     50%  780.00us
     75%   17.19ms
     90%   18.33ms
     99%    1.20s
  19321 requests in 10.01s, 4.02MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   1930.17
Transfer/sec:    411.18KB
"""


def test_parse_wrk_reads_totals_percentiles_in_any_unit_and_errors() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 19321
    assert result.seconds == pytest.approx(10.01)
    assert result.requests_per_second == pytest.approx(1930.17)
    assert result.percentiles == pytest.approx({50: 780e-6, 75: 0.01719, 90: 0.01833, 99: 1.2})
    assert result.p50 == pytest.approx(780e-6)
    assert result.p99 == pytest.approx(1.2)
    assert result.non_2xx == 7
    assert result.socket_errors == {"read": 3, "timeout": 2}
    assert result.errors == 12


def test_parse_wrk_without_errors_counts_none() -> None:
    clean = "\n".join(line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line)
    result = parse_wrk(clean)
    assert (result.non_2xx, result.socket_errors, result.errors) == (0, {}, 0)


def test_parse_wrk_without_latency_distribution_says_so() -> None:
    without = "\n".join(line for line in WRK_OUTPUT.splitlines() if "%  " not in line or "Stdev" in line)
    with pytest.raises(WrkError, match="--latency"):
        parse_wrk(without)


def test_parse_wrk_of_something_else_says_so() -> None:
    with pytest.raises(WrkError, match="no totals"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_wrk_command_passes_the_bearer_token_as_a_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readbench.shutil, "which", lambda _name: "/usr/bin/wrk")
    command = wrk_command("http://h/v1/me", WrkSettings(), 10, {"Authorization": "Bearer abc"})
    assert command == [
        "/usr/bin/wrk",
        "-t1",
        "-c32",
        "-d10s",
        "--latency",
        "--timeout",
        "5s",
        "-H",
        "Authorization: Bearer abc",
        "http://h/v1/me",
    ]


def test_a_missing_wrk_stops_the_bench_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(readbench.shutil, "which", lambda _name: None)
    monkeypatch.setattr(bench, "run", lambda _args: pytest.fail("the platform was started"))
    output = tmp_path / "BENCHMARKS.md"
    assert bench.main(["--output", str(output)]) == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err
    assert not output.exists()


def test_a_postgresql_that_does_not_answer_stops_the_bench_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(readbench.shutil, "which", lambda _name: "/usr/bin/wrk")
    monkeypatch.setattr(bench, "run", lambda _args: pytest.fail("the platform was started"))
    output = tmp_path / "BENCHMARKS.md"
    argv = ["--output", str(output), "--parts", "reads", "--postgres-url", "postgresql://postgres@127.0.0.1:1/postgres"]
    assert bench.main(argv) == 2
    assert "PostgreSQL does not answer at postgresql://postgres@127.0.0.1:1/postgres" in capsys.readouterr().err
    assert not output.exists()


def _run(target: str, rps: float, p50: float, p99: float, errors: int = 0) -> ReadRun:
    wrk = WrkResult(
        requests=int(rps * 10),
        seconds=10.0,
        requests_per_second=rps,
        percentiles={50: p50, 99: p99},
        non_2xx=errors,
    )
    return ReadRun(target=target, wrk=wrk, cores={"gateway": 0.5}, machine_cores=1.9)


def _reads() -> DatabaseReads:
    return DatabaseReads(
        database=readbench.SQLITE,
        background_cores=0.4,
        runs=[
            _run(FLOOR, 2000, 0.015, 0.040),
            _run(ME, 1300, 0.020, 0.029),
            _run(LINES, 178, 0.150, 0.342),
        ],
    )


def test_reads_table_gives_the_ratio_to_the_floor_and_the_goal() -> None:
    rows = reads_table(_reads())
    assert rows[2] == "| floor (FastAPI + one grpc.aio call) | 2,000 | 15.0 | 40.0 | 1.00 | 0 | (the floor) |"
    assert rows[3] == "| `GET /v1/me` | 1,300 | 20.0 | 29.0 | 0.65 | 0 | met |"
    assert rows[4] == "| `GET /v1/lines?limit=50` | 178 | 150.0 | 342.0 | 0.09 | 0 | **not met** |"


@pytest.mark.parametrize(
    ("rps", "p99", "errors"),
    [(1100, 0.029, 0), (1300, 0.031, 0), (1300, 0.020, 1)],
    ids=["too slow", "p99 too high", "errors"],
)
def test_each_condition_of_the_goal_counts(rps: float, p99: float, errors: int) -> None:
    result = DatabaseReads(
        database=readbench.SQLITE,
        background_cores=0.0,
        runs=[_run(FLOOR, 2000, 0.01, 0.02), _run(ME, rps, 0.01, p99, errors)],
    )
    assert reads_table(result)[3].endswith("| **not met** |")


def test_without_a_floor_no_goal_is_met() -> None:
    result = DatabaseReads(database=readbench.SQLITE, background_cores=0.0, runs=[_run(ME, 1300, 0.01, 0.02)])
    assert reads_table(result)[2] == "| `GET /v1/me` | 1,300 | 10.0 | 20.0 | n/a | 0 | **not met** |"


def test_render_reads_says_when_the_machine_was_busy() -> None:
    quiet = _reads()
    quiet.background_cores = 0.05
    result = ReadsResult(
        command="python -m simfleet_devstack.bench --parts reads",
        date="2026-12-06 21:00 UTC",
        cpus=2,
        settings=WrkSettings(),
        databases=[_reads(), quiet],
    )
    text = "\n".join(render_reads(result))
    assert text.startswith("# Authenticated reads\n")
    assert "busy 0.40 of 2 cores — other work was sharing the machine" in text
    assert "busy 0.05 of 2 cores (anything above" in text
    assert "wrk 1 thread, 32 connections" in text
    assert "| GET /v1/me | gateway" not in text
    assert "| GET /v1/me | 0.50 (0.4 ms) | 1.90 |" in text


def test_replace_sections_keeps_the_others_in_place_and_appends_new_ones() -> None:
    document = "# Benchmarks\n\nold sign-ins\n```\n# not a heading\n```\n\n# Lines and operations\n\nold lines\n"
    replaced = replace_sections(document, {"Benchmarks": "# Benchmarks\n\nnew sign-ins\n"})
    assert replaced == "# Benchmarks\n\nnew sign-ins\n\n# Lines and operations\n\nold lines\n"
    appended = replace_sections(replaced, {"Authenticated reads": "# Authenticated reads\n\nreads\n"})
    assert appended.endswith("old lines\n\n# Authenticated reads\n\nreads\n")
    assert replace_sections("", {"Authenticated reads": "# Authenticated reads\n"}) == "# Authenticated reads\n"


def test_parts_and_databases_are_checked() -> None:
    args = bench.parse_args(["--parts", "reads", "--databases", "postgresql"])
    assert (args.parts, args.databases, args.bulk_lines) == (["reads"], ["postgresql"], 0)
    for wrong in (["--parts", "lines"], ["--parts", "nothing"], ["--databases", "mysql"], ["--wrk-seconds", "0"]):
        with pytest.raises(SystemExit):
            bench.parse_args(wrong)
    assert bench.parse_args([]).parts == ["signins", "lines", "reads", "rating", "console"]
    assert "--parts" not in bench.command_line(bench.parse_args([]))
    assert bench.command_line(bench.parse_args(["--parts", "signins"])).endswith(
        "--bulk-lines 0 --scale-lines 1000000 --pages 300 --parts signins"
    )


def test_nan_latencies_are_not_figures() -> None:
    assert readbench._ms(math.nan) == "n/a"
