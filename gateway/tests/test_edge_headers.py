"""The security headers every answer carries, and the policy of the docs pages."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

BEARER = {"Authorization": "Bearer access.token.1"}
OTP = ("/v1/auth/otp", {"phone": "+79990000001", "channel": "sms"})


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/healthz", {}),
        ("GET", "/openapi.json", {}),
        ("GET", "/v1/auth/jwks.json", {}),
        ("GET", "/nope", {}),
        ("POST", "/v1/auth/otp", {"json": {"phone": "not a phone"}}),
        ("GET", "/v1/me", {"headers": BEARER}),
        ("GET", "/docs", {}),
    ],
)
async def test_every_answer_says_nosniff(client, method, path, kwargs):
    response = await client.request(method, path, **kwargs)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


async def test_api_answers_get_a_policy_that_allows_nothing(client):
    response = await client.get("/v1/auth/jwks.json")

    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/v1/me", {"headers": BEARER}),
        ("GET", "/v1/me", {"headers": {"Authorization": "Bearer"}}),  # refused 401: still private
        ("GET", "/v1/me/sign-ins", {"headers": BEARER}),
        ("POST", "/v1/auth/logout", {"headers": BEARER}),
        ("GET", "/nope", {"headers": BEARER}),
    ],
)
async def test_every_authenticated_answer_is_no_store(client, method, path, kwargs):
    response = await client.request(method, path, **kwargs)

    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth/otp/verify", {"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0CHAL", "code": "123456"}),
        ("/v1/auth/password", {"phone": "+79990000001", "password": "secret-password"}),
        ("/v1/auth/refresh", {"refresh_token": "refresh-1"}),
        OTP,
    ],
)
async def test_sign_in_answers_are_no_store(client, path, body):
    response = await client.post(path, json=body)

    assert response.status_code < 300, response.text
    assert response.headers["cache-control"] == "no-store"


async def test_public_reads_keep_their_own_caching(client):
    response = await client.get("/v1/auth/jwks.json")

    assert "no-store" not in response.headers["cache-control"]


def _inline_script_hashes(html: str) -> set[str]:
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    }


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect", "/redoc"])
async def test_the_docs_pages_may_load_what_they_use_and_nothing_else(client, path):
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    policy = _directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    scripts = set(policy["script-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    html = response.text
    # Every external script and stylesheet the page loads is allowed, and only from its own CDN package.
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert any(src.startswith(allowed) for allowed in scripts), src
    for href in re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html) + re.findall(
        r'<link[^>]*href="([^"]+)"[^>]*rel="stylesheet"', html
    ):
        assert any(href.startswith(allowed) for allowed in policy["style-src"]), href
    # Every inline script runs by its hash.
    assert _inline_script_hashes(html) <= scripts
    packages = ("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/", "https://cdn.jsdelivr.net/npm/redoc@2/")
    for allowed in scripts:
        assert allowed.startswith((*packages, "'sha256-")), allowed
    if path != "/docs/oauth2-redirect":
        assert policy["connect-src"] == ["'self'"]
        assert "fonts.googleapis.com" not in html


async def test_swagger_ui_sends_the_document_to_no_online_validator(client):
    html = (await client.get("/docs")).text

    assert '"validatorUrl": null' in html
    assert "url: '/openapi.json'" in html
