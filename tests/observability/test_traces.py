"""One sign-in makes one trace across the processes, received over OTLP/HTTP from the real platform.

The folder's platform (``conftest.py``) runs with the usual ``OTEL_*`` variables
in its environment, as ``make up`` would be started, exporting to a small
OTLP/HTTP receiver (``otlp.py``: ``POST /v1/traces``, protobuf bodies). A code request through the gateway must then
show, in one trace and linked by parent span ids: the gateway's server span →
its gRPC client span → identity's server span → the ``create`` span of the
``SubmitSmsCommand`` (the message's creation context) → identity's ``publish``
span and netsim's ``process`` span that delivers the SMS. No span may carry a
code, a password, a token or a phone number.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER
from simfleet_runtime.testing import wait_until
from tests.helpers import new_user, wait_for_sms_code
from tests.observability.otlp import OtlpReceiver, Span

pytestmark = pytest.mark.e2e

SMS_SUBMIT = "simfleet.netsim.cmd.sms.submit"
SMS_DELIVERED = "simfleet.netsim.sms.delivered"
SIGN_IN_RECORDED = "simfleet.identity.sign_in.recorded"
AUTH = "simfleet.identity.v1.AuthService"
SERVER, CLIENT = SpanProto.SPAN_KIND_SERVER, SpanProto.SPAN_KIND_CLIENT
PRODUCER, CONSUMER = SpanProto.SPAN_KIND_PRODUCER, SpanProto.SPAN_KIND_CONSUMER
SPAN_WAIT = 20.0


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def platform(metrics_platform: Platform) -> Platform:
    """The folder's platform (tests/observability/conftest.py), started with the usual OTEL_* variables."""
    return metrics_platform


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers={"User-Agent": "simfleet-traces"}) as client:
        yield client


