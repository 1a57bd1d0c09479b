"""The console part of the bench that needs no browser: what index.html names, the first load as sent, the report."""

from __future__ import annotations

import gzip
import json
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


REPORT = {
    "lighthouseVersion": "12.2.3",
    "requestedUrl": "http://127.0.0.1:8080/",
    "finalDisplayedUrl": "http://127.0.0.1:8080/",
    "categories": {"performance": {"score": 0.97}, "accessibility": {"score": 1}},
    "audits": {
        "first-contentful-paint": {"displayValue": "1.2\xa0s"},
        "total-blocking-time": {"displayValue": "40 ms"},
        "cumulative-layout-shift": {"displayValue": "0"},
    },
}


def test_lighthouse_scores_are_read_from_its_report_in_hundredths() -> None:
    scores = consolebench.lighthouse_scores(REPORT)
    assert (scores.version, scores.performance, scores.accessibility) == ("12.2.3", 97, 100)
    assert scores.metrics == {
        "first contentful paint": "1.2 s",
        "total blocking time": "40 ms",
        "cumulative layout shift": "0",
    }


def test_the_report_gives_lighthouse_scores_or_why_there_are_none() -> None:
    result = _result(87_400, 1.2)
    text = "\n".join(render_console(result))
    assert "## Lighthouse\n\nNot measured: Lighthouse did not run." in text
    result.lighthouse_problem = "Lighthouse is installed with npm, and there is no npm (Node.js 20.19 or newer)"
    assert "Not measured: Lighthouse is installed with npm, and there is no npm" in "\n".join(render_console(result))
    result.lighthouse = consolebench.lighthouse_scores(REPORT)
    text = "\n".join(render_console(result))
    assert "Lighthouse 12.2.3 (`tools/lighthouse`, installed by this part) on the sign-in page `/`" in text
    assert "| performance | 97 |\n| accessibility | 100 |\n| first contentful paint | 1.2 s |" in text
    assert "Not measured" not in text


def test_lighthouse_without_npm_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "package-lock.json").write_text("{}")
    monkeypatch.setattr(consolebench.shutil, "which", lambda name: None)
    with pytest.raises(consolebench.ConsoleBenchError, match="there is no npm"):
        consolebench.install_lighthouse(tmp_path)


def test_the_pinned_lighthouse_runs_on_node_20() -> None:
    """Lighthouse 13 wants Node.js 22; the project's Node.js is 20.19 or newer (README)."""
    lock = json.loads((consolebench.LIGHTHOUSE_DIR / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/lighthouse"]["version"]
    assert version.split(".")[0] == "12"
    package = json.loads((consolebench.LIGHTHOUSE_DIR / "package.json").read_text())
    assert package["dependencies"] == {"lighthouse": version}
