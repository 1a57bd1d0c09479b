"""The web console part of ``make bench``: what a browser downloads first, and how soon a very large
customer's lines page can be used.

1. **First load.** The gateway serving ``web/dist`` (as ``make up`` does) is asked for ``/`` and for every
   script, module preload and style sheet its ``index.html`` names, with ``Accept-Encoding: gzip`` as a
   browser sends it; the bytes on the wire are counted (the goal is about JavaScript: at most 250 KB
   gzipped). That is what a browser fetches to show the sign-in page: the shell (the sign-in page itself,
   the header, the catalogues) is the entry script with the modules ``index.html`` preloads; every other
   page is its own script, fetched when the page is first opened and not counted here
   (``tests/e2e/test_console.py`` checks in Chromium that the two sets are the same).
2. **The lines page of a 1,000,000-line customer.** On a fresh platform (SQLite, as ``make up``), Scale
   Test LLC is onboarded and its lines written straight into inventory's database
   (``python -m inventory.admin.scale --no-register``, as the lines part does: they are only read).
   Debian's Chromium, driven by Playwright (nothing is downloaded), signs in as its manager with the
   password, then opens ``/lines`` again and again, each a full page load in that signed-in browser: the
   page starts, renews its session with the refresh cookie, reads ``/v1/me`` and the first page of lines,
   and draws the rows. Measured in the page from the navigation's start (``performance.timeOrigin``):
   when the first row is on screen, and when the page is *interactive*: the first row drawn and no task
   of the main thread longer than 50 ms running after it (the end of the last such long task, as the
   browser's ``longtask`` timing reports it, if one ends later). The first load of the run (nothing
   cached: a new browser context holding only the session's cookie) is reported apart from the later ones
   (scripts from the HTTP cache, as a returning user).

3. **Lighthouse.** Its npm package, pinned in ``tools/lighthouse`` (its own package.json and lockfile,
   installed with ``npm ci`` by this part only, not by ``make test``), audits the sign-in page ``/`` in that
   Chromium (``CHROME_PATH``): the performance and accessibility scores, with the paint and blocking times
   the performance score is made of. Lighthouse 12 is the last for Node.js 20. When it cannot run (no npm,
   the install fails), the report says why instead of a score.

Chromium is ``/usr/bin/chromium`` (``apt-get install -y chromium``) or ``SIMFLEET_CHROMIUM``; the part says
so and stops before starting anything when it is missing, or when the console is not built (``make web``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from simfleet_devstack.platform import INVENTORY, Platform, PlatformConfig
from simfleet_devstack.scale import SCALE_MANAGER, SCALE_PREFIX, SCALE_SERIAL_BASE, onboard_scale_customer

TITLE = "Web console"
ROOT = Path(__file__).resolve().parents[3]
WEB_DIST = ROOT / "web" / "dist"
LIGHTHOUSE_DIR = ROOT / "tools" / "lighthouse"
LIGHTHOUSE_METRICS = {
    "first-contentful-paint": "first contentful paint",
    "largest-contentful-paint": "largest contentful paint",
    "total-blocking-time": "total blocking time",
    "cumulative-layout-shift": "cumulative layout shift",
    "speed-index": "speed index",
}
CHROMIUM = Path(os.environ.get("SIMFLEET_CHROMIUM", "/usr/bin/chromium"))
GOAL_JS_BYTES = 250 * 1000
"""First-load JavaScript, gzipped (KB as the goal states it: 1,000 bytes)."""
GOAL_INTERACTIVE_SECONDS = 1.5
LONG_TASK_SECONDS = 0.050

ROW = '[role="rowgroup"] [role="row"].line-row:not(.header)'

_WATCH_LONG_TASKS = """
window.__simfleetLongTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      window.__simfleetLongTasks.push([entry.startTime, entry.startTime + entry.duration]);
    }
  }).observe({ type: "longtask", buffered: true });
} catch (e) {}
"""

_TIMES = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    row: window.__simfleetFirstRow,
    longTasks: window.__simfleetLongTasks || [],
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
  };
}"""

_FIRST_ROW = f"""() => {{
  if (document.querySelector('{ROW}')) {{
    if (window.__simfleetFirstRow === undefined) window.__simfleetFirstRow = performance.now();
    return true;
  }}
  return false;
}}"""


class ConsoleBenchError(RuntimeError):
    """The console part cannot run here; the message says why and what to do."""