# ------------------------------------------------------------------ helpers
def new_traceparent() -> tuple[str, str, str]:
    """A sampled W3C traceparent as a caller of the API would send it: (header, trace id, span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def one(spans: list[Span], **match: Any) -> Span:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one span with {match}, got {found}"
    return found[0]


def ancestors(span: Span, spans: list[Span]) -> list[str]:
    """The span ids above ``span`` within the spans received, nearest first."""
    by_id = {s.span_id: s for s in spans}
    chain: list[str] = []
    current = by_id.get(span.parent_id)
    while current is not None and current.span_id not in chain:
        chain.append(current.span_id)
        current = by_id.get(current.parent_id)
    return chain


def wait_for_spans(receiver: OtlpReceiver, trace_id: str, *wanted: tuple[str, str]) -> list[Span]:
    """The trace once it holds a span of each (service, name) wanted."""

    def complete() -> list[Span] | None:
        spans = receiver.trace(trace_id)
        present = {(s.service, s.name) for s in spans}
        return spans if all(w in present for w in wanted) else None

    found: list[Span] = wait_until(complete, SPAN_WAIT, f"spans {wanted} in trace {trace_id}")
    return found


def assert_messaging(span: Span, operation: str, subject: str) -> None:
    assert span.attributes["messaging.system"] == "nats"
    assert span.attributes["messaging.operation.type"] == operation
    assert span.attributes["messaging.destination.name"] == subject
    assert span.attributes["messaging.message.id"]


# ------------------------------------------------------------------ tests
def test_a_code_request_is_one_trace_from_the_gateway_to_the_handset(
    platform: Platform, receiver: OtlpReceiver, api: httpx.Client
) -> None:
    user = new_user(platform)
    header, trace_id, caller_span = new_traceparent()
    response = api.post("/v1/auth/otp", json={"phone": user.phone, "channel": "sms"}, headers={"traceparent": header})
    assert response.status_code == 202, response.text
    wait_for_sms_code(platform, user.phone)

    spans = wait_for_spans(
        receiver,
        trace_id,
        ("gateway", "POST /v1/auth/otp"),
        ("identity", f"publish {SMS_SUBMIT}"),
        ("netsim", f"process {SMS_SUBMIT}"),
        ("netsim", f"publish {SMS_DELIVERED}"),
    )
    assert {"gateway", "identity", "netsim"} <= {s.service for s in spans}
    assert receiver.bad_requests == []

    gateway = one(spans, service="gateway", kind=SERVER)
    assert gateway.name == "POST /v1/auth/otp"
    assert gateway.parent_id == caller_span  # the caller's traceparent is continued
    assert gateway.attributes["http.route"] == "/v1/auth/otp"
    assert gateway.attributes["http.response.status_code"] == 202

    grpc_client = one(spans, service="gateway", kind=CLIENT)
    assert grpc_client.name == f"{AUTH}/StartOtpSignIn"
    assert gateway.span_id in ancestors(grpc_client, spans)

    identity = one(spans, service="identity", kind=SERVER)
    assert identity.name == f"{AUTH}/StartOtpSignIn"
    assert identity.parent_id == grpc_client.span_id  # across the gRPC call

    create = one(spans, service="identity", name=f"create {SMS_SUBMIT}")
    assert create.kind == PRODUCER
    assert identity.span_id in ancestors(create, spans)
    assert_messaging(create, "create", SMS_SUBMIT)

    publish = one(spans, service="identity", name=f"publish {SMS_SUBMIT}")
    assert publish.kind == CLIENT
    assert publish.parent_id == create.span_id  # the relay continues the stored creation context
    assert_messaging(publish, "send", SMS_SUBMIT)
    assert publish.attributes["messaging.operation.name"] == "publish"
    assert publish.attributes["messaging.nats.stream"] == "NETSIM_CMD"
    assert publish.attributes["messaging.message.id"] == create.attributes["messaging.message.id"]

    process = one(spans, service="netsim", name=f"process {SMS_SUBMIT}")
    assert process.kind == CONSUMER
    assert process.parent_id == create.span_id  # across NATS: the message's creation context
    assert_messaging(process, "process", SMS_SUBMIT)
    assert process.attributes["messaging.message.id"] == create.attributes["messaging.message.id"]
    assert process.attributes["messaging.consumer.group.name"]

    # netsim's delivery receipt continues the same trace: written while processing, then published.
    receipt = one(spans, service="netsim", name=f"create {SMS_DELIVERED}")
    assert process.span_id in ancestors(receipt, spans)
    assert one(spans, service="netsim", name=f"publish {SMS_DELIVERED}").parent_id == receipt.span_id

    for span in spans:  # one trace, and every span in it hangs from the caller's span
        assert span.trace_id == trace_id
        assert span is gateway or gateway.span_id in ancestors(span, spans), span


def test_no_span_carries_a_code_a_password_a_token_or_a_phone_number(
    platform: Platform, receiver: OtlpReceiver, api: httpx.Client
) -> None:
    password = "Trace-passw0rd-2026"
    user = new_user(platform, password=password)
    header, otp_trace, _ = new_traceparent()
    started = api.post("/v1/auth/otp", json={"phone": user.phone, "channel": "sms"}, headers={"traceparent": header})
    assert started.status_code == 202, started.text
    code = wait_for_sms_code(platform, user.phone)

    header, verify_trace, _ = new_traceparent()
    verified = api.post(
        "/v1/auth/otp/verify",
        json={"challenge_id": started.json()["challenge_id"], "code": code},
        headers={"traceparent": header},
    )
    assert verified.status_code == 200, verified.text
    header, password_trace, _ = new_traceparent()
    signed_in = api.post(
        "/v1/auth/password", json={"phone": user.phone, "password": password}, headers={"traceparent": header}
    )
    assert signed_in.status_code == 200, signed_in.text
    header, demo_trace, _ = new_traceparent()
    demo = api.post(
        "/v1/auth/password",
        json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password},
        headers={"traceparent": header},
    )
    assert demo.status_code == 200, demo.text

    # Each sign-in's event is published in the sign-in's own trace (notifications tells the user from it, in a
    # trace of its own: the notice's SMS is sent by its sender, which may gather several sign-ins).
    for trace_id, method in ((verify_trace, "VerifyOtp"), (password_trace, "SignInWithPassword")):
        wait_for_spans(
            receiver, trace_id, ("identity", f"{AUTH}/{method}"), ("identity", f"publish {SIGN_IN_RECORDED}")
        )
    wait_for_spans(receiver, otp_trace, ("netsim", f"process {SMS_SUBMIT}"))
    wait_for_spans(receiver, demo_trace, ("identity", f"publish {SIGN_IN_RECORDED}"))

    secrets_sent = {
        "the code": code,
        "the password": password,
        "the demo password": DEMO_MANAGER.password,
        **{f"the {name}": token for name, token in verified.json().items() if name.endswith("_token")},
        **{f"the password sign-in's {name}": t for name, t in signed_in.json().items() if name.endswith("_token")},
    }
    spans = receiver.spans()
    assert any("/v1/auth/otp/verify" in text for span in spans for text in span.texts)  # attribute values are read
    for span in spans:
        for what, secret in secrets_sent.items():
            assert not any(secret in text for text in span.texts), f"{what} is in {span}"
    # The sign-ins' own traces name nobody (netsim's console, a test tool, has numbers in its paths).
    for span in [s for s in spans if s.trace_id in (otp_trace, verify_trace, password_trace, demo_trace)]:
        for phone in (user.phone, DEMO_MANAGER.phone):
            assert not any(phone in text for text in span.texts), f"{phone} is in {span}"
