"""What every request gets: request id, forwarded metadata, client address, CORS, limits, traces, metrics."""

from __future__ import annotations

import re

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import SpanKind
from ulid import ULID

OTP = ("/v1/auth/otp", {"phone": "+79990000001", "channel": "sms"})


def _is_ulid(value: str) -> bool:
    try:
        ULID.from_str(value)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------- request id
async def test_a_request_id_is_made_when_none_comes(client, identity):
    response = await client.post(*OTP[:1], json=OTP[1])

    request_id = response.headers["x-request-id"]
    assert _is_ulid(request_id)
    assert identity.last("StartOtpSignIn").metadata["x-request-id"] == request_id


async def test_a_sane_request_id_is_echoed_and_forwarded(client, identity):
    response = await client.post(OTP[0], json=OTP[1], headers={"X-Request-ID": "frontend-4f2a.9:1"})

    assert response.headers["x-request-id"] == "frontend-4f2a.9:1"
    assert identity.last("StartOtpSignIn").metadata["x-request-id"] == "frontend-4f2a.9:1"


@pytest.mark.parametrize("incoming", ["", "has space", "<script>", "x" * 129, "-leading-dash"])
async def test_an_odd_request_id_is_replaced(client, incoming):
    response = await client.get("/healthz", headers={"X-Request-ID": incoming})

    assert response.headers["x-request-id"] != incoming
    assert _is_ulid(response.headers["x-request-id"])


async def test_problems_carry_the_request_id(client, problem):
    response = await client.get("/nope", headers={"X-Request-ID": "req-123"})

    body = problem(response, 404, "NOT_FOUND")
    assert body["request_id"] == "req-123"


# ------------------------------------------------------------------ metadata
async def test_metadata_forwarded_to_identity(client, identity):
    await client.post(
        "/v1/auth/logout",
        headers={"Authorization": "Bearer abc.def-ghi_jkl", "User-Agent": "SIMfleet-iOS/3.1", "X-Request-ID": "r-1"},
    )

    metadata = identity.last("SignOut").metadata
    assert metadata["x-request-id"] == "r-1"
    assert metadata["simfleet-client-address"] == "203.0.113.10"
    assert metadata["simfleet-client-agent"] == "SIMfleet-iOS/3.1"
    assert metadata["authorization"] == "Bearer abc.def-ghi_jkl"


async def test_no_authorization_is_forwarded_without_a_bearer(client, identity):
    await client.post(OTP[0], json=OTP[1], headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert "authorization" not in identity.last("StartOtpSignIn").metadata


async def test_an_unprintable_user_agent_is_tamed(client, identity):
    await client.post(OTP[0], json=OTP[1], headers={"User-Agent": "Agent/1.0 \u00e9t\u00e9".encode("latin-1")})

    assert identity.last("StartOtpSignIn").metadata["simfleet-client-agent"] == "Agent/1.0 ?t?"


async def test_forwarded_for_is_ignored_without_trusted_proxies(client, identity):
    await client.post(OTP[0], json=OTP[1], headers={"X-Forwarded-For": "198.51.100.7"})

    assert identity.last("StartOtpSignIn").metadata["simfleet-client-address"] == "203.0.113.10"


async def test_forwarded_for_is_believed_from_a_trusted_proxy(open_gateway, identity):
    gateway = await open_gateway(trusted_proxies="10.0.0.0/8", client_address=("10.0.0.5", 40000))

    await gateway.client.post(OTP[0], json=OTP[1], headers={"X-Forwarded-For": "192.0.2.66, 198.51.100.7, 10.0.0.9"})

    # The right-most address that is not a trusted proxy; 192.0.2.66 may be the client's own invention.
    assert identity.last("StartOtpSignIn").metadata["simfleet-client-address"] == "198.51.100.7"


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(open_gateway, identity):
    gateway = await open_gateway(trusted_proxies="10.0.0.0/8", client_address=("203.0.113.99", 40000))

    await gateway.client.post(OTP[0], json=OTP[1], headers={"X-Forwarded-For": "198.51.100.7"})

    assert identity.last("StartOtpSignIn").metadata["simfleet-client-address"] == "203.0.113.99"


# ---------------------------------------------------------------------- CORS
async def test_cors_preflight_for_an_allowed_origin(open_gateway):
    gateway = await open_gateway(cors_origins="https://cabinet.example,https://m.cabinet.example")

    response = await gateway.client.options(
        "/v1/auth/otp",
        headers={
            "Origin": "https://m.cabinet.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-request-id",
        },
    )

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "https://m.cabinet.example"
    assert "x-request-id" in response.headers


async def test_cors_exposes_the_headers_frontends_read(open_gateway):
    gateway = await open_gateway(cors_origins='["https://cabinet.example"]')

    response = await gateway.client.get("/v1/auth/jwks.json", headers={"Origin": "https://cabinet.example"})

    assert response.headers["access-control-allow-origin"] == "https://cabinet.example"
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "retry-after", "location", "idempotent-replayed"} <= exposed