def console_problem(web_dist: Path = WEB_DIST) -> str | None:
    """Why the console part cannot run (None: it can)."""
    if not CHROMIUM.is_file():
        return f"the console part drives Chromium and there is none at {CHROMIUM}: apt-get install -y chromium"
    if not (web_dist / "index.html").is_file():
        return "the web console is not built: make web (or leave the part out with --parts)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the console part needs Playwright's Python package (requirements-dev.txt): make test installs it"
    return None


class _Assets(HTMLParser):
    """The scripts, module preloads and style sheets an ``index.html`` names, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "script" and named.get("src"):
            self.scripts.append(named["src"])
        elif tag == "link" and named.get("rel") == "modulepreload" and named.get("href"):
            self.scripts.append(named["href"])
        elif tag == "link" and named.get("rel") == "stylesheet" and named.get("href"):
            self.styles.append(named["href"])


@dataclass(frozen=True)
class Asset:
    path: str
    kind: str  # "html", "js" or "css"
    raw_bytes: int
    wire_bytes: int
    encoding: str


@dataclass
class FirstLoad:
    assets: list[Asset]

    def wire(self, kind: str) -> int:
        return sum(a.wire_bytes for a in self.assets if a.kind == kind)

    def raw(self, kind: str) -> int:
        return sum(a.raw_bytes for a in self.assets if a.kind == kind)


def first_load(gateway_url: str, transport: httpx.BaseTransport | None = None) -> FirstLoad:
    """What a browser downloads to show the console's first page, as the gateway sends it."""
    assets: list[Asset] = []
    headers = {"Accept-Encoding": "gzip"}
    with httpx.Client(base_url=gateway_url, timeout=30, headers=headers, transport=transport) as http:

        def fetch(path: str, kind: str) -> str:
            answer = http.get(path)
            answer.raise_for_status()
            encoding = answer.headers.get("content-encoding", "identity")
            assets.append(Asset(path, kind, len(answer.content), answer.num_bytes_downloaded, encoding))
            return answer.text

        parser = _Assets()
        parser.feed(fetch("/", "html"))
        for path in parser.scripts:
            fetch(path, "js")
        for path in parser.styles:
            fetch(path, "css")
    return FirstLoad(assets)


@dataclass(frozen=True)
class Lighthouse:
    """Lighthouse's scores (0 to 100) of a page and the metrics the performance score is made of."""

    url: str
    version: str
    performance: int
    accessibility: int
    metrics: dict[str, str]
    """A metric's name → the value as Lighthouse displays it (e.g. "0.4 s")."""


def lighthouse_scores(report: dict[str, Any]) -> Lighthouse:
    """The scores and metrics of a Lighthouse JSON report."""
    categories = report["categories"]
    audits = report["audits"]
    return Lighthouse(
        url=report.get("finalDisplayedUrl") or report.get("finalUrl") or report["requestedUrl"],
        version=report["lighthouseVersion"],
        performance=round(float(categories["performance"]["score"]) * 100),
        accessibility=round(float(categories["accessibility"]["score"]) * 100),
        metrics={
            name: str(audits[key]["displayValue"]).replace("\xa0", " ")  # "1.7\xa0s" as Lighthouse writes it
            for key, name in LIGHTHOUSE_METRICS.items()
            if key in audits
        },
    )


