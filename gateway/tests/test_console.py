"""The web console's built files served at / beside the API, and nothing of the API changed by it."""

from __future__ import annotations

from pathlib import Path

import pytest

INDEX = '<!doctype html><html lang="en"><head><script type="module" src="/assets/app-1a2b3c.js"></script></head></html>'


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "app-1a2b3c.js").write_text("console.log('simfleet')\n")
    (tmp_path / "secret.txt").write_text("not for the web")
    return tmp_path


@pytest.fixture
async def console(open_gateway, web_dir):
    gateway = await open_gateway(web_dir=web_dir)
    return gateway.client


@pytest.mark.parametrize("path", ["/", "/lines", "/lines/%2B79990000101", "/me/sign-ins"])
async def test_every_console_path_is_the_page_with_a_strict_policy(console, path):
    response = await console.get(path, headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_hashed_assets_are_cached_for_a_year(console):
    response = await console.get("/assets/app-1a2b3c.js")

    assert response.status_code == 200
    assert response.text == "console.log('simfleet')\n"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in response.headers["content-type"]


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing-123.js",
        "/assets/..%2Fsecret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    ],
)
async def test_a_missing_asset_or_a_way_out_is_a_404(console, path):
    response = await console.get(path)

    assert response.status_code == 404
    assert "not for the web" not in response.text


async def test_the_api_is_untouched(console):
    assert (await console.get("/healthz")).json() == {"status": "ok"}
    assert (await console.get("/openapi.json")).json()["info"]["title"] == "SIMfleet API"
    unknown = await console.get("/v1/no-such-thing", headers={"Accept": "text/html"})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert (await console.get("/metrics")).status_code == 200
    docs = await console.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    # A POST to a console path is the API's 404/405, not the page.
    posted = await console.post("/lines", json={})
    assert posted.status_code in (404, 405)
    assert posted.headers["content-type"] == "application/problem+json"


async def test_without_a_build_the_gateway_serves_the_api_only(client):
    response = await client.get("/", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_console_path_with_no_index_says_so(open_gateway, tmp_path):
    gateway = await open_gateway(web_dir=tmp_path)

    response = await gateway.client.get("/lines")

    assert response.status_code == 404
    assert "make up builds it" in response.text
