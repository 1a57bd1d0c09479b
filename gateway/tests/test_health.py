"""/healthz, /readyz and identity being down or slow."""

from __future__ import annotations

import time

from gateway.main import create_app
from gateway.settings import GatewaySettings
from simfleet_runtime.testing import free_port


async def test_healthz_answers_while_the_process_lives(client):
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_identity_is_serving(client, identity):
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_identity_is_not_serving(client, identity, problem):
    await identity.set_serving(False)

    response = await client.get("/readyz")

    problem(response, 503, "NOT_READY")
    assert response.headers["retry-after"] == "1"


async def test_readyz_asks_about_the_configured_service(open_gateway, identity, problem):
    await identity.health.set("simfleet.identity.v1.AuthService", 1)  # SERVING
    serving = await open_gateway(identity_health_service="simfleet.identity.v1.AuthService")
    unknown = await open_gateway(identity_health_service="simfleet.identity.v1.Nothing")

    assert (await serving.client.get("/readyz")).status_code == 200
    problem(await unknown.client.get("/readyz"), 503, "NOT_READY")


async def _gateway_without_identity(open_gateway, **overrides):
    return await open_gateway(identity_target=f"127.0.0.1:{free_port()}", grpc_timeout_seconds=3.0, **overrides)


async def test_identity_down_gives_503_fast(open_gateway, problem):
    gateway = await _gateway_without_identity(open_gateway)

    for path, body in [
        ("/v1/auth/otp", {"phone": "+79990000001", "channel": "sms"}),
        ("/v1/auth/password", {"phone": "+79990000001", "password": "x"}),
    ]:
        started = time.monotonic()
        response = await gateway.client.post(path, json=body)
        elapsed = time.monotonic() - started

        body = problem(response, 503, "SERVICE_UNAVAILABLE")
        assert response.headers["retry-after"] == "1"
        assert elapsed < 1.5, f"{path} took {elapsed:.2f}s with a 3s deadline"


async def test_identity_down_gives_503_fast_for_retried_reads(open_gateway, problem):
    gateway = await _gateway_without_identity(open_gateway)

    started = time.monotonic()
    response = await gateway.client.get("/v1/me", headers={"Authorization": "Bearer access.token.1"})

    problem(response, 503, "SERVICE_UNAVAILABLE")
    assert time.monotonic() - started < 1.5


async def test_readyz_when_identity_is_down(open_gateway, problem):
    gateway = await _gateway_without_identity(open_gateway)

    started = time.monotonic()
    response = await gateway.client.get("/readyz")

    problem(response, 503, "NOT_READY")
    assert time.monotonic() - started < 1.5


async def test_a_slow_identity_meets_the_deadline_with_503(open_gateway, identity, problem, delay):
    gateway = await open_gateway(grpc_timeout_seconds=0.3)
    identity.script("SignInWithPassword", delay(5))

    started = time.monotonic()
    response = await gateway.client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "x"})
    elapsed = time.monotonic() - started

    problem(response, 503, "SERVICE_UNAVAILABLE")
    assert 0.25 < elapsed < 1.5


async def test_the_app_opens_and_closes_its_own_channel(identity):
    app = create_app(GatewaySettings(identity_target=identity.target, access_log=False))
    assert app.state.identity is None  # nothing is made before the app starts

    async with app.router.lifespan_context(app):
        channel = app.state.identity.channel
        import httpx

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/v1/auth/jwks.json")).status_code == 200

    assert app.state.identity is None
    assert channel.get_state().name == "SHUTDOWN"


async def test_requests_before_start_get_503(problem):
    import httpx

    app = create_app(GatewaySettings(access_log=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        problem(await client.get("/v1/auth/jwks.json"), 503, "SERVICE_UNAVAILABLE")
        problem(await client.get("/readyz"), 503, "NOT_READY")
