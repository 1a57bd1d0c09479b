"""The gateway's edge as an attacker and a browser meet it: headers, bodies the API does not speak, spoofed names,
reused idempotency keys, CORS, and the services' metrics ports, against the real processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from simfleet.accounts.v1 import hierarchy_pb2, hierarchy_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_runtime.errors import read_error
from tests.e2e.conftest import onboard_customer
from tests.helpers import problem

pytestmark = pytest.mark.e2e
PHONE = "+79996810001"
PASSWORD = "Edge-Hardening-Passw0rd-2026"
SPOOFED = ["Sales\u202e", "Sa\u0000les", "\u2066Sales\u2069", "Sa\u200eles", "Sa\x1bles"]


@pytest.fixture(scope="module")
def customer(platform: Platform) -> Any:
    return onboard_customer(
        platform, key="edge-hardening", n=81, name="Edge Hardening LLC", phone=PHONE, password=PASSWORD
    )


@pytest.fixture
def owner(api: httpx.Client, customer: Any) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": PHONE, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # LISTEN
                found.add(address)
    return found


def test_the_services_metrics_listen_on_the_loopback_only(platform: Platform) -> None:
    config = platform.config
    for port in (config.identity_metrics, config.netsim_metrics, config.accounts_metrics, config.inventory_metrics):
        assert _listening_addresses(port) == {"0100007F"}, port  # 127.0.0.1, not 0.0.0.0


def test_answers_cannot_be_sniffed_framed_or_cached(api: httpx.Client, owner: dict[str, str]) -> None:
    me = api.get("/v1/me", headers=owner)
    docs = api.get("/docs")

    for response in (me, docs, api.get("/healthz")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert me.headers["cache-control"] == "no-store"
    policy = docs.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/" in policy


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (json.dumps({"phone": PHONE, "password": PASSWORD}).encode(), "text/plain"),
        (json.dumps({"phone": PHONE, "password": PASSWORD}).encode(), "application/x-www-form-urlencoded"),
        (b"\xef\xbb\xbf" + json.dumps({"phone": PHONE, "password": PASSWORD}).encode(), "application/json"),
        (json.dumps({"phone": PHONE, "password": PASSWORD}).encode("utf-16"), "application/json"),
        (json.dumps({"phone": PHONE, "password": PASSWORD}).encode("utf-32-le"), "application/json"),
    ],
)
def test_a_body_the_api_does_not_speak_is_refused_unread(
    api: httpx.Client, customer: Any, content: bytes, content_type: str
) -> None:
    response = api.post("/v1/auth/password", content=content, headers={"Content-Type": content_type})

    assert problem(response, 415)["reason"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("name", SPOOFED)
def test_spoofed_names_are_refused_through_the_gateway_and_over_grpc(
    platform: Platform, api: httpx.Client, customer: Any, owner: dict[str, str], name: str
) -> None:
    root = customer.customer.root_node_id
    attempts = {
        "/v1/nodes": {"parent_id": root, "kind": "department", "name": name},
        "/v1/roles": {"name": name, "permissions": ["lines:read"]},
        "/v1/users": {
            "phone": "+79996810099",
            "email": "spoof@edge.example",
            "name": name,
            "grants": [{"role": "viewer", "node_id": root}],
        },
    }
    for path, body in attempts.items():
        refused = problem(api.post(path, json=body, headers=owner), 422)
        assert [e["field"] for e in refused["errors"]] == ["name"], path

    # A caller that skips the gateway is refused by the service itself.
    with grpc.insecure_channel(platform.accounts_target) as channel:
        tree = hierarchy_pb2_grpc.HierarchyServiceStub(channel)
        metadata = (("authorization", owner["Authorization"]),)
        request = hierarchy_pb2.CreateNodeRequest(parent_id=root, kind=hierarchy_pb2.NODE_KIND_DEPARTMENT, name=name)
        with pytest.raises(grpc.RpcError) as failed:
            tree.CreateNode(request, metadata=metadata, timeout=5)
    details = read_error(failed.value)  # type: ignore[arg-type]
    assert (details.code, details.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_NAME")
    names = [n["name"] for n in api.get("/v1/nodes", headers=owner).json()["items"]]
    assert not [n for n in names if set(n) & set("\u202e\u2066\u2069\u200e\x00\x1b")]


def test_an_idempotency_key_answers_only_the_request_it_was_used_for(
    api: httpx.Client, customer: Any, owner: dict[str, str]
) -> None:
    root = customer.customer.root_node_id
    body = {"type": "block", "selection": {"node_id": root}, "params": {"block_type": "voluntary"}}
    key = {**owner, "Idempotency-Key": "edge-hardening-block-1"}
    first = api.post("/v1/operations", json=body, headers=key)
    assert first.status_code == 202, first.text

    replayed = api.post("/v1/operations", json=body, headers=key)
    assert replayed.status_code == 200 and replayed.json()["id"] == first.json()["id"]
    assert replayed.headers["idempotent-replayed"] == "true"
    other_body = {**body, "params": {"block_type": "financial"}}
    for path, other in (
        ("/v1/operations", other_body),
        ("/v1/sim-orders", {"node_id": root, "quantity": 1, "tariff": "BIZ-M"}),
    ):
        reused = problem(api.post(path, json=other, headers=key), 422)
        assert reused["reason"] == "IDEMPOTENCY_KEY_REUSED", path


def test_a_browser_from_another_origin_gets_no_cors_headers(api: httpx.Client) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }

    allowed = api.options("/v1/operations", headers={**preflight, "Origin": "http://localhost:5173"})
    evil = api.options("/v1/operations", headers={**preflight, "Origin": "https://evil.example"})
    read = api.get("/v1/auth/jwks.json", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert problem(evil, 403)["reason"] == "CORS_NOT_ALLOWED"
    for response in (evil, read):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_a_client_polls_a_resource_with_its_etag(api: httpx.Client, owner: dict[str, str]) -> None:
    first = api.get("/v1/me", headers=owner)
    again = api.get("/v1/me", headers={**owner, "If-None-Match": first.headers["etag"]})

    assert again.status_code == 304 and again.content == b""
    listed = api.get("/v1/permissions", headers={**owner, "Accept-Encoding": "gzip"})
    if len(listed.content) >= 1024:
        assert listed.headers["content-encoding"] == "gzip"


def test_sign_in_answers_say_their_rate_limit_standing(api: httpx.Client, customer: Any) -> None:
    response = api.post("/v1/auth/password", json={"phone": PHONE, "password": "wrong-" + PASSWORD})

    assert response.status_code == 401
    assert int(response.headers["ratelimit-limit"]) >= 1
    assert int(response.headers["ratelimit-remaining"]) >= 0
    assert response.headers["ratelimit-policy"].startswith(response.headers["ratelimit-limit"] + ";w=")
