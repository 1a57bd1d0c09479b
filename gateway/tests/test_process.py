"""`python -m gateway`: the composition root under a real uvicorn, and a graceful stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time

import httpx
import pytest

from simfleet_runtime.testing import free_port


async def _wait_until_up(base_url: str, process: asyncio.subprocess.Process, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"the gateway exited with {process.returncode}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the gateway did not start")


@pytest.fixture
async def gateway_process(identity):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "OTEL_"))}
    env.update(
        GATEWAY_HTTP_HOST="127.0.0.1",
        GATEWAY_HTTP_PORT=str(port),
        GATEWAY_IDENTITY_TARGET=identity.target,
        GATEWAY_ENVIRONMENT="test",
        GATEWAY_SHUTDOWN_GRACE_SECONDS="5",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_up(base_url, process)
        yield process, base_url
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_python_m_gateway_serves_and_stops_gracefully(gateway_process, identity, delay):
    process, base_url = gateway_process
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        assert (await client.get("/readyz")).status_code == 200
        response = await client.post("/v1/auth/otp", json={"phone": "+79990000001", "channel": "sms"})
        assert response.status_code == 202
        assert identity.last("StartOtpSignIn").metadata["simfleet-client-address"] == "127.0.0.1"
        # A real tracer provider is installed: the call to identity carries a trace context.
        assert identity.last("StartOtpSignIn").metadata["traceparent"].startswith("00-")
        metrics = (await client.get("/metrics")).text
        assert 'simfleet_http_requests_total{method="POST",route="/v1/auth/otp",status="202"} 1.0' in metrics
        assert "simfleet_grpc_client_handled_total" in metrics

        # SIGTERM while a request is in flight: it is finished, then the process exits cleanly.
        identity.script("SignInWithPassword", delay(0.5))
        in_flight = asyncio.create_task(
            client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "x"})
        )
        while not any(c.method == "SignInWithPassword" for c in identity.calls):
            await asyncio.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        finished = await in_flight
        assert finished.status_code == 200

    _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
    assert process.returncode == 0
    records = [json.loads(line) for line in stderr.decode().splitlines() if line.strip()]
    assert records, "the gateway logged nothing"
    assert all(r["service"] == "gateway" for r in records)
    access = [r for r in records if r.get("http_route") == "/v1/auth/otp"]
    assert access and access[0]["http_status"] == 202 and access[0]["trace_id"]
    assert any(r["message"] == "gateway stopped" for r in records)
