"""ETag and If-None-Match on reads, gzip of large JSON answers, and the RateLimit fields of limited calls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.edge.rate_limit import TokenBucketLimiter
from simfleet.identity.v1 import common_pb2, profile_pb2
from simfleet.inventory.v1 import lines_pb2, operations_pb2
from simfleet_runtime.errors import Unauthenticated

from .scripted import OPERATION_ID, line, operation

BEARER = {"Authorization": "Bearer access.token.1"}
OTP = ("/v1/auth/otp", {"phone": "+79990000001", "channel": "sms"})


# ----------------------------------------------------------------------- ETag
@pytest.mark.parametrize("path", ["/v1/me", "/v1/me/sign-ins"])
async def test_a_read_carries_an_etag_and_the_same_tag_again_is_304(client, identity, path):
    first = await client.get(path, headers=BEARER)
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('W/"') and etag.endswith('"')

    again = await client.get(path, headers={**BEARER, "If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "content-type" not in again.headers
    assert again.headers["x-request-id"]
    assert again.headers["cache-control"] == "no-store"


async def test_a_changed_resource_has_another_tag_and_answers_in_full(client, identity):
    etag = (await client.get("/v1/me", headers=BEARER)).headers["etag"]
    renamed = common_pb2.User(id="u1", customer_id="c1", phone="+79990000001", display_name="Renamed")
    identity.script("GetMe", profile_pb2.GetMeResponse(user=renamed))

    response = await client.get("/v1/me", headers={**BEARER, "If-None-Match": etag})

    assert response.status_code == 200
    assert response.json()["display_name"] == "Renamed"
    assert response.headers["etag"] != etag


@pytest.mark.parametrize("header", ['"nope", {etag}', "{strong}", "*"])
async def test_if_none_match_takes_lists_strong_tags_and_a_star(client, identity, header):
    etag = (await client.get("/v1/me", headers=BEARER)).headers["etag"]
    value = header.format(etag=etag, strong=etag.removeprefix("W/"))

    response = await client.get("/v1/me", headers={**BEARER, "If-None-Match": value})

    assert response.status_code == 304


async def test_an_operation_polled_until_it_changes(api, inventory):
    path = f"/v1/operations/{OPERATION_ID}"
    etag = (await api.get(path, headers=BEARER)).headers["etag"]

    unchanged = await api.get(path, headers={**BEARER, "If-None-Match": etag})
    counts = operations_pb2.ItemCounts(total=2, pending=1, succeeded=1)
    inventory.script(
        "GetOperation",
        operations_pb2.GetOperationResponse(operation=operation(counts=counts)),
    )
    changed = await api.get(path, headers={**BEARER, "If-None-Match": etag})

    assert unchanged.status_code == 304
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_errors_and_writes_carry_no_etag(client, identity, problem):
    identity.script("GetMe", Unauthenticated("the token expired", reason="TOKEN_EXPIRED"))
    refused = await client.get("/v1/me", headers={**BEARER, "If-None-Match": "*"})
    written = await client.post(*OTP[:1], json=OTP[1])

    problem(refused, 401, "TOKEN_EXPIRED")
    assert "etag" not in refused.headers
    assert written.status_code == 202 and "etag" not in written.headers


# ----------------------------------------------------------------------- gzip
async def test_a_large_json_answer_is_gzipped_for_a_client_that_accepts_it(api, inventory):
    many = [line(f"+7999000{n:04d}") for n in range(50)]
    inventory.script("ListLines", lines_pb2.ListLinesResponse(lines=many))
    inventory.script("ListLines", lines_pb2.ListLinesResponse(lines=many))

    plain = await api.get("/v1/lines", headers={**BEARER, "Accept-Encoding": "identity"})
    packed = await api.get("/v1/lines", headers={**BEARER, "Accept-Encoding": "gzip"})

    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert packed.json() == plain.json()  # httpx decoded it
    assert packed.headers["etag"] == plain.headers["etag"]  # a weak tag: the same JSON either way
    assert int(packed.headers["content-length"]) < len(plain.content) / 3


async def test_small_answers_are_not_compressed(client):
    response = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})

    assert len(response.content) < 1024
    assert "content-encoding" not in response.headers


async def test_the_event_stream_is_neither_compressed_nor_held_back(open_inventory_gateway, inventory):
    gateway = await open_inventory_gateway(operation_events_poll_seconds=0.01)
    inventory.script(
        "GetOperation",
        *[
            operations_pb2.GetOperationResponse(
                operation=operation(counts=operations_pb2.ItemCounts(total=2000, pending=2000 - n, succeeded=n))
            )
            for n in range(5)
        ],
    )

    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/v1/operations/{OPERATION_ID}/events",
        "raw_path": f"/v1/operations/{OPERATION_ID}/events".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", BEARER["Authorization"].encode()), (b"accept-encoding", b"gzip")],
        "client": ("203.0.113.10", 50000),
        "server": ("gateway.test", 80),
    }

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(30)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(gateway.app(scope, receive, send), 10)

    start, *bodies = sent
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in headers and "etag" not in headers
    # Each event leaves as it is made, in plain text: not held back into one compressed body.
    events = [m["body"] for m in bodies if m.get("body", b"").startswith(b"event: ")]
    assert len(events) >= 5
    assert events[0].startswith(b"event: progress") and events[-1].startswith(b"event: finished")


# ----------------------------------------------------------------- RateLimit
async def test_limited_calls_say_how_many_are_left(open_gateway, identity, problem):
    gateway = await open_gateway(auth_rate_limit_per_minute=6, auth_rate_limit_burst=3)  # a call every 10 s

    answers = [await gateway.client.post(OTP[0], json=OTP[1]) for _ in range(3)]
    limited = await gateway.client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "x"})

    assert [a.headers["ratelimit-limit"] for a in answers] == ["3", "3", "3"]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    assert [a.headers["ratelimit-reset"] for a in answers] == ["10", "20", "30"]
    assert answers[0].headers["ratelimit-policy"] == "3;w=30"
    problem(limited, 429, "RATE_LIMITED")
    assert limited.headers["retry-after"] == "10"
    assert (limited.headers["ratelimit-limit"], limited.headers["ratelimit-remaining"]) == ("3", "0")
    assert limited.headers["ratelimit-reset"] == "30"


async def test_a_refused_sign_in_still_says_how_many_are_left(open_gateway, identity, problem):
    gateway = await open_gateway(auth_rate_limit_per_minute=6, auth_rate_limit_burst=3)
    identity.script("SignInWithPassword", Unauthenticated("wrong", reason="BAD_CREDENTIALS"))

    response = await gateway.client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "x"})

    problem(response, 401, "BAD_CREDENTIALS")
    assert response.headers["ratelimit-remaining"] == "2"


async def test_calls_outside_the_limit_carry_no_ratelimit_fields(open_gateway):
    gateway = await open_gateway(auth_rate_limit_per_minute=6, auth_rate_limit_burst=3)
    off = await open_gateway(auth_rate_limit_per_minute=0)

    read = await gateway.client.get("/v1/auth/jwks.json")
    unlimited = await off.client.post(OTP[0], json=OTP[1])

    assert not [h for h in read.headers if h.startswith("ratelimit")]
    assert not [h for h in unlimited.headers if h.startswith("ratelimit")]


def test_the_limiter_reports_what_is_left_and_when_it_is_full_again():
    now = [1000.0]
    limiter = TokenBucketLimiter(per_minute=30, burst=3, clock=lambda: now[0])  # a token every 2 s

    decisions = [limiter.take("a") for _ in range(4)]

    assert [(d.wait, d.remaining, d.reset) for d in decisions] == [(0, 2, 2), (0, 1, 4), (0, 0, 6), (2, 0, 6)]
    now[0] += 3.0
    assert (limiter.take("a").remaining, limiter.window) == (0, 6)
    assert limiter.headers(decisions[0]) == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "2",
        "RateLimit-Reset": "2",
        "RateLimit-Policy": "3;w=6",
    }


async def test_cors_lets_a_browser_read_the_fields(open_gateway):
    gateway = await open_gateway(cors_origins="https://cabinet.example", auth_rate_limit_per_minute=6)

    response = await gateway.client.post(OTP[0], json=OTP[1], headers={"Origin": "https://cabinet.example"})

    exposed = response.headers["access-control-expose-headers"].lower()
    assert "ratelimit-remaining" in exposed and response.headers["ratelimit-remaining"]


# ------------------------------------------------------------------- OpenAPI
def test_the_document_says_which_reads_answer_304_and_which_calls_are_limited(gateway):
    paths = gateway.app.openapi()["paths"]
    me = paths["/v1/me"]["get"]
    assert "ETag" in me["responses"]["200"]["headers"] and "304" in me["responses"]
    assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in me["parameters"])
    assert "304" not in paths["/v1/operations/{operation_id}/events"]["get"]["responses"]
    limited = {path for path, item in paths.items() if "RateLimit-Limit" in str(item.get("post", {}))}
    assert limited == {path for path, item in paths.items() if path.startswith("/v1/auth/") and "post" in item}
    assert set(paths["/v1/auth/otp"]["post"]["responses"]["429"]["headers"]) >= {
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
    }


async def test_every_call_the_document_calls_limited_is(open_gateway, identity):
    gateway = await open_gateway(auth_rate_limit_per_minute=600, auth_rate_limit_burst=100)
    paths = gateway.app.openapi()["paths"]
    for path, item in paths.items():
        if "RateLimit-Limit" in str(item.get("post", {})):
            response = await gateway.client.post(path, json={})
            assert response.headers["ratelimit-limit"] == "100", path
