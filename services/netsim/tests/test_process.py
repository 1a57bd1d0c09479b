"""``python -m netsim`` as a real process: it becomes SERVING, does its work, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import nats
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from simfleet_runtime.bus import headers as h
from simfleet_runtime.testing import NatsServer, eventually, free_port
from simfleet_subjects import NetsimSubjects

from .conftest import sms_command  # type: ignore[import-not-found]


class NetsimProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.grpc_port = int(env["NETSIM_GRPC_PORT"])
        self.http_port = int(env["NETSIM_HTTP_PORT"])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "netsim"], env=self.env, stdout=out, stderr=out)
        return self.process

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def netsim_env(nats_url: str, db_url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETSIM_")}
    env.update(
        NETSIM_DATABASE_URL=db_url,
        NETSIM_NATS_URL=nats_url,
        NETSIM_GRPC_PORT=str(free_port()),
        NETSIM_METRICS_PORT=str(free_port()),
        NETSIM_SMTP_PORT=str(free_port()),
        NETSIM_HTTP_PORT=str(free_port()),
        NETSIM_SHUTDOWN_GRACE_SECONDS="5",
        NETSIM_HEALTH_CHECK_INTERVAL_SECONDS="0.2",
    )
    env.update(overrides)
    return env


@pytest.fixture
def process(nats_server: NatsServer, db_url: str, tmp_path: Path) -> Iterator[NetsimProcess]:
    running = NetsimProcess(netsim_env(nats_server.url, db_url), tmp_path / "netsim.log")
    yield running
    running.kill()


async def test_it_serves_then_stops_cleanly_on_sigterm(process: NetsimProcess, nats_server: NatsServer) -> None:
    child = process.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{process.grpc_port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)

        async def serving() -> bool:
            assert child.poll() is None, process.output()
            try:
                answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
            except grpc.aio.AioRpcError:
                return False
            return answer.status == health_pb2.HealthCheckResponse.SERVING

        await eventually(serving, timeout=30, interval=0.1, what="gRPC health SERVING")

    # The process does its work: a command on NATS ends up on the console.
    nc = await nats.connect(nats_server.url)
    try:
        await nc.jetstream(timeout=5).publish(
            NetsimSubjects.SUBMIT_SMS, sms_command("+79990000030", "through the process"), headers={h.MSG_ID: "proc-1"}
        )
    finally:
        await nc.close()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.http_port}", timeout=5) as http:

        async def delivered() -> bool:
            response = await http.get("/handsets/+79990000030/sms")
            return [m["text"] for m in response.json()["messages"]] == ["through the process"]

        await eventually(delivered, what="the SMS in the console")
        metrics = (await http.get(f"http://127.0.0.1:{process.env['NETSIM_METRICS_PORT']}/metrics")).text
        assert "simfleet_netsim_sms_delivered_total 1.0" in metrics

    started = time.monotonic()
    child.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(child.wait, 10)
    assert code == 0, process.output()
    assert time.monotonic() - started < 5, "a clean stop takes a few seconds at most"
    assert '"message": "stopped"' in process.output()


async def test_a_taken_port_fails_the_process(nats_server: NatsServer, db_url: str, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = netsim_env(nats_server.url, db_url, NETSIM_SMTP_PORT=str(port))
        process = NetsimProcess(env, tmp_path / "netsim.log")
        child = process.start()
        try:
            code = await asyncio.to_thread(child.wait, 30)
        finally:
            process.kill()
    assert code == 1, process.output()
    assert "smtp-sink" in process.output()