async def test_cors_refuses_other_origins(open_gateway):
    gateway = await open_gateway(cors_origins="https://cabinet.example")

    response = await gateway.client.get("/v1/auth/jwks.json", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in response.headers


# ---------------------------------------------------------------- rate limit
async def test_sign_in_calls_are_rate_limited_per_client_address(open_gateway, identity, problem):
    gateway = await open_gateway(auth_rate_limit_per_minute=6, auth_rate_limit_burst=3)

    answers = [(await gateway.client.post(OTP[0], json=OTP[1])).status_code for _ in range(3)]
    limited = await gateway.client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "x"})

    assert answers == [202, 202, 202]
    body = problem(limited, 429, "RATE_LIMITED")
    assert limited.headers["retry-after"] == "10"  # one token every 10 s
    assert body["retry_after"] == 10
    assert len(identity.calls) == 3


async def test_the_limit_counts_each_address_on_its_own(open_gateway, identity):
    gateway = await open_gateway(auth_rate_limit_per_minute=6, auth_rate_limit_burst=1)
    assert (await gateway.client.post(OTP[0], json=OTP[1])).status_code == 202
    assert (await gateway.client.post(OTP[0], json=OTP[1])).status_code == 429

    transport = httpx.ASGITransport(app=gateway.app, client=("198.51.100.20", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as other:
        assert (await other.post(OTP[0], json=OTP[1])).status_code == 202


async def test_reads_are_not_rate_limited(open_gateway):
    gateway = await open_gateway(auth_rate_limit_per_minute=6, auth_rate_limit_burst=1)

    statuses = {(await gateway.client.get("/v1/auth/jwks.json")).status_code for _ in range(5)}

    assert statuses == {200}


async def test_a_zero_limit_turns_limiting_off(open_gateway):
    gateway = await open_gateway(auth_rate_limit_per_minute=0, auth_rate_limit_burst=1)

    statuses = {(await gateway.client.post(OTP[0], json=OTP[1])).status_code for _ in range(5)}

    assert statuses == {202}


# ------------------------------------------------------------------- tracing
class SpanRecorder(SpanProcessor):
    """Keeps finished spans while a test runs (a provider cannot drop a processor)."""

    def __init__(self) -> None:
        self.active = True
        self.finished = []

    def on_end(self, span) -> None:
        if self.active:
            self.finished.append(span)

    def get_finished_spans(self):
        return list(self.finished)


@pytest.fixture
def spans():
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "another SDK provider was installed before this test"
    recorder = SpanRecorder()
    provider.add_span_processor(recorder)
    yield recorder
    recorder.active = False
    recorder.finished.clear()


async def test_a_server_span_continues_the_callers_trace_and_parents_the_grpc_call(client, identity, spans):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent_id = "00f067aa0ba902b7"

    await client.post(OTP[0], json=OTP[1], headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})

    finished = spans.get_finished_spans()
    http_servers = [s for s in finished if s.kind == SpanKind.SERVER and s.name.startswith("POST")]
    assert [s.name for s in http_servers] == ["POST /v1/auth/otp"]
    server = http_servers[0]
    grpc_client = next(s for s in finished if s.kind == SpanKind.CLIENT and "StartOtpSignIn" in s.name)
    assert format(server.context.trace_id, "032x") == trace_id
    assert format(server.parent.span_id, "016x") == parent_id
    assert server.attributes["http.route"] == "/v1/auth/otp"
    assert server.attributes["http.response.status_code"] == 202
    assert grpc_client.parent.span_id == server.context.span_id
    assert grpc_client.context.trace_id == server.context.trace_id
    sent = identity.last("StartOtpSignIn").metadata["traceparent"]
    assert sent.split("-")[1] == trace_id


async def test_probes_and_scrapes_make_no_spans_not_even_for_the_health_call(client, identity, spans):
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status_code in (200, 503)
    assert spans.get_finished_spans() == []
    await client.post(OTP[0], json=OTP[1])
    assert spans.get_finished_spans(), "an API call is still traced"


# ------------------------------------------------------------------- metrics
def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line[: line.rindex("}") + 1]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_requests_by_route_template(client, identity):
    before = (await client.get("/metrics")).text
    await client.post(OTP[0], json=OTP[1])
    await client.get("/v1/no/such/path/12345")
    after = (await client.get("/metrics")).text

    def delta(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    assert delta("simfleet_http_requests_total", method="POST", route="/v1/auth/otp", status="202") == 1
    assert delta("simfleet_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert delta("simfleet_http_request_duration_seconds_count", method="POST", route="/v1/auth/otp") == 1
    assert "/v1/no/such/path/12345" not in after
    assert (
        delta(
            "simfleet_grpc_client_handled_total",
            grpc_service="simfleet.identity.v1.AuthService",
            grpc_method="StartOtpSignIn",
            grpc_code="OK",
        )
        == 1
    )


async def test_metrics_use_the_template_for_path_parameters(gateway):
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    gateway.app.add_api_route("/v1/items/{item_id}", item)
    await gateway.client.get("/v1/items/abc-123")

    text = (await gateway.client.get("/metrics")).text
    assert _sample(text, "simfleet_http_requests_total", route="/v1/items/{item_id}", status="200") >= 1
    assert "abc-123" not in text
