"""Signing in through the gateway against the real processes (ID-2 to ID-7)."""

from __future__ import annotations

import httpx
import jwt
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER
from simfleet_runtime.testing import wait_until
from tests.helpers import codes_in, inbox, mailbox, new_user, problem, sign_ins_told, wait_for_sms_code

pytestmark = pytest.mark.e2e


def request_code(api: httpx.Client, phone: str, channel: str = "sms") -> str:
    response = api.post("/v1/auth/otp", json={"phone": phone, "channel": channel})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["expires_in"] == 300
    return str(body["challenge_id"])


def verify(api: httpx.Client, challenge_id: str, code: str) -> httpx.Response:
    return api.post("/v1/auth/otp/verify", json={"challenge_id": challenge_id, "code": code})


def assert_tokens(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(tokens) >= {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 600
    return tokens  # type: ignore[no-any-return]


def me(api: httpx.Client, access_token: str) -> httpx.Response:
    return api.get("/v1/me", headers={"Authorization": f"Bearer {access_token}"})


def test_demo_manager_signs_in_with_a_code_read_from_the_handset(platform: Platform, api: httpx.Client) -> None:
    seen = len(codes_in(inbox(platform, DEMO_MANAGER.phone)))
    told = sign_ins_told(platform, DEMO_MANAGER.phone)
    challenge = request_code(api, DEMO_MANAGER.phone)
    code = wait_for_sms_code(platform, DEMO_MANAGER.phone, seen)
    tokens = assert_tokens(verify(api, challenge, code))
    profile = me(api, tokens["access_token"])
    assert profile.status_code == 200
    assert profile.json()["phone"] == DEMO_MANAGER.phone
    assert profile.json()["email"] == DEMO_MANAGER.email
    # every sign-in is announced by SMS (ID-7: notifications' sign_in kind, on by default)
    wait_until(lambda: sign_ins_told(platform, DEMO_MANAGER.phone) > told, what="the sign-in notice")


def test_sign_in_with_a_code_read_from_the_mailbox(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform)
    challenge = request_code(api, user.phone, channel="email")
    mail = wait_until(lambda: mailbox(platform, user.email), what="the code email")
    code = codes_in(mail, "body")[0]
    assert_tokens(verify(api, challenge, code))
    assert codes_in(inbox(platform, user.phone)) == []


def test_sign_in_with_password_and_read_the_history(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform, password="Test-passw0rd-e2e")
    wrong = api.post("/v1/auth/password", json={"phone": user.phone, "password": "Wrong-passw0rd"})
    assert problem(wrong, 401)["reason"] == "BAD_CREDENTIALS"
    tokens = assert_tokens(api.post("/v1/auth/password", json={"phone": user.phone, "password": "Test-passw0rd-e2e"}))
    history = api.get("/v1/me/sign-ins", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert history.status_code == 200
    items = history.json()["items"]
    assert [(i["method"], i["result"]) for i in items] == [("password", "succeeded"), ("password", "bad_credentials")]
    assert items[0]["client_address"] == "127.0.0.1"
    assert items[0]["user_agent"] == "simfleet-e2e"


def test_refresh_rotates_and_a_reused_token_revokes_the_session(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform, password="Test-passw0rd-e2e")
    first = assert_tokens(api.post("/v1/auth/password", json={"phone": user.phone, "password": "Test-passw0rd-e2e"}))
    second = assert_tokens(api.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}))
    assert second["refresh_token"] != first["refresh_token"]
    # A second tab refreshing with the same token moments later gets the same successor.
    tab = assert_tokens(api.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}))
    assert tab["refresh_token"] == second["refresh_token"]
    third = assert_tokens(api.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}))
    # Once the successor is spent, the first token again is a leak: the session ends.
    reused = api.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert problem(reused, 401)["reason"] == "REFRESH_TOKEN_REUSED"
    after = api.post("/v1/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert problem(after, 401)["reason"] == "SESSION_ENDED"
    assert me(api, third["access_token"]).status_code == 401


def test_logout_ends_the_session(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform, password="Test-passw0rd-e2e")
    tokens = assert_tokens(api.post("/v1/auth/password", json={"phone": user.phone, "password": "Test-passw0rd-e2e"}))
    out = api.post("/v1/auth/logout", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert out.status_code == 204
    assert me(api, tokens["access_token"]).status_code == 401
    assert api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_five_wrong_codes_lock_the_challenge(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform)
    challenge = request_code(api, user.phone)
    code = wait_for_sms_code(platform, user.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    statuses = [verify(api, challenge, wrong) for _ in range(5)]
    assert [r.status_code for r in statuses] == [401, 401, 401, 401, 403]
    assert problem(statuses[-1], 403)["reason"] == "OTP_LOCKED"
    assert problem(verify(api, challenge, code), 403)["reason"] == "OTP_LOCKED"


def test_an_unknown_number_gets_the_same_answer(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform)
    known = api.post("/v1/auth/otp", json={"phone": user.phone, "channel": "sms"})
    unknown = api.post("/v1/auth/otp", json={"phone": "+79998887766", "channel": "sms"})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert known.json()["expires_in"] == unknown.json()["expires_in"]
    assert len(known.json()["challenge_id"]) == len(unknown.json()["challenge_id"])
    assert problem(verify(api, unknown.json()["challenge_id"], "123456"), 401)["reason"] == "OTP_INVALID"


def test_too_many_codes_for_one_number_are_throttled(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform)
    for _ in range(5):
        request_code(api, user.phone)
    throttled = api.post("/v1/auth/otp", json={"phone": user.phone, "channel": "sms"})
    body = problem(throttled, 429)
    assert body["reason"] == "OTP_SEND_LIMIT"
    assert int(throttled.headers["Retry-After"]) > 0


def test_malformed_bodies_get_a_422_problem(api: httpx.Client) -> None:
    for body in ({"phone": "not a phone", "channel": "sms"}, {"phone": "+79990000001", "channel": "fax"}, {}):
        details = problem(api.post("/v1/auth/otp", json=body), 422)
        assert details["errors"]
    broken = api.post("/v1/auth/otp", content=b"{not json", headers={"Content-Type": "application/json"})
    problem(broken, 422)
    short_code = api.post("/v1/auth/otp/verify", json={"challenge_id": "x", "code": "12"})
    problem(short_code, 422)


def test_password_reset_and_change(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform, password="Test-passw0rd-e2e")
    started = api.post("/v1/auth/password-reset", json={"phone": user.phone, "channel": "sms"})
    assert started.status_code == 202
    code = wait_for_sms_code(platform, user.phone)
    weak = api.post(
        "/v1/auth/password-reset/confirm",
        json={"challenge_id": started.json()["challenge_id"], "code": code, "new_password": "short"},
    )
    problem(weak, 422)
    tokens = assert_tokens(
        api.post(
            "/v1/auth/password-reset/confirm",
            json={"challenge_id": started.json()["challenge_id"], "code": code, "new_password": "Reset-passw0rd-e2e"},
        )
    )
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    changed = api.put(
        "/v1/me/password",
        json={"current_password": "Reset-passw0rd-e2e", "new_password": "Changed-passw0rd-e2e"},
        headers=auth,
    )
    assert changed.status_code == 204, changed.text
    assert assert_tokens(api.post("/v1/auth/password", json={"phone": user.phone, "password": "Changed-passw0rd-e2e"}))


def test_jwks_verifies_issued_tokens(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform, password="Test-passw0rd-e2e")
    tokens = assert_tokens(api.post("/v1/auth/password", json={"phone": user.phone, "password": "Test-passw0rd-e2e"}))
    jwks = api.get("/v1/auth/jwks.json")
    assert jwks.status_code == 200
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    key = jwt.PyJWK(next(k for k in jwks.json()["keys"] if k["kid"] == kid))
    claims = jwt.decode(
        tokens["access_token"], key, algorithms=["EdDSA"], audience="simfleet", issuer="simfleet-identity"
    )
    assert claims["cid"] == user.customer_id


def test_twenty_idle_minutes_end_the_session(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform, password="Test-passw0rd-e2e")
    tokens = assert_tokens(api.post("/v1/auth/password", json={"phone": user.phone, "password": "Test-passw0rd-e2e"}))
    try:
        platform.set_clock_offset(19 * 60)
        tokens = assert_tokens(api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
        platform.set_clock_offset(19 * 60 + 20 * 60 + 5)
        expired = api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert problem(expired, 401)["reason"] == "SESSION_EXPIRED"
    finally:
        platform.set_clock_offset(0)


def test_every_response_carries_a_request_id(api: httpx.Client) -> None:
    mine = api.get("/healthz", headers={"X-Request-ID": "e2e-request-1"})
    assert mine.headers["X-Request-ID"] == "e2e-request-1"
    assert api.get("/v1/nothing-here").headers["X-Request-ID"]
    problem(api.get("/v1/nothing-here"), 404)
