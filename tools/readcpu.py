"""CPU per authenticated read, per process: what each read costs the gateway, identity and inventory.

``make bench`` measures the reads under wrk beside the floor; on a shared
machine its requests per second swing with whatever else runs. CPU time per
request moves much less, and says where a read's cost is. This tool starts a
fresh platform (as the bench does: free ports, seeded), signs the demo manager
in, and then, for each read:

* drives the gateway *in this process* (its ASGI application, built by
  ``gateway.main.create_app`` with the platform's settings, logging and
  tracing set up as ``python -m gateway`` does, the access log written to
  ``/dev/null``) with ``--requests`` requests, ``--concurrency`` at a time,
  and reports this process's CPU time per request: the gateway's whole work
  except uvicorn's HTTP parsing, which the floor pays too;
* reports beside them the CPU milliseconds of a fixed piece of pure Python
  (``calibration``, ~30 ms on a quiet machine): figures taken while it was
  much higher were taken on a busy machine and are inflated alike;
* reads identity's and inventory's CPU time from ``/proc`` around the same
  requests and reports it per request.

``--profile DIR`` also writes a cProfile of the gateway's part of each read
(``DIR/<database>-<read>.prof``), ``--py-spy DIR`` py-spy's sampled stacks
of every process (``DIR/<database>-<read>-<process>.txt``, its raw format:
one stack a line with its count; py-spy is not among the project's
requirements, install it in the venv). Keep both out of the repository::

    python tools/readcpu.py --databases sqlite,postgresql --requests 3000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from simfleet_devstack.platform import IDENTITY, INVENTORY, Platform, PlatformConfig
from simfleet_devstack.process import read_cpu_seconds
from simfleet_devstack.readbench import (
    DATABASES,
    DEFAULT_POSTGRES_URL,
    POSTGRES_PREFIX,
    POSTGRESQL,
    READ_PATHS,
    _bearer,
)

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def _one(app: Asgi, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET through the ASGI application; its status (the body is read and dropped)."""
    raw_path, _, query = path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _drive(app: Asgi, path: str, headers: list[tuple[bytes, bytes]], requests: int, concurrency: int) -> None:
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            status = await _one(app, path, headers)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _measure(
    platform: Platform, database: str, bearer: dict[str, str], args: argparse.Namespace
) -> list[tuple[str, dict[str, float]]]:
    from gateway.main import create_app
    from gateway.settings import GatewaySettings

    os.environ.update(_gateway_env(platform))
    settings = GatewaySettings()
    app: Any = create_app(settings)
    headers = [
        (b"host", b"127.0.0.1:8080"),
        (b"user-agent", b"readcpu"),
        (b"accept", b"*/*"),
        *((name.lower().encode(), value.encode()) for name, value in bearer.items()),
    ]
    pids = {name: pid for name, pid in platform.pids().items() if name in (IDENTITY, INVENTORY)}
    out: list[tuple[str, dict[str, float]]] = []
    async with app.router.lifespan_context(app):
        for target, path in READ_PATHS.items():
            await _drive(app, path, headers, args.warmup, args.concurrency)
            profile = cProfile.Profile() if args.profile else None
            spies = _spies(args.py_spy, database, target, {"gateway": os.getpid(), **pids})
            before = {name: _cpu(pid) for name, pid in pids.items()}
            own = time.process_time()
            if profile is not None:
                profile.enable()
            await _drive(app, path, headers, args.requests, args.concurrency)
            if profile is not None:
                profile.disable()
            for spy in spies:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            spent = {"gateway": time.process_time() - own, "calibration": _calibration() * args.requests}
            spent |= {name: _cpu(pid) - before[name] for name, pid in pids.items()}
            out.append((target, {name: seconds * 1000 / args.requests for name, seconds in spent.items()}))
            if profile is not None:
                name = target.split("?")[0].replace("GET /", "").replace("/", "-")
                profile.dump_stats(str(Path(args.profile) / f"{database}-{name}.prof"))
    return out


def _spies(directory: str, database: str, target: str, pids: dict[str, int]) -> list[subprocess.Popen[bytes]]:
    """py-spy recording each process (sampled stacks in py-spy's raw format) until it is sent SIGINT."""
    if not directory:
        return []
    read = target.split("?")[0].replace("GET /", "").replace("/", "-")
    spies = [
        subprocess.Popen(
            [
                shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--nonblocking",
                "--format",
                "raw",
                "--rate",
                "200",
                "-p",
                str(pid),
                "-o",
                str(Path(directory) / f"{database}-{read}-{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]
    time.sleep(1.0)  # py-spy attaches
    return spies


def _calibration() -> float:
    """CPU seconds of a fixed piece of pure Python here and now: it grows as the machine gets busier."""
    started = time.process_time()
    for _ in range(20):
        sum(range(100_000))
    return time.process_time() - started


def _cpu(pid: int) -> float:
    seconds = read_cpu_seconds(pid)
    if seconds is None:
        raise RuntimeError(f"process {pid} is gone")
    return seconds


def _gateway_env(platform: Platform) -> dict[str, str]:
    env = platform.env_for("gateway")
    return {k: v for k, v in env.items() if k.startswith("GATEWAY_") and k not in ("GATEWAY_HTTP_PORT",)}


def measure(database: str, args: argparse.Namespace) -> list[tuple[str, dict[str, float]]]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"simfleet-readcpu-{database}-"))
    overrides: dict[str, object] = {}
    if database == POSTGRESQL:
        overrides.update(postgres_url=args.postgres_url, postgres_prefix=POSTGRES_PREFIX, postgres_reset=True)
    platform = Platform(PlatformConfig.free_ports(data_dir, **overrides))
    try:
        print(f"readcpu: {database}: starting the platform in {data_dir}", file=sys.stderr, flush=True)
        platform.start()
        platform.wait_ready(timeout=120)
        platform.seed()
        bearer, _lines = _bearer(platform.gateway_url)
        return asyncio.run(_measure(platform, database, bearer, args))
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/readcpu.py", description=__doc__)
    parser.add_argument("--databases", default="sqlite", help="sqlite, postgresql or both, comma-separated")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per read")
    parser.add_argument("--warmup", type=int, default=300, help="requests per read before measuring")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    parser.add_argument("--profile", default="", help="a directory for cProfile files of the gateway's part")
    parser.add_argument(
        "--py-spy", default="", help="a directory for py-spy's sampled stacks (raw format) of each process"
    )
    args = parser.parse_args(argv)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = [d for d in databases if d not in DATABASES]
    if unknown:
        parser.error(f"unknown database(s): {', '.join(unknown)}")
    for directory in (args.profile, args.py_spy):
        if directory:
            os.makedirs(directory, exist_ok=True)
    from simfleet_runtime import telemetry

    telemetry.setup_logging("gateway", "INFO", True)
    # The access log is written as the gateway writes it, to nowhere.
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - open for the life of the process
    telemetry.setup_tracing("gateway", "local")
    print(f"CPU ms per request ({args.requests} requests, {args.concurrency} at a time)")
    print("| database | read | gateway | identity | inventory | calibration |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for database in databases:
        for target, per_request in measure(database, args):
            names = ("gateway", IDENTITY, INVENTORY, "calibration")
            cells = " | ".join(f"{per_request.get(n, float('nan')):.2f}" for n in names)
            print(f"| {database} | {target} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
