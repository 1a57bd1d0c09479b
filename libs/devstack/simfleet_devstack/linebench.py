"""The lines part of ``make bench``: a bulk block end to end, and reading pages of a very large customer.

1. ``bulk_lines`` new lines are imported (the back-office way) under one
   personal account of the demo customer and registered in netsim's HLR; the
   demo manager then blocks them all with one ``POST /v1/operations`` by
   selection, and the bench times the operation from the request to its end
   (the operation's own ``started_at``/``finished_at`` and the wall clock),
   sampling each process's CPU meanwhile.
2. ``scale_lines`` more lines are written straight into inventory's database
   (``python -m inventory.admin.scale --no-register``) under another personal
   account, and ``GET /v1/lines`` is timed page by page: the first page, pages
   further on by cursor, and a page filtered by state. These lines are only
   read, so they are not registered in the HLR: registering them would make
   this step about half as long again (a minute more for a million, the HLR
   catching up after the seed) and keep netsim and inventory busy with it
   unless the pages waited for it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx

from simfleet.inventory.v1 import admin_pb2, admin_pb2_grpc, lines_pb2
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_devstack.platform import INVENTORY, Platform
from simfleet_devstack.procstats import Sampler
from simfleet_devstack.seed import DEMO_MANAGER, demo_sim
from simfleet_runtime.context import OPERATOR_KEY

BULK_PREFIX = "+79996"
SCALE_PREFIX = "+7995"
ACCEPT_PREFIX = "+7993"
ACCEPT_NUMBERS = 200_000
"""The most numbers one operation takes (``INVENTORY_MAX_LINES_PER_OPERATION``)."""
ACCEPT_TRIES = 3


@dataclass
class PageTimes:
    label: str
    seconds: list[float] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


@dataclass
class LinesResult:
    bulk_lines: int
    import_seconds: float
    register_seconds: float
    operation: dict[str, Any]
    wall_seconds: float
    sampler: Sampler | None
    scale_lines: int
    seed_seconds: float
    pages: list[PageTimes]
    cpus: int = 2
    slow_polls: int = 0
    accept_numbers: int = 0
    accept_seconds: list[float] = field(default_factory=list)

    @property
    def run_seconds(self) -> float:
        started = datetime.fromisoformat(self.operation["started_at"])
        finished = datetime.fromisoformat(self.operation["finished_at"])
        return (finished - started).total_seconds()


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _manager(api: httpx.Client) -> dict[str, str]:
    answer = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _accounts(api: httpx.Client, headers: dict[str, str]) -> tuple[str, list[dict[str, Any]]]:
    nodes = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 100}, headers=headers)
    nodes.raise_for_status()
    customer = api.get("/v1/me", headers=headers).json()["customer_id"]
    return customer, sorted(nodes.json()["items"], key=lambda n: n["name"])


def _import(platform: Platform, customer_id: str, account: str, count: int) -> list[str]:
    numbers = [f"{BULK_PREFIX}{i:06d}" for i in range(count)]
    metadata = ((OPERATOR_KEY, platform.config.operator_key),)
    with grpc.insecure_channel(platform.inventory_target) as channel:
        stub = admin_pb2_grpc.InventoryAdminServiceStub(channel)
        for start in range(0, count, 10_000):
            chunk = numbers[start : start + 10_000]
            stub.ImportLines(
                admin_pb2.ImportLinesRequest(
                    customer_id=customer_id,
                    lines=[
                        admin_pb2.ImportedLine(
                            msisdn=n,
                            sim=demo_sim(20_000_000 + start + i),
                            node_id=account,
                            personal_account_id=account,
                            tariff_code="BIZ-M",
                            state=lines_pb2.LINE_STATE_ACTIVE,
                        )
                        for i, n in enumerate(chunk)
                    ],
                ),
                metadata=metadata,
                timeout=300,
            )
    return numbers


def _wait_registered(platform: Platform, last: str, timeout: float) -> None:
    with grpc.insecure_channel(platform.netsim_target) as channel:
        hlr = hlr_pb2_grpc.HlrServiceStub(channel)
        deadline = time.monotonic() + timeout
        while True:
            try:
                hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=last), timeout=5)
                return
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the imported lines never reached the HLR") from None
                time.sleep(0.5)


def _time_acceptance(api: httpx.Client, headers: dict[str, str], numbers: list[str], count: int) -> list[float]:
    """Seconds to the 202 of an operation on ``count`` numbers (the bulk lines, then numbers nobody has).

    Each is scheduled an hour ahead and cancelled at once: what is timed is the caller's wait alone.
    """
    given = (numbers + [f"{ACCEPT_PREFIX}{i:07d}" for i in range(count)])[:count]
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = {"type": "unblock", "params": {"block_type": "voluntary"}, "lines": given, "scheduled_at": at}
    seconds = []
    for _ in range(ACCEPT_TRIES):
        started = time.perf_counter()
        answer = api.post("/v1/operations", json=body, headers=headers)
        seconds.append(time.perf_counter() - started)
        answer.raise_for_status()
        api.post(f"/v1/operations/{answer.json()['id']}/cancel", headers=headers).raise_for_status()
    return seconds


def _time_pages(api: httpx.Client, headers: dict[str, str], node: str, pages: int) -> list[PageTimes]:
    first = PageTimes("first page (100 lines, by number)")
    deep = PageTimes("next pages by cursor (100 lines)")
    by_state = PageTimes("first page of blocked lines (state filter)")
    cursor = None
    for _ in range(pages):
        started = time.perf_counter()
        answer = api.get("/v1/lines", params={"node_id": node, "limit": 100}, headers=headers)
        first.seconds.append(time.perf_counter() - started)
        answer.raise_for_status()
        params: dict[str, Any] = {"node_id": node, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        started = time.perf_counter()
        answer = api.get("/v1/lines", params=params, headers=headers)
        deep.seconds.append(time.perf_counter() - started)
        answer.raise_for_status()
        cursor = answer.json()["next_cursor"]
        started = time.perf_counter()
        answer = api.get("/v1/lines", params={"node_id": node, "state": "blocked", "limit": 100}, headers=headers)
        by_state.seconds.append(time.perf_counter() - started)
        answer.raise_for_status()
    return [first, deep, by_state]


def run_lines(
    platform: Platform, *, bulk_lines: int, scale_lines: int, pages: int, pids: dict[str, int]
) -> LinesResult:
    with httpx.Client(base_url=platform.gateway_url, timeout=60) as api:
        headers = _manager(api)
        customer, accounts = _accounts(api, headers)
        bulk_account, scale_account = accounts[0]["id"], accounts[-1]["id"]

        _say(f"importing {bulk_lines} lines")
        started = time.monotonic()
        numbers = _import(platform, customer, bulk_account, bulk_lines)
        imported = time.monotonic() - started
        _wait_registered(platform, numbers[-1], timeout=1800)
        registered = time.monotonic() - started - imported

        _say(f"blocking {bulk_lines} lines in one operation")
        headers = _manager(api)
        sampler = Sampler(pids, interval=0.5).start()
        started = time.monotonic()
        answer = api.post(
            "/v1/operations",
            json={
                "type": "block",
                "selection": {"node_id": bulk_account, "state": "active"},
                "params": {"block_type": "voluntary"},
            },
            headers=headers,
        )
        answer.raise_for_status()
        operation_id = answer.json()["id"]
        slow_polls = 0
        while True:
            polled = api.get(f"/v1/operations/{operation_id}", headers=headers)
            if polled.status_code != 200:
                slow_polls += 1  # inventory busy past the gateway's deadline (504) while the operation starts
                time.sleep(0.2)
                continue
            operation = polled.json()
            if operation["state"] not in ("scheduled", "running"):
                break
            time.sleep(0.2)
        wall = time.monotonic() - started
        sampler.stop()

        accept_numbers = ACCEPT_NUMBERS
        _say(f"accepting operations on {accept_numbers} numbers, {ACCEPT_TRIES} times")
        accept_seconds = _time_acceptance(api, _manager(api), numbers, accept_numbers)

        _say(f"writing {scale_lines} lines straight into inventory's database")
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "inventory.admin.scale",
                "--customer-id",
                customer,
                "--node-id",
                scale_account,
                "--count",
                str(scale_lines),
                "--msisdn-prefix",
                SCALE_PREFIX,
                "--no-register",
            ],
            env=platform.env_for(INVENTORY),
            cwd=platform.data_dir,
            check=True,
        )
        seeded = time.monotonic() - started
        _say(f"timing 3 kinds of GET /v1/lines page, {pages} requests each")
        headers = _manager(api)
        _time_pages(api, headers, scale_account, 10)  # warm the caches first
        page_times = _time_pages(api, headers, scale_account, pages)
    return LinesResult(
        accept_numbers=accept_numbers,
        accept_seconds=accept_seconds,
        bulk_lines=bulk_lines,
        import_seconds=imported,
        register_seconds=registered,
        operation=operation,
        wall_seconds=wall,
        sampler=sampler,
        scale_lines=scale_lines,
        seed_seconds=seeded,
        pages=page_times,
        cpus=os.cpu_count() or 1,
        slow_polls=slow_polls,
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def render_lines(result: LinesResult, command: str) -> list[str]:
    op = result.operation
    counts = op["counts"]
    rate = result.bulk_lines / result.wall_seconds if result.wall_seconds else float("nan")
    worst_p99 = max(p.quantile(0.99) for p in result.pages)
    out = [
        "",
        "# Lines and operations",
        "",
        "The lines part of the same run (`simfleet_devstack.linebench`): a bulk block through the gateway, end to",
        "end through inventory, NATS and netsim's HLR, and `GET /v1/lines` for a customer with very many lines.",
        "",
        "```",
        command,
        "```",
        "",
        "## Goals",
        "",
        "| goal | target | measured | result |",
        "| --- | --- | --- | --- |",
        f"| bulk block of {result.bulk_lines:,} lines, request to end | < 30 s | {result.wall_seconds:.1f} s "
        f"({rate:,.0f} lines/s) | {'met' if result.wall_seconds < 30 else '**not met**'} |",
        f"| `POST /v1/operations` on {result.accept_numbers:,} numbers, to its 202 (worst of "
        f"{len(result.accept_seconds)}) | < 1 s | {_accept(result)} | "
        f"{'met' if result.accept_seconds and max(result.accept_seconds) < 1 else '**not met**'} |",
        f"| p99 of a `GET /v1/lines` page, {result.scale_lines:,} lines | < 50 ms | {_ms(worst_p99)} ms (worst of the "
        f"three kinds below) | {'met' if worst_p99 < 0.05 else '**not met**'} |",
        "",
        "## The bulk block",
        "",
        f"- {result.bulk_lines:,} active lines imported with ImportLines (10,000 per call) "
        f"in {result.import_seconds:.1f} s; "
        f"their HLR registration (REGISTER items, 500 per command) finished {result.register_seconds:.1f} s later.",
        f"- One `POST /v1/operations` by selection (the account's active lines): state `{op['state']}`, "
        f"{counts['succeeded']:,} succeeded, {counts['failed']:,} failed, {counts['skipped']:,} skipped.",
        f"- From the request to the operation's end as the client saw it (polling every 0.2 s): "
        f"{result.wall_seconds:.1f} s; "
        f"from its start to its end as inventory recorded them: {result.run_seconds:.1f} s. "
        f"{result.slow_polls} of the client's polls were not answered in time (the gateway's 5 s deadline) while "
        "inventory held its database to start the operation (resolving the selection and writing every item "
        "in one transaction).",
        "",
    ]
    if result.sampler is not None:
        sampler = result.sampler
        out += ["| process | CPU during the operation (cores) |", "| --- | ---: |"]
        for name in sorted(sampler.samples):
            out.append(f"| {name} | {sampler.cores_used(name):.2f} |")
        out.append(f"| whole machine (every process on it) | {sampler.machine_cores_busy():.2f} |")
        busiest = max(sampler.samples, key=sampler.cores_used)
        out += [
            "",
            "Where the time goes: every item crosses inventory twice (sent in a window of "
            "`INVENTORY_MAX_IN_FLIGHT_ITEMS`, then completed from its result) and netsim once, each a database "
            "transaction per batch of items on SQLite's single writer per service, with NATS between them. "
            f"The busiest process was {busiest} at {sampler.cores_used(busiest):.2f} of the machine's "
            f"{result.cpus} cores; the machine as a whole was at {sampler.machine_cores_busy():.2f}.",
        ]
        out.append("")
    out += [
        "## Reading lines",
        "",
        f"- {result.scale_lines:,} lines written by `python -m inventory.admin.scale --no-register` (only read here, "
        f"so not registered in the HLR) under one personal account in {result.seed_seconds:.1f} s (SQLite), on top of "
        "the lines above and the demo customer's own.",
        "- Each kind of page requested the same number of times, one after another, by the demo manager "
        "(whose scope is the whole company); latency as the client saw it.",
        "",
        "| page | requests | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | mean (ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for page in result.pages:
        out.append(
            f"| {page.label} | {len(page.seconds)} | {_ms(page.quantile(0.5))} | {_ms(page.quantile(0.9))} | "
            f"{_ms(page.quantile(0.99))} | {_ms(max(page.seconds))} | {_ms(statistics.fmean(page.seconds))} |"
        )
    return out


def _accept(result: LinesResult) -> str:
    if not result.accept_seconds:
        return "not measured"
    return " / ".join(f"{s:.2f} s" for s in result.accept_seconds)
