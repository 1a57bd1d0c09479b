"""Anyone could lock a manager out: wrong passwords or codes from one address blocked the number everywhere.

Played through the gateway against the real processes. This platform's gateway
believes ``X-Forwarded-For`` from the tests' own address (as behind an
ingress), so each request comes from the address the test names: the attacker's
or the owner's.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simfleet_devstack.platform import Platform
from tests.helpers import new_user, problem, wait_for_sms_code

pytestmark = pytest.mark.e2e

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.20"
PASSWORD = "Owner-passw0rd-2026"


@pytest.fixture
def attacker(platform: Platform) -> Iterator[httpx.Client]:
    headers = {"X-Forwarded-For": ATTACKER, "User-Agent": "lockout-attacker"}
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers=headers) as client:
        yield client


@pytest.fixture
def owner(platform: Platform) -> Iterator[httpx.Client]:
    headers = {"X-Forwarded-For": OWNER, "User-Agent": "lockout-owner"}
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers=headers) as client:
        yield client


def sign_in_with_password(api: httpx.Client, phone: str, password: str) -> httpx.Response:
    return api.post("/v1/auth/password", json={"phone": phone, "password": password})


def request_code(api: httpx.Client, phone: str) -> httpx.Response:
    return api.post("/v1/auth/otp", json={"phone": phone, "channel": "sms"})


def verify(api: httpx.Client, challenge_id: str, code: str) -> httpx.Response:
    return api.post("/v1/auth/otp/verify", json={"challenge_id": challenge_id, "code": code})


def sign_in_with_code(platform: Platform, api: httpx.Client, phone: str, seen: int) -> httpx.Response:
    started = request_code(api, phone)
    assert started.status_code == 202, started.text
    code = wait_for_sms_code(platform, phone, seen)
    return verify(api, started.json()["challenge_id"], code)


def test_wrong_passwords_from_one_address_leave_the_owner_signing_in_from_another(
    platform: Platform, attacker: httpx.Client, owner: httpx.Client
) -> None:
    user = new_user(platform, password=PASSWORD)
    # the 6th guess is right, but from an address that must wait it is not even checked
    guesses = [f"Wrong-passw0rd-{n}" for n in range(5)] + [PASSWORD] + [f"Wrong-passw0rd-{n}" for n in range(5, 11)]
    answers = [sign_in_with_password(attacker, user.phone, guess) for guess in guesses]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 7
    for answer in answers[5:]:
        assert problem(answer, 429)["reason"] == "SIGN_IN_THROTTLED"
        assert int(answer.headers["Retry-After"]) >= 1

    signed_in = sign_in_with_password(owner, user.phone, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert sign_in_with_code(platform, owner, user.phone, seen=0).status_code == 200

    history = owner.get(
        "/v1/me/sign-ins", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    ).json()["items"]
    seen = {(i["client_address"], i["result"]) for i in history}
    assert {(ATTACKER, "bad_credentials"), (ATTACKER, "locked"), (OWNER, "succeeded")} <= seen


def test_wrong_codes_and_code_requests_from_one_address_leave_the_owner_a_code(
    platform: Platform, attacker: httpx.Client, owner: httpx.Client
) -> None:
    user = new_user(platform, password=PASSWORD)
    first = request_code(attacker, user.phone)
    assert first.status_code == 202
    wrong = f"{(int(wait_for_sms_code(platform, user.phone)) + 1) % 1_000_000:06d}"
    guesses = [verify(attacker, first.json()["challenge_id"], wrong) for _ in range(5)]
    assert [g.status_code for g in guesses] == [401] * 4 + [403]

    # the owner asks for a code; the attacker then asks for more (before, each replaced the owner's)
    mine = request_code(owner, user.phone)
    assert mine.status_code == 202
    code = wait_for_sms_code(platform, user.phone, seen=1)
    more = [request_code(attacker, user.phone) for _ in range(5)]
    assert [m.status_code for m in more] == [202] * 4 + [429]
    assert problem(more[-1], 429)["reason"] == "OTP_SEND_LIMIT"

    signed_in = verify(owner, mine.json()["challenge_id"], code)
    assert signed_in.status_code == 200, signed_in.text
    # and the owner gets another code whenever they want one
    assert sign_in_with_code(platform, owner, user.phone, seen=2).status_code == 200
    assert sign_in_with_password(owner, user.phone, PASSWORD).status_code == 200
