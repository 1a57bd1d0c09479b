"""Every error is an RFC 9457 problem: relayed from identity, from validation, from routing."""

from __future__ import annotations

import grpc
import pytest

from gateway.upstream.errors import api_field
from simfleet_runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)

VERIFY = ("/v1/auth/otp/verify", {"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0CHAL", "code": "123456"})


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (InvalidArgument("the challenge is not valid", reason="CHALLENGE_INVALID"), 400, "CHALLENGE_INVALID"),
        (Unauthenticated("the code is not valid", reason="OTP_INVALID"), 401, "OTP_INVALID"),
        (PermissionDenied("not yours", reason="FORBIDDEN"), 403, "FORBIDDEN"),
        (NotFound("no such challenge", reason="CHALLENGE_NOT_FOUND"), 404, "CHALLENGE_NOT_FOUND"),
        (AlreadyExists("already there", reason="DUPLICATE"), 409, "DUPLICATE"),
        (FailedPrecondition("too many wrong codes", reason="OTP_LOCKED"), 409, "OTP_LOCKED"),
    ],
)
async def test_identity_errors_become_problems(client, identity, problem, error, status, reason):
    identity.script("VerifyOtp", error)

    response = await client.post(VERIFY[0], json=VERIFY[1])

    body = problem(response, status, reason)
    assert body["detail"] == error.message
    assert "errors" not in body
    assert "retry_after" not in body


async def test_unauthenticated_asks_for_a_bearer_token(client, identity, problem):
    identity.script("VerifyOtp", Unauthenticated("the code is not valid", reason="OTP_INVALID"))

    response = await client.post(VERIFY[0], json=VERIFY[1])

    problem(response, 401, "OTP_INVALID")
    assert response.headers["www-authenticate"] == 'Bearer realm="simfleet"'


async def test_a_rejected_token_is_called_invalid(client, identity, problem):
    identity.script("GetMe", Unauthenticated("the session has ended", reason="SESSION_EXPIRED"))

    response = await client.get("/v1/me", headers={"Authorization": "Bearer expired.token.x"})

    problem(response, 401, "SESSION_EXPIRED")
    assert response.headers["www-authenticate"] == 'Bearer realm="simfleet", error="invalid_token"'


async def test_field_violations_become_422_with_errors(client, identity, problem):
    identity.script(
        "ChangePassword",
        InvalidArgument(
            "the new password does not meet the rules",
            reason="PASSWORD_TOO_WEAK",
            field_violations={"new_password": "at least 10 characters"},
        ),
    )

    response = await client.put(
        "/v1/me/password",
        headers={"Authorization": "Bearer access.token.1"},
        json={"current_password": "old", "new_password": "short"},
    )

    body = problem(response, 422, "PASSWORD_TOO_WEAK")
    # A service's violation is named as the request names it, with where it is in the body.
    assert body["errors"] == [
        {"field": "new_password", "pointer": "/new_password", "message": "at least 10 characters"}
    ]


async def test_a_refused_page_token_is_named_cursor_as_the_caller_sent_it(client, identity, problem):
    identity.script(
        "ListSignIns",
        InvalidArgument(
            "the page token is not valid for this list",
            reason="INVALID_PAGE_TOKEN",
            field_violations={"page_token": "not a token of this list and order"},
        ),
    )

    response = await client.get(
        "/v1/me/sign-ins", params={"cursor": "forged"}, headers={"Authorization": "Bearer access.token.1"}
    )

    body = problem(response, 422, "INVALID_PAGE_TOKEN")
    assert body["errors"] == [{"field": "cursor", "pointer": None, "message": "not a token of this list and order"}]


async def test_throttling_in_identity_gives_429_with_retry_after(client, identity, problem):
    identity.script("StartOtpSignIn", ResourceExhausted("too many codes for this number", retry_after_seconds=42))

    response = await client.post("/v1/auth/otp", json={"phone": "+79990000001", "channel": "sms"})

    body = problem(response, 429, "RATE_LIMITED")
    assert response.headers["retry-after"] == "42"
    assert body["retry_after"] == 42


async def test_identity_saying_unavailable_gives_503_with_its_reason(client, identity, problem):
    identity.script("StartOtpSignIn", Unavailable("SMS cannot be sent now", reason="SMS_UNAVAILABLE"))

    response = await client.post("/v1/auth/otp", json={"phone": "+79990000001", "channel": "sms"})

    problem(response, 503, "SMS_UNAVAILABLE")
    assert response.headers["retry-after"] == "1"


