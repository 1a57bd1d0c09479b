"""The console part of the bench that needs no browser: what index.html names, the first load as sent, the report."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest

from simfleet_devstack import bench, consolebench
from simfleet_devstack.consolebench import Asset, ConsoleResult, FirstLoad, PageLoad, render_console

INDEX = """<!doctype html><html><head>
<script type="module" crossorigin src="/assets/index-abc.js"></script>
<link rel="modulepreload" crossorigin href="/assets/vendor-def.js">
<link rel="stylesheet" crossorigin href="/assets/index-123.css">
<link rel="icon" href="/favicon.svg">
</head><body><div id="root"></div></body></html>"""


def test_index_names_its_scripts_preloads_and_style_sheets_not_its_icon() -> None:
    parser = consolebench._Assets()
    parser.feed(INDEX)
    assert parser.scripts == ["/assets/index-abc.js", "/assets/vendor-def.js"]
    assert parser.styles == ["/assets/index-123.css"]


FILES = {
    "/": (INDEX.encode(), False),
    "/assets/index-abc.js": (b"console.log('x');" * 400, True),
    "/assets/vendor-def.js": (b"export const y = 1;" * 300, True),
    "/assets/index-123.css": (b"body{margin:0}", False),
}


def _gateway(request: httpx.Request) -> httpx.Response:
    """Answers as the gateway does: gzip when asked and worth it, the raw bytes otherwise."""
    body, worth_it = FILES[request.url.path]
    if worth_it and "gzip" in request.headers.get("accept-encoding", ""):
        return httpx.Response(200, stream=httpx.ByteStream(gzip.compress(body)), headers={"Content-Encoding": "gzip"})
    return httpx.Response(200, stream=httpx.ByteStream(body))


def test_the_first_load_counts_the_bytes_as_sent() -> None:
    first = consolebench.first_load("http://console.test", transport=httpx.MockTransport(_gateway))
    assert [(a.path, a.kind) for a in first.assets] == [
        ("/", "html"),
        ("/assets/index-abc.js", "js"),
        ("/assets/vendor-def.js", "js"),
        ("/assets/index-123.css", "css"),
    ]
    js = [a for a in first.assets if a.kind == "js"]
    assert all(a.encoding == "gzip" and a.wire_bytes < a.raw_bytes for a in js)
    assert first.raw("js") == len(b"console.log('x');" * 400) + len(b"export const y = 1;" * 300)
    assert first.wire("js") == sum(len(gzip.compress(FILES[a.path][0])) for a in js)
    css = first.assets[-1]
    assert (css.encoding, css.raw_bytes, css.wire_bytes) == ("identity", 14, 14)


def _result(js_wire: int, interactive: float) -> ConsoleResult:
    return ConsoleResult(
        command="python -m simfleet_devstack.bench --output docs/BENCHMARKS.md --parts console",
        date="2026-12-07 19:00 UTC",
        first=FirstLoad(
            [Asset("/", "html", 490, 490, "identity"), Asset("/assets/a.js", "js", 300_000, js_wire, "gzip")]
        ),
        lines=1_000_000,
        seed_seconds=130.0,
        cold=PageLoad(first_row=0.9, interactive=interactive, long_tasks=2),
        warm=[PageLoad(0.3, 0.3, 0), PageLoad(0.4, 0.45, 1)],
        chromium="156.0",
    )


def test_the_report_states_both_goals_with_the_command() -> None:
    text = "\n".join(render_console(_result(87_400, 1.2)))
    assert text.startswith("# Web console\n")
    assert "python -m simfleet_devstack.bench --output docs/BENCHMARKS.md --parts console" in text
    assert "| JavaScript on first load, gzipped | ≤ 250 KB | 87.4 KB | met |" in text
    assert "| lines page of a 1,000,000-line customer interactive | ≤ 1.5 s | 1.20 s (worst of 3 loads) | met |" in text
    assert "| first (scripts not cached) | 0.90 s | 1.20 s | 2 |" in text
    assert "| later, median of 2 | 0.35 s | 0.38 s | 1 (most) |" in text


def test_a_goal_missed_is_said_so() -> None:
    text = "\n".join(render_console(_result(251_000, 1.6)))
    assert "| 251.0 KB | **not met** |" in text
    assert "1.60 s (worst of 3 loads) | **not met** |" in text


def test_the_part_stops_before_starting_anything_without_a_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consolebench, "CHROMIUM", tmp_path / "chromium")
    assert "apt-get install -y chromium" in (consolebench.console_problem(tmp_path) or "")
    (tmp_path / "chromium").write_text("")
    assert "make web" in (consolebench.console_problem(tmp_path) or "")
    with pytest.raises(consolebench.ConsoleBenchError, match="make web"):
        consolebench.run_console(lines=10, loads=1, command="", web_dist=tmp_path)
    assert "console" in bench.PARTS