def install_lighthouse(folder: Path = LIGHTHOUSE_DIR) -> Path:
    """Lighthouse's command line from ``tools/lighthouse``, installed by ``npm ci`` when its lockfile changed."""
    cli = folder / "node_modules" / "lighthouse" / "cli" / "index.js"
    stamp = folder / "node_modules" / ".installed-stamp"
    lock = folder / "package-lock.json"
    if not stamp.is_file() or stamp.stat().st_mtime < lock.stat().st_mtime:
        npm = shutil.which("npm")
        if npm is None:
            raise ConsoleBenchError("Lighthouse is installed with npm, and there is no npm (Node.js 20.19 or newer)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ConsoleBenchError(f"npm ci in {folder} failed: {done.stderr.strip()[-500:]}")
        stamp.touch()
    return cli


def run_lighthouse(url: str, folder: Path = LIGHTHOUSE_DIR) -> Lighthouse:
    """Lighthouse's performance and accessibility audit of ``url`` in Debian's Chromium (its default settings:
    a phone's screen, a slow 4G network and a 4 times slower processor, simulated)."""
    cli = install_lighthouse(folder)
    with tempfile.TemporaryDirectory(prefix="simfleet-lighthouse-") as scratch:
        out = Path(scratch) / "report.json"
        done = subprocess.run(
            [
                shutil.which("node") or "node",
                str(cli),
                url,
                "--only-categories=performance,accessibility",
                "--output=json",
                f"--output-path={out}",
                "--quiet",
                "--chrome-flags=--headless=new --no-sandbox",
            ],
            env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0 or not out.is_file():
            raise ConsoleBenchError(f"Lighthouse failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return lighthouse_scores(json.loads(out.read_text()))


@dataclass(frozen=True)
class PageLoad:
    first_row: float
    interactive: float
    long_tasks: int


@dataclass
class ConsoleResult:
    command: str
    date: str
    first: FirstLoad
    lines: int
    seed_seconds: float
    cold: PageLoad | None = None
    warm: list[PageLoad] = field(default_factory=list)
    chromium: str = ""
    lighthouse: Lighthouse | None = None
    lighthouse_problem: str = ""
    """Why Lighthouse gave no scores (when it did not)."""


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _seed(platform: Platform, lines: int) -> float:
    customer, _ = onboard_scale_customer(platform)
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "inventory.admin.scale",
            "--customer-id",
            customer.customer_id,
            "--node-id",
            customer.personal_account_id,
            "--personal-account-id",
            customer.personal_account_id,
            "--count",
            str(lines),
            "--msisdn-prefix",
            SCALE_PREFIX,
            "--serial-base",
            str(SCALE_SERIAL_BASE),
            "--no-register",
        ],
        env=platform.env_for(INVENTORY),
        cwd=platform.data_dir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def _load_lines(page: Any) -> PageLoad:
    page.goto("/lines")
    page.wait_for_function(_FIRST_ROW, polling="raf", timeout=30_000)
    # Long tasks started before the first row may end after it: wait for the main thread to settle a moment.
    page.wait_for_timeout(1_000)
    times: dict[str, Any] = page.evaluate(_TIMES)
    row = float(times["row"]) / 1000
    ends = [end / 1000 for start, end in times["longTasks"] if end / 1000 > row]
    return PageLoad(first_row=row, interactive=max([row, *ends]), long_tasks=len(times["longTasks"]))


def measure_lines_page(gateway_url: str, loads: int) -> tuple[PageLoad, list[PageLoad], str]:
    """Sign in as the scale customer's manager, then open /lines ``1 + loads`` times; (cold, warm, version)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            options: dict[str, Any] = {
                "base_url": gateway_url,
                "locale": "en-GB",
                "viewport": {"width": 1280, "height": 900},
            }
            signing_in = browser.new_context(**options)
            page = signing_in.new_page()
            page.set_default_timeout(30_000)
            page.goto("/")
            page.get_by_role("tab", name="Password").click()
            page.get_by_label("Phone number").fill(SCALE_MANAGER.phone)
            page.get_by_label("Password").fill(SCALE_MANAGER.password)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name=re.compile(r"^Hello, ")).wait_for()
            cookies = signing_in.cookies()
            signing_in.close()
            # A new context with the session's cookie and an empty HTTP cache: the first load of /lines
            # fetches everything, as a manager opening a bookmark; the later ones are a returning user's.
            context = browser.new_context(**options)
            context.add_cookies(cookies)  # type: ignore[arg-type]
            context.add_init_script(_WATCH_LONG_TASKS)
            page = context.new_page()
            page.set_default_timeout(30_000)
            cold = _load_lines(page)
            warm = [_load_lines(page) for _ in range(loads)]
            return cold, warm, browser.version
        finally:
            browser.close()


def run_console(*, lines: int, loads: int, command: str, web_dist: Path = WEB_DIST) -> ConsoleResult:
    problem = console_problem(web_dist)
    if problem is not None:
        raise ConsoleBenchError(problem)
    data_dir = Path(tempfile.mkdtemp(prefix="simfleet-bench-console-"))
    platform = Platform(PlatformConfig.free_ports(data_dir, web_dir=web_dist))
    try:
        _say(f"console: starting the platform in {data_dir}")
        platform.start()
        platform.wait_ready(timeout=120)
        platform.seed()
        first = first_load(platform.gateway_url)
        _say("console: Lighthouse on the sign-in page")
        try:
            lighthouse, lighthouse_problem = run_lighthouse(f"{platform.gateway_url}/"), ""
        except (ConsoleBenchError, subprocess.TimeoutExpired) as problem:
            lighthouse, lighthouse_problem = None, str(problem)
        _say(f"console: writing {lines:,} lines of {SCALE_MANAGER.display_name}'s customer")
        seeded = _seed(platform, lines)
        _say(f"console: opening the lines page {1 + loads} times in Chromium")
        cold, warm, version = measure_lines_page(platform.gateway_url, loads)
        platform.raise_if_dead()
        return ConsoleResult(
            command=command,
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            first=first,
            lines=lines,
            seed_seconds=seeded,
            cold=cold,
            warm=warm,
            chromium=version,
            lighthouse=lighthouse,
            lighthouse_problem=lighthouse_problem,
        )
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _kb(size: int) -> str:
    return f"{size / 1000:.1f} KB"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def render_console(result: ConsoleResult) -> list[str]:
    first = result.first
    js = first.wire("js")
    warm_interactive = statistics.median(p.interactive for p in result.warm) if result.warm else None
    worst = max([p.interactive for p in result.warm] + ([result.cold.interactive] if result.cold else []))
    out = [
        f"# {TITLE}",
        "",
        "What a browser downloads to show the console, and how soon the lines page of a customer with "
        f"{result.lines:,} lines can be used (`simfleet_devstack.consolebench`). Written by `make bench`:",
        "",
        "```",
        result.command,
        "```",
        "",
        f"- Date: {result.date}; Chromium {result.chromium} (Debian's, headless, driven by Playwright) on this "
        "machine, beside the whole platform (SQLite, as `make up`).",
        "- First load: `/` and every script, module preload and style sheet its `index.html` names, asked of the "
        "gateway with `Accept-Encoding: gzip`; bytes as sent. That is the shell and the sign-in page, what a "
        "browser fetches to show it; every other page's script is fetched when the page is first opened.",
        f"- Lines page: {result.lines:,} lines written straight into inventory's database in "
        f"{result.seed_seconds:.0f} s; the manager signs in with the password, then `/lines` is opened "
        f"{1 + len(result.warm)} times, each a full page load (session renewed by its cookie, `/v1/me`, the first "
        "page of lines, the rows drawn). Times from the navigation's start, read in the page: the first row on "
        "screen, and interactive (the first row drawn and no task over 50 ms of the main thread after it).",
        "",
        "## Goals",
        "",
        "| goal | target | measured | result |",
        "| --- | --- | --- | --- |",
        f"| JavaScript on first load, gzipped | ≤ 250 KB | {_kb(js)} | "
        f"{'met' if js <= GOAL_JS_BYTES else '**not met**'} |",
        f"| lines page of a {result.lines:,}-line customer interactive | ≤ 1.5 s | {_s(worst)} (worst of "
        f"{1 + len(result.warm)} loads) | {'met' if worst <= GOAL_INTERACTIVE_SECONDS else '**not met**'} |",
        "",
        "## First load",
        "",
        "| file | kind | size (bytes) | sent (bytes) | encoding |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for asset in first.assets:
        out.append(f"| `{asset.path}` | {asset.kind} | {asset.raw_bytes:,} | {asset.wire_bytes:,} | {asset.encoding} |")
    out += [
        f"| all | | {sum(a.raw_bytes for a in first.assets):,} | {sum(a.wire_bytes for a in first.assets):,} | |",
        "",
        "## The lines page",
        "",
        "| load | first row | interactive | long tasks (> 50 ms) |",
        "| --- | ---: | ---: | ---: |",
    ]
    if result.cold is not None:
        c = result.cold
        out.append(f"| first (scripts not cached) | {_s(c.first_row)} | {_s(c.interactive)} | {c.long_tasks} |")
    if result.warm:
        rows = [p.first_row for p in result.warm]
        out.append(
            f"| later, median of {len(result.warm)} | {_s(statistics.median(rows))} | "
            f"{_s(warm_interactive or 0)} | {max(p.long_tasks for p in result.warm)} (most) |"
        )
        out.append(f"| later, worst | {_s(max(rows))} | {_s(max(p.interactive for p in result.warm))} | |")
    out += ["", "## Lighthouse", ""]
    lh = result.lighthouse
    if lh is None:
        out.append(
            f"Not measured: {result.lighthouse_problem or 'Lighthouse did not run'}. The pages' accessibility is "
            "checked by axe-core in the end-to-end tests (`tests/e2e/test_console*.py`), on every page."
        )
        return out
    out += [
        f"Lighthouse {lh.version} (`tools/lighthouse`, installed by this part) on the sign-in page `/`, in the same "
        "Chromium with Lighthouse's default settings: a phone's screen, a slow 4G network and a 4 times slower "
        "processor, simulated.",
        "",
        "| score or metric | value |",
        "| --- | ---: |",
        f"| performance | {lh.performance} |",
        f"| accessibility | {lh.accessibility} |",
    ]
    out += [f"| {name} | {value} |" for name, value in lh.metrics.items()]
    return out
