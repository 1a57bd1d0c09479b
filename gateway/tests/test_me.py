"""/v1/me: the signed-in user's profile, password and sign-in history."""

from __future__ import annotations

from typing import get_args

import orjson
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.answers import JsonAnswer
from gateway.me.schemas import MeResponse, SignInMethod, SignInResult, me_json
from simfleet.identity.v1 import common_pb2, profile_pb2

BEARER = {"Authorization": "Bearer access.token.1"}


async def test_get_me_answers_the_user(client, identity):
    response = await client.get("/v1/me", headers=BEARER)

    assert response.status_code == 200
    assert response.json() == {
        "id": "01J9Z3K8Q4W7N2M5X6Y8B0USER",
        "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
        "phone": "+79990000001",
        "email": "manager@demo.example",
        "display_name": "Demo Profile Manager",
        "status": "active",
        "has_password": True,
        "created_at": "2026-01-15T09:30:00Z",
        "memberships": [
            {
                "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
                "user_id": "01J9Z3K8Q4W7N2M5X6Y8B0USER",
                "display_name": "Demo Profile Manager",
            },
            {
                "customer_id": "01M80FS1VH2MZKYX1PNS53P8M3",
                "user_id": "01J9Z3K8Q4W7N2M5X6Y8B0OTHR",
                "display_name": "Demo Manager (Other Co)",
            },
        ],
    }
    assert response.headers["cache-control"] == "no-store"
    assert identity.last("GetMe").metadata["authorization"] == "Bearer access.token.1"


async def test_get_me_of_a_disabled_user_without_email(client, identity):
    identity.script(
        "GetMe",
        profile_pb2.GetMeResponse(
            user=common_pb2.User(id="u2", customer_id="c", phone="+79990000002", status=common_pb2.USER_STATUS_DISABLED)
        ),
    )

    body = (await client.get("/v1/me", headers=BEARER)).json()

    assert body["status"] == "disabled"
    assert body["email"] is None
    assert body["has_password"] is False


@pytest.mark.parametrize(
    "answer",
    [
        profile_pb2.GetMeResponse(
            user=common_pb2.User(
                id="u1",
                customer_id="c1",
                phone="+79990000001",
                email="a@example.com",
                display_name="Ann",
                status=common_pb2.USER_STATUS_ACTIVE,
                has_password=True,
                created_at=Timestamp(seconds=1_768_469_400, nanos=123_456_789),
            ),
            memberships=[
                profile_pb2.Membership(customer_id="c1", user_id="u1", display_name="Ann"),
                profile_pb2.Membership(customer_id="c2", user_id="u2", display_name="Ann at C2"),
            ],
        ),
        profile_pb2.GetMeResponse(user=common_pb2.User(id="u2", status=common_pb2.USER_STATUS_DISABLED)),
        profile_pb2.GetMeResponse(),
    ],
    ids=["full", "disabled-without-email", "empty"],
)
def test_the_profile_is_built_as_its_model_would(answer):
    """``GET /v1/me`` builds its JSON without the models (they cost a good part of the read's CPU): it is theirs."""
    built = orjson.loads(JsonAnswer(me_json(answer)).body)

    assert built == MeResponse.from_me(answer).model_dump(mode="json")
    assert MeResponse.model_validate(built).model_dump(mode="json") == built


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}, {"Authorization": "Bearer a b"}],
    ids=["none", "basic", "empty", "malformed"],
)
async def test_me_needs_a_bearer_token_before_calling_identity(client, identity, problem, headers):
    response = await client.get("/v1/me", headers=headers)

    problem(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert identity.calls == []


async def test_change_password(client, identity):
    response = await client.put(
        "/v1/me/password",
        headers=BEARER,
        json={"current_password": "Demo-Passw0rd-2026", "new_password": "New-Passw0rd-2026"},
    )

    assert response.status_code == 204
    assert response.content == b""
    call = identity.last("ChangePassword")
    assert (call.request.current_password, call.request.new_password) == ("Demo-Passw0rd-2026", "New-Passw0rd-2026")
    assert call.metadata["authorization"] == "Bearer access.token.1"


async def test_sign_ins_page(client, identity):
    response = await client.get("/v1/me/sign-ins", headers=BEARER)

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": "01J9Z3M2A7B8C9D0E1F2G3H4J5",
                "occurred_at": "2026-01-15T09:31:02Z",
                "method": "otp_sms",
                "result": "succeeded",
                "client_address": "203.0.113.10",
                "user_agent": "pytest",
            },
            {
                "id": "01J9Z3M0Q1R2S3T4V5W6X7Y8Z9",
                "occurred_at": "2026-01-15T09:30:40Z",
                "method": "password",
                "result": "bad_credentials",
                "client_address": "203.0.113.10",
                "user_agent": "pytest",
            },
        ],
        "next_cursor": "page-2",
    }
    request = identity.last("ListSignIns").request
    assert (request.page_size, request.page_token) == (50, "")


async def test_sign_ins_passes_limit_and_cursor_and_ends_with_null_cursor(client, identity):
    identity.script("ListSignIns", profile_pb2.ListSignInsResponse())

    response = await client.get("/v1/me/sign-ins", params={"limit": 10, "cursor": "page-2"}, headers=BEARER)

    assert response.json() == {"items": [], "next_cursor": None}
    request = identity.last("ListSignIns").request
    assert (request.page_size, request.page_token) == (10, "page-2")


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
async def test_sign_ins_limit_is_bounded(client, identity, problem, limit):
    response = await client.get("/v1/me/sign-ins", params={"limit": limit}, headers=BEARER)

    body = problem(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in body["errors"]] == ["limit"]
    assert identity.calls == []


def test_every_sign_in_method_and_result_has_a_name():
    methods = {n.removeprefix("SIGN_IN_METHOD_").lower() for n, _ in common_pb2.SignInMethod.items()}
    results = {n.removeprefix("SIGN_IN_RESULT_").lower() for n, _ in common_pb2.SignInResult.items()}

    assert methods == set(get_args(SignInMethod))
    assert results == set(get_args(SignInResult))
