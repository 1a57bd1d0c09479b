"""NATS goes away while a code is on its way: the SMS still arrives, exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simfleet_devstack.platform import Platform
from tests.helpers import codes_in, inbox, new_user, running_platform, wait_for_sms_code

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("fault")
    with running_platform(data_dir, "fault") as running:
        yield running


def request_code(platform: Platform, phone: str) -> str:
    response = httpx.post(f"{platform.gateway_url}/v1/auth/otp", json={"phone": phone, "channel": "sms"}, timeout=10)
    assert response.status_code == 202, response.text
    return str(response.json()["challenge_id"])


def test_code_requested_while_nats_is_down_arrives_once_it_is_back(platform: Platform) -> None:
    user = new_user(platform)
    platform.stop_nats()
    try:
        challenge = request_code(platform, user.phone)
        time.sleep(1.5)  # the relay keeps trying; nothing can reach netsim
        assert codes_in(inbox(platform, user.phone)) == []
    finally:
        platform.start_nats()
    code = wait_for_sms_code(platform, user.phone, timeout=30)
    time.sleep(2)  # any duplicate would arrive by now
    assert codes_in(inbox(platform, user.phone)) == [code]
    signed_in = httpx.post(
        f"{platform.gateway_url}/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code}, timeout=10
    )
    assert signed_in.status_code == 200, signed_in.text


def test_nats_restarting_right_after_the_request_delivers_exactly_once(platform: Platform) -> None:
    user = new_user(platform)
    request_code(platform, user.phone)
    platform.stop_nats()
    time.sleep(0.5)
    platform.start_nats()
    code = wait_for_sms_code(platform, user.phone, timeout=30)
    time.sleep(2)
    assert codes_in(inbox(platform, user.phone)) == [code]
    assert len(inbox(platform, user.phone)) == 1
