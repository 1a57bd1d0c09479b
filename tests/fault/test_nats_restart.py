"""NATS goes away while a message is on its way: a code, or the notice of a sign-in (ID-7), still arrives, once.

A code goes identity → its outbox → NATS → netsim's SMSC. A sign-in's notice goes identity → its outbox
(``sign_in.recorded``) → NATS → notifications (which tells customers' users) → its outbox → NATS → the SMSC.
Each outbox's relay publishes in order and stops at a row NATS does not take, and the SMSC's consumer takes
its stream in order, so a later message through the same outbox is the marker that every copy of an earlier one
was handled: a second code for identity's, a second sign-in's notice for notifications'.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import SeedUser
from simfleet_runtime.testing import wait_until
from tests.helpers import codes_in, inbox, new_user, running_platform, sign_ins_told, wait_for_sms_code

pytestmark = pytest.mark.fault

SMS_SUBJECT = "simfleet.netsim.cmd.sms.submit"
SIGN_IN_SUBJECT = "simfleet.identity.sign_in.recorded"
USER_CREATED = "simfleet.identity.user.created"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("fault")
    with running_platform(data_dir, "fault") as running:
        yield running


def request_code(platform: Platform, phone: str) -> str:
    response = httpx.post(f"{platform.gateway_url}/v1/auth/otp", json={"phone": phone, "channel": "sms"}, timeout=10)
    assert response.status_code == 202, response.text
    return str(response.json()["challenge_id"])


def verify(platform: Platform, challenge: str, code: str) -> dict[str, str]:
    """Sign in with the code (no password hash to compute: quick under load); the bearer header."""
    signed_in = httpx.post(
        f"{platform.gateway_url}/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code}, timeout=10
    )
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


def identity_counter(platform: Platform, name: str, subject: str) -> float:
    text = httpx.get(platform.metrics_urls()["identity"], timeout=5).text
    prefix = f'{name}{{subject="{subject}"}} '
    return sum(float(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix))


def failed_publishes(platform: Platform, subject: str) -> float:
    """identity's relay's count of messages on ``subject`` NATS did not take (simfleet_nats_publish_failed_total)."""
    return identity_counter(platform, "simfleet_nats_publish_failed_total", subject)


def new_user_announced(platform: Platform, **values: Any) -> SeedUser:
    """A new user, once identity's relay published its user.created: nothing of it waits in the outbox."""
    before = identity_counter(platform, "simfleet_nats_published_total", USER_CREATED)
    user = new_user(platform, **values)
    wait_until(
        lambda: identity_counter(platform, "simfleet_nats_published_total", USER_CREATED) > before,
        30,
        "the user's user.created published",
    )
    return user


def codes_once_after_a_second(platform: Platform, phone: str, first: str) -> None:
    """Ask for a second code (queued after the first in identity's outbox); once it is on the handset, every copy
    of the first that was ever published has been handled: the first is there exactly once."""
    request_code(platform, phone)
    second = wait_for_sms_code(platform, phone, seen=1, timeout=30)
    assert sorted(codes_in(inbox(platform, phone))) == sorted([first, second])


def sign_in_notices(platform: Platform, auth: dict[str, str]) -> list[dict[str, Any]]:
    """The user's sign-in notices as notifications lists them (GET /v1/me/notices)."""
    listed = httpx.get(f"{platform.gateway_url}/v1/me/notices", params={"limit": 50}, headers=auth, timeout=10)
    assert listed.status_code == 200, listed.text
    return [n for n in listed.json()["items"] if n["kind"] == "sign_in"]


def test_code_requested_while_nats_is_down_arrives_once_it_is_back(platform: Platform) -> None:
    user = new_user_announced(platform)
    failed_before = failed_publishes(platform, SMS_SUBJECT)
    platform.stop_nats()
    try:
        challenge = request_code(platform, user.phone)
        # The relay tried to publish the code's command and NATS did not take it: nothing could reach netsim.
        wait_until(lambda: failed_publishes(platform, SMS_SUBJECT) > failed_before, 30, "a failed publish of the SMS")
        assert codes_in(inbox(platform, user.phone)) == []
    finally:
        platform.start_nats()
    code = wait_for_sms_code(platform, user.phone, timeout=30)
    verify(platform, challenge, code)
    codes_once_after_a_second(platform, user.phone, code)


def test_nats_restarting_right_after_the_request_delivers_exactly_once(platform: Platform) -> None:
    user = new_user(platform)
    request_code(platform, user.phone)
    platform.stop_nats()  # whatever the relay was doing: before, while or after it published the code
    platform.start_nats()
    code = wait_for_sms_code(platform, user.phone, timeout=30)
    codes_once_after_a_second(platform, user.phone, code)


def test_a_sign_in_while_nats_is_down_is_told_once_it_is_back(platform: Platform) -> None:
    user = new_user_announced(platform)
    challenge = request_code(platform, user.phone)
    code = wait_for_sms_code(platform, user.phone, timeout=30)
    failed_before = failed_publishes(platform, SIGN_IN_SUBJECT)
    platform.stop_nats()
    try:
        verify(platform, challenge, code)  # a sign-in needs no bus: its event waits in identity's outbox
        wait_until(
            lambda: failed_publishes(platform, SIGN_IN_SUBJECT) > failed_before, 30, "a failed publish of the sign-in"
        )
        assert sign_ins_told(platform, user.phone) == 0
    finally:
        platform.start_nats()
    wait_until(lambda: sign_ins_told(platform, user.phone) == 1, 30, "the sign-in's notice")

    # The marker: a second sign-in's notice, through the same outboxes after the first's.
    challenge = request_code(platform, user.phone)
    auth = verify(platform, challenge, wait_for_sms_code(platform, user.phone, seen=1, timeout=30))
    wait_until(
        lambda: [n["state"] for n in sign_in_notices(platform, auth)] == ["sent", "sent"], 30, "the second notice"
    )
    wait_until(lambda: sign_ins_told(platform, user.phone) >= 2, 30, "the second notice on the handset")
    assert sign_ins_told(platform, user.phone) == 2
    assert len(sign_in_notices(platform, auth)) == 2
    assert len(codes_in(inbox(platform, user.phone))) == 2 and len(inbox(platform, user.phone)) == 4