async def test_bare_unavailable_gives_a_generic_503(client, identity, problem, abort):
    identity.script("SignInWithPassword", abort(grpc.StatusCode.UNAVAILABLE, "connection reset by 10.1.2.3"))

    response = await client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "x"})

    body = problem(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "1"
    assert "10.1.2.3" not in body["detail"]


@pytest.mark.parametrize(
    "outcome",
    ["crash", grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.DATA_LOSS, grpc.StatusCode.UNKNOWN],
    ids=["internal", "unimplemented", "data-loss", "unknown"],
)
async def test_anything_else_is_a_502_with_a_generic_message(client, identity, problem, abort, outcome):
    error = RuntimeError("secret database detail") if outcome == "crash" else abort(outcome, "secret detail")
    identity.script("SignInWithPassword", error)

    response = await client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "x"})

    body = problem(response, 502, "BAD_GATEWAY")
    assert "secret" not in response.text
    assert body["detail"] == "a service gave an unexpected answer"


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("/v1/auth/otp", {"phone": "12345", "channel": "sms"}, ["phone"]),
        ("/v1/auth/otp", {"phone": "+79990000001", "channel": "pigeon"}, ["channel"]),
        ("/v1/auth/otp", {}, ["phone", "channel"]),
        ("/v1/auth/otp", {"phone": "+7999" + "0" * 40, "channel": "sms"}, ["phone"]),
        ("/v1/auth/otp/verify", {"challenge_id": "c", "code": "12345"}, ["code"]),
        ("/v1/auth/otp/verify", {"challenge_id": "c", "code": "12345a"}, ["code"]),
        ("/v1/auth/otp/verify", {"challenge_id": "c", "code": "١٢٣٤٥٦"}, ["code"]),
        ("/v1/auth/otp/verify", {"challenge_id": "", "code": "123456"}, ["challenge_id"]),
        ("/v1/auth/password", {"phone": "+79990000001", "password": ""}, ["password"]),
        ("/v1/auth/password", {"phone": "+79990000001", "password": "p" * 257}, ["password"]),
        ("/v1/auth/refresh", {"refresh_token": 12}, ["refresh_token"]),
        ("/v1/auth/password-reset", {"phone": "+79990000001"}, ["channel"]),
        (
            "/v1/auth/password-reset/confirm",
            {"challenge_id": "c", "code": "1234567", "new_password": "x"},
            ["code"],
        ),
        ("/v1/auth/otp", ["not", "an", "object"], ["body"]),
    ],
)
async def test_malformed_bodies_give_422_with_errors(client, identity, problem, path, body, fields):
    response = await client.post(path, json=body)

    problem_body = problem(response, 422, "VALIDATION_FAILED")
    assert sorted(e["field"] for e in problem_body["errors"]) == sorted(fields)
    assert all(e["message"] for e in problem_body["errors"])
    assert identity.calls == []


async def test_the_phone_message_says_what_is_expected(client, problem):
    response = await client.post("/v1/auth/otp", json={"phone": "not a phone", "channel": "sms"})

    body = problem(response, 422, "VALIDATION_FAILED")
    assert body["errors"] == [
        {
            "field": "phone",
            "pointer": "/phone",
            "message": "must be a phone number in international E.164 form, e.g. +79990000000",
        }
    ]


async def test_invalid_json_gives_422_on_the_body(client, problem):
    response = await client.post(
        "/v1/auth/otp", content=b'{"phone": "+7999', headers={"Content-Type": "application/json"}
    )

    body = problem(response, 422, "VALIDATION_FAILED")
    assert body["errors"] == [{"field": "body", "pointer": "", "message": "the body is not valid JSON"}]


async def test_a_password_is_never_echoed_in_errors(client, problem):
    response = await client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "s3cret" * 50})

    problem(response, 422, "VALIDATION_FAILED")
    assert "s3cret" not in response.text


async def test_unknown_route_gives_404_problem(client, problem):
    response = await client.get("/v1/nothing-here")

    problem(response, 404, "NOT_FOUND")


async def test_wrong_method_gives_405_problem_with_allow(client, problem):
    response = await client.get("/v1/auth/otp")

    problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"


async def test_a_body_too_large_gives_413_problem(open_gateway, identity, problem):
    gateway = await open_gateway(max_body_bytes=1024)

    response = await gateway.client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "p" * 2000})

    problem(response, 413, "CONTENT_TOO_LARGE")
    assert identity.calls == []


async def test_a_streamed_body_too_large_gives_413_problem(open_gateway, identity, problem):
    gateway = await open_gateway(max_body_bytes=1024)

    async def chunks():
        yield b'{"phone": "+79990000001", "password": "'
        for _ in range(10):
            yield b"p" * 200
        yield b'"}'

    response = await gateway.client.post(
        "/v1/auth/password", content=chunks(), headers={"Content-Type": "application/json"}
    )

    problem(response, 413, "CONTENT_TOO_LARGE")
    assert identity.calls == []


async def test_an_unhandled_error_gives_500_problem(gateway, problem):
    async def broken() -> None:
        raise RuntimeError("a secret from deep inside")

    gateway.app.add_api_route("/v1/broken", broken)

    response = await gateway.client.get("/v1/broken")

    problem(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.text


def test_a_services_field_path_is_named_as_the_request_names_it() -> None:
    assert api_field("grants[1].role") == "grants.1.role"
    assert api_field("targets[3].msisdn") == "items.3.msisdn"
    assert api_field("msisdns[7]") == "lines.7"
    assert api_field("page_token") == "cursor"
    assert api_field("tariff_code") == "tariff"
    assert api_field("params.block_type") == "params.block_type"


async def test_the_gateways_own_findings_carry_pointers_into_the_body(client, problem):
    invite = {"phone": "+79990000777", "email": "new@example.test", "name": "New User", "grants": [{"role": 1}]}

    response = await client.post("/v1/users", headers={"Authorization": "Bearer access.token.1"}, json=invite)

    found = problem(response, 422, "VALIDATION_FAILED")
    assert {(e["field"], e["pointer"]) for e in found["errors"]} >= {
        ("grants.0.role", "/grants/0/role"),
        ("grants.0.node_id", "/grants/0/node_id"),
    }
