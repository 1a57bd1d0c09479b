"""CORS with an allow-list from settings: preflights answered 204 at the edge, other origins get no CORS header."""

from __future__ import annotations

import pytest

ALLOWED = "https://cabinet.example"
PREFLIGHT = {
    "Origin": ALLOWED,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


def _listed(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


@pytest.mark.parametrize("path", ["/v1/operations", "/v1/auth/otp", "/v1/nodes/01JA0Z6X3W8T9R2Q1P0N5M4K7B", "/v1/me"])
async def test_a_preflight_from_an_allowed_origin_is_204_with_what_the_browser_needs(open_gateway, identity, path):
    gateway = await open_gateway(cors_origins=f"{ALLOWED},http://localhost:5173")

    response = await gateway.client.options(path, headers=PREFLIGHT)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert {"get", "post", "put", "patch", "delete"} <= _listed(response.headers["access-control-allow-methods"])
    assert {"authorization", "content-type", "idempotency-key", "if-none-match", "x-request-id"} <= _listed(
        response.headers["access-control-allow-headers"]
    )
    assert int(response.headers["access-control-max-age"]) > 0
    assert "origin" in _listed(response.headers["vary"])
    assert "access-control-allow-credentials" not in response.headers
    assert identity.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        {**PREFLIGHT, "Origin": "https://evil.example"},
        {**PREFLIGHT, "Origin": "https://cabinet.example.evil.example"},
        {**PREFLIGHT, "Origin": "null"},
        {**PREFLIGHT, "Access-Control-Request-Method": "TRACE"},
        {**PREFLIGHT, "Access-Control-Request-Headers": "x-forwarded-for"},
    ],
)
async def test_any_other_preflight_gets_no_cors_header(open_gateway, problem, headers):
    gateway = await open_gateway(cors_origins=ALLOWED)

    response = await gateway.client.options("/v1/operations", headers=headers)

    problem(response, 403, "CORS_NOT_ALLOWED")
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


async def test_without_an_allow_list_a_preflight_is_refused_not_405(open_gateway, problem):
    gateway = await open_gateway()

    response = await gateway.client.options("/v1/operations", headers=PREFLIGHT)

    problem(response, 403, "CORS_NOT_ALLOWED")
    assert "access-control-allow-origin" not in response.headers


async def test_an_actual_request_from_an_allowed_origin_can_read_the_headers_it_needs(open_gateway):
    gateway = await open_gateway(cors_origins=[ALLOWED])

    response = await gateway.client.get("/v1/auth/jwks.json", headers={"Origin": ALLOWED + "/"})

    assert response.headers["access-control-allow-origin"] == ALLOWED + "/"
    exposed = _listed(response.headers["access-control-expose-headers"])
    assert {"x-request-id", "retry-after", "location", "idempotent-replayed", "etag"} <= exposed
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= exposed
    assert "origin" in _listed(response.headers["vary"])


async def test_an_actual_request_from_another_origin_gets_no_cors_header(open_gateway):
    gateway = await open_gateway(cors_origins=[ALLOWED])

    response = await gateway.client.get("/v1/auth/jwks.json", headers={"Origin": "https://evil.example"})

    assert response.status_code == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


async def test_a_wildcard_allows_every_origin(open_gateway):
    gateway = await open_gateway(cors_origins="*")

    response = await gateway.client.options("/v1/auth/otp", headers={**PREFLIGHT, "Origin": "https://any.example"})

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"


async def test_an_options_request_that_is_no_preflight_still_reaches_the_routes(open_gateway, problem):
    gateway = await open_gateway(cors_origins=ALLOWED)

    response = await gateway.client.options("/v1/operations", headers={"Origin": ALLOWED})

    problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["access-control-allow-origin"] == ALLOWED
