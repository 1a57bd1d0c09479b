"""seed-scale against the real processes: the customer's manager sees the lines, netsim's HLR holds them."""

from __future__ import annotations

import io
import time
from pathlib import Path

import grpc
import httpx
import pytest

from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_devstack import scale
from simfleet_devstack.platform import Platform, PlatformConfig
from simfleet_devstack.scale import SCALE_MANAGER, scale_number

pytestmark = pytest.mark.e2e
LINES = 300


def test_seed_scale_makes_a_customer_whose_lines_are_seen_and_registered_once(tmp_path: Path) -> None:
    config = PlatformConfig.free_ports(tmp_path / "data", stop_timeout=5.0)
    with Platform(config) as platform:
        out, err = io.StringIO(), io.StringIO()
        started = time.monotonic()
        assert scale.main(platform, lines=LINES, out=out, err=err) == 0, err.getvalue() + out.getvalue()
        took = time.monotonic() - started
        text = out.getvalue()
        assert "Scale Test LLC onboarded" in text
        assert f"{LINES} lines added" in text and f"registered in netsim's HLR ({LINES} lines;" in text
        assert SCALE_MANAGER.phone in text and SCALE_MANAGER.password in text

        with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
            signed_in = api.post(
                "/v1/auth/password", json={"phone": SCALE_MANAGER.phone, "password": SCALE_MANAGER.password}
            )
            assert signed_in.status_code == 200, signed_in.text
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            page = api.get("/v1/lines", params={"limit": 1000}, headers=headers)
            assert page.status_code == 200, page.text
            lines = page.json()["items"]
        assert [line["msisdn"] for line in lines] == [scale_number(n) for n in range(LINES)]
        assert {line["state"] for line in lines} == {"active", "blocked", "ready"}
        assert len({line["personal_account_id"] for line in lines}) == 1

        last = lines[-1]
        with grpc.insecure_channel(platform.netsim_target) as channel:
            hlr = hlr_pb2_grpc.HlrServiceStub(channel)
            subscriber = hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=last["msisdn"]), timeout=5).subscriber
            blocked = next(line for line in lines if line["state"] == "blocked")
            barred = hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=blocked["msisdn"]), timeout=5).subscriber
        assert (subscriber.imsi, subscriber.iccid) == (last["sim"]["imsi"], last["sim"]["iccid"])
        assert last["state"] == "ready" and list(subscriber.barrings) == ["not_activated"]
        assert list(barred.barrings) == ["voluntary"] and subscriber.version == 0

        again = io.StringIO()
        assert scale.main(platform, lines=LINES, out=again, err=err) == 0, err.getvalue()
        assert "already onboarded" in again.getvalue()
        assert f"nothing to add: Scale Test LLC has its {LINES} lines already" in again.getvalue()
        assert "seed-lines: 300 of 300 numbers, 0 lines added, 0 REGISTER commands" in again.getvalue()
    assert took < 30, f"seed-scale of {LINES} lines took {took:.1f}s"

    stopped = io.StringIO()
    assert scale.main(Platform(config), lines=LINES, out=io.StringIO(), err=stopped) == 1
    assert "the platform is not running" in stopped.getvalue() and "make up" in stopped.getvalue()
