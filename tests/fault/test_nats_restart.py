"""NATS goes away while a code is on its way: the SMS still arrives, exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_runtime.testing import wait_until
from tests.helpers import codes_in, inbox, new_user, running_platform, wait_for_sms_code

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("fault")
    with running_platform(data_dir, "fault") as running:
        yield running


SMS_SUBJECT = "simfleet.netsim.cmd.sms.submit"


def request_code(platform: Platform, phone: str) -> str:
    response = httpx.post(f"{platform.gateway_url}/v1/auth/otp", json={"phone": phone, "channel": "sms"}, timeout=10)
    assert response.status_code == 202, response.text
    return str(response.json()["challenge_id"])


def failed_sms_publishes(platform: Platform) -> float:
    """identity's relay's count of SMS commands NATS did not take (simfleet_nats_publish_failed_total)."""
    text = httpx.get(platform.metrics_urls()["identity"], timeout=5).text
    prefix = f'simfleet_nats_publish_failed_total{{subject="{SMS_SUBJECT}"}} '
    return sum(float(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix))


def sign_in_and_see_the_notice(platform: Platform, phone: str, challenge: str, code: str) -> list[str]:
    """Sign in with the code, then wait for the "you signed in" SMS; the handset's texts then.

    The notice is queued after the code's command, in identity's one outbox: the relay publishes in order
    and stops at a row NATS does not take, and netsim's SMSC consumer handles the stream in order. Once the
    notice is on the handset, every copy of the code's command that was ever published has been handled.
    """
    signed_in = httpx.post(
        f"{platform.gateway_url}/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code}, timeout=10
    )
    assert signed_in.status_code == 200, signed_in.text

    def texts_with_the_notice() -> list[str] | None:
        texts = [str(m["text"]) for m in inbox(platform, phone)]
        return texts if any("signed in" in t for t in texts) else None

    found: list[str] = wait_until(texts_with_the_notice, 30, f"the sign-in notice to {phone}")
    return found


def test_code_requested_while_nats_is_down_arrives_once_it_is_back(platform: Platform) -> None:
    user = new_user(platform)
    failed_before = failed_sms_publishes(platform)
    platform.stop_nats()
    try:
        challenge = request_code(platform, user.phone)
        # The relay tried to publish the code's command and NATS did not take it: nothing could reach netsim.
        wait_until(lambda: failed_sms_publishes(platform) > failed_before, 30, "a failed publish of the SMS")
        assert codes_in(inbox(platform, user.phone)) == []
    finally:
        platform.start_nats()
    code = wait_for_sms_code(platform, user.phone, timeout=30)
    texts = sign_in_and_see_the_notice(platform, user.phone, challenge, code)
    assert codes_in([{"text": t} for t in texts]) == [code]
    assert len(texts) == 2, texts


def test_nats_restarting_right_after_the_request_delivers_exactly_once(platform: Platform) -> None:
    user = new_user(platform)
    challenge = request_code(platform, user.phone)
    platform.stop_nats()
    time.sleep(0.5)  # down for a moment, whatever the relay was doing
    platform.start_nats()
    code = wait_for_sms_code(platform, user.phone, timeout=30)
    texts = sign_in_and_see_the_notice(platform, user.phone, challenge, code)
    assert codes_in([{"text": t} for t in texts]) == [code]
    assert len(texts) == 2, texts
