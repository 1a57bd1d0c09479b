"""Tariffs and services of lines through the gateway against the real processes (SIM-6, SIM-7, SIM-14).

A service connected by ``set_services`` is in netsim's HLR (and so in what its
mediation lets the line use); a tariff changed by ``change_tariff`` reaches
billing through inventory's ``lines.changed``, and the usage made after the
change is priced at the new tariff while what came before keeps the old one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import grpc
import httpx
import pytest

from simfleet.inventory.v1 import admin_pb2, admin_pb2_grpc
from simfleet.inventory.v1 import lines_pb2 as lpb
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc, usage_pb2, usage_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until

pytestmark = pytest.mark.e2e
_lines = count(1)


@pytest.fixture
def manager(api: httpx.Client) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def account(platform: Platform) -> dict[str, Any]:
    """A personal account of the demo customer (the lines are the tests' own, imported under it)."""
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        login = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        nodes = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 100}, headers=headers)
        me = api.get("/v1/me", headers=headers)
    assert nodes.status_code == 200, nodes.text
    return {**sorted(nodes.json()["items"], key=lambda n: n["name"])[-1], "customer_id": me.json()["customer_id"]}


@pytest.fixture
def hlr(platform: Platform) -> Iterator[hlr_pb2_grpc.HlrServiceStub]:
    with grpc.insecure_channel(platform.netsim_target) as channel:
        yield hlr_pb2_grpc.HlrServiceStub(channel)


def import_line(platform: Platform, account: dict[str, Any], hlr: hlr_pb2_grpc.HlrServiceStub) -> str:
    """A new active line on BIZ-M with voice, SMS and data, registered in the HLR before this returns."""
    n = next(_lines)
    number = f"+7999271{n:04d}"
    line = admin_pb2.ImportedLine(
        msisdn=number,
        sim=demo_sim(8_271_000 + n),
        node_id=account["id"],
        personal_account_id=account["id"],
        tariff_code="BIZ-M",
        state=lpb.LINE_STATE_ACTIVE,
        services=["voice", "sms", "data"],
    )
    with grpc.insecure_channel(platform.inventory_target) as channel:
        admin_pb2_grpc.InventoryAdminServiceStub(channel).ImportLines(
            admin_pb2.ImportLinesRequest(customer_id=account["customer_id"], lines=[line]),
            metadata=((OPERATOR_KEY, platform.config.operator_key),),
            timeout=30,
        )

    def registered() -> bool:
        try:
            hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=number), timeout=5)
        except grpc.RpcError:
            return False
        return True

    wait_until(registered, 60, "the imported line in the HLR")
    return number


def run(api: httpx.Client, manager: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """The operation accepted, then followed until it ends."""
    answer = api.post("/v1/operations", json=body, headers=manager)
    assert answer.status_code == 202, answer.text
    operation_id = answer.json()["id"]

    def done() -> dict[str, Any] | None:
        found: dict[str, Any] = api.get(f"/v1/operations/{operation_id}", headers=manager).json()
        return found if found["state"] not in ("scheduled", "running") else None

    result: dict[str, Any] = wait_until(done, 60, f"operation {operation_id} to end")
    return result


def only_item(api: httpx.Client, manager: dict[str, str], operation_id: str) -> dict[str, Any]:
    [item] = api.get(f"/v1/operations/{operation_id}/items", headers=manager).json()["items"]
    return dict(item)


def test_connecting_roaming_puts_it_in_the_hlr_and_on_the_line(
    platform: Platform,
    api: httpx.Client,
    manager: dict[str, str],
    account: dict[str, Any],
    hlr: hlr_pb2_grpc.HlrServiceStub,
) -> None:
    number = import_line(platform, account, hlr)
    assert list(hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=number), timeout=5).subscriber.services) == [
        "voice",
        "sms",
        "data",
    ]

    body = {"type": "set_services", "lines": [number], "params": {"connect": ["roaming"], "disconnect": ["data"]}}
    done = run(api, manager, body)
    assert (done["state"], done["counts"]["succeeded"]) == ("completed", 1), done
    subscriber = hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=number), timeout=5).subscriber
    assert list(subscriber.services) == ["voice", "sms", "roaming"]
    assert api.get(f"/v1/lines/{number}", headers=manager).json()["services"] == ["voice", "sms", "roaming"]

    # The same again has nothing to do; a name the network does not know never reaches it.
    again = run(api, manager, {"type": "set_services", "lines": [number], "params": {"connect": ["roaming"]}})
    assert (again["counts"]["skipped"], only_item(api, manager, again["id"])["code"]) == (1, "NO_CHANGE")
    unknown = api.post(
        "/v1/operations",
        json={"type": "set_services", "lines": [number], "params": {"connect": ["roaming", "teleport"]}},
        headers=manager,
    )
    assert unknown.status_code == 422, unknown.text
    assert "params.connect.1" in [e["field"] for e in unknown.json()["errors"]]


def _usage(api: httpx.Client, manager: dict[str, str], number: str) -> dict[str, Any]:
    answer = api.get(f"/v1/lines/{number}/usage", headers=manager)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _make_sms(platform: Platform, number: str, count_: int) -> None:
    with grpc.insecure_channel(platform.netsim_target) as channel:
        made = usage_pb2_grpc.UsageServiceStub(channel).GenerateUsage(
            usage_pb2.GenerateUsageRequest(count=count_, kinds=[usage_pb2.USAGE_KIND_SMS], msisdn_prefixes=[number]),
            timeout=30,
        )
    assert made.generated == count_


def test_a_scheduled_tariff_change_prices_the_usage_after_it_at_the_new_tariff(
    platform: Platform,
    api: httpx.Client,
    manager: dict[str, str],
    account: dict[str, Any],
    hlr: hlr_pb2_grpc.HlrServiceStub,
) -> None:
    number = import_line(platform, account, hlr)
    wait_until(lambda: api.get(f"/v1/lines/{number}/usage", headers=manager).status_code == 200, 30, "billing's line")
    assert _usage(api, manager, number)["tariff_code"] == "BIZ-M"
    # A record starts up to a second before it is made: one started before the line existed has no line.
    time.sleep(1.2)
    _make_sms(platform, number, 3)

    def first_rated() -> dict[str, Any] | None:
        found = _usage(api, manager, number)
        return found if len(found["last_records"]) >= 3 else None

    before = wait_until(first_rated, 60, "the SMS rated")
    old_records = {r["record_id"] for r in before["last_records"]}
    assert {r["tariff_code"] for r in before["last_records"]} == {"BIZ-M"}

    at = datetime.now(UTC) + timedelta(seconds=2)
    answer = api.post(
        "/v1/operations",
        json={
            "type": "change_tariff",
            "lines": [number],
            "params": {"tariff_code": "BIZ-L"},
            "scheduled_at": at.isoformat(),
        },
        headers=manager,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["state"] == "scheduled"
    assert api.get(f"/v1/lines/{number}", headers=manager).json()["tariff"] == "BIZ-M"  # not before its date

    def ended() -> dict[str, Any] | None:
        found: dict[str, Any] = api.get(f"/v1/operations/{answer.json()['id']}", headers=manager).json()
        return found if found["state"] not in ("scheduled", "running") else None

    done = wait_until(ended, 60, "the tariff change")
    assert (done["state"], done["counts"]["succeeded"]) == ("completed", 1), done
    assert datetime.fromisoformat(done["started_at"]) >= at
    assert api.get(f"/v1/lines/{number}", headers=manager).json()["tariff"] == "BIZ-L"
    wait_until(lambda: _usage(api, manager, number)["tariff_code"] == "BIZ-L", 30, "billing's copy on BIZ-L")
    time.sleep(1.2)  # the records made next start after the change

    _make_sms(platform, number, 4)

    def rated() -> list[dict[str, Any]] | None:
        records = [r for r in _usage(api, manager, number)["last_records"] if r["record_id"] not in old_records]
        return records if len(records) >= 4 else None

    new_records = wait_until(rated, 60, "the SMS after the change rated")
    assert [(r["outcome"], r["tariff_code"]) for r in new_records] == [("rated", "BIZ-L")] * 4
    # What was used before the change keeps the tariff it was used on.
    kept = [r for r in _usage(api, manager, number)["last_records"] if r["record_id"] in old_records]
    assert {r["tariff_code"] for r in kept} == {"BIZ-M"}

    # Changing it to the tariff it is on does nothing; a tariff the operator does not offer is refused.
    again = run(api, manager, {"type": "change_tariff", "lines": [number], "params": {"tariff_code": "BIZ-L"}})
    assert only_item(api, manager, again["id"])["code"] == "ALREADY_ON_TARIFF"
    unknown = api.post(
        "/v1/operations",
        json={"type": "change_tariff", "lines": [number], "params": {"tariff_code": "GOLD"}},
        headers=manager,
    )
    assert unknown.status_code == 422, unknown.text
    assert (unknown.json()["reason"], [e["field"] for e in unknown.json()["errors"]]) == (
        "UNKNOWN_TARIFF",
        ["params.tariff_code"],
    )


def test_a_tariff_a_line_cannot_take_is_refused_on_its_item_with_billings_reason(
    platform: Platform,
    api: httpx.Client,
    manager: dict[str, str],
    account: dict[str, Any],
    hlr: hlr_pb2_grpc.HlrServiceStub,
) -> None:
    number = import_line(platform, account, hlr)  # BIZ-M with voice: IOT-S allows no voice

    def answered() -> dict[str, Any] | None:
        answer = api.post("/v1/lines/availability", json={"msisdns": [number], "tariff_code": "IOT-S"}, headers=manager)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items[0] if items else None  # billing learns of the line from inventory's event

    check = wait_until(answered, 30, "billing's answer on the imported line")
    assert (check["allowed"], check["reason"]) == (False, "SERVICE_NOT_ALLOWED_ON_TARIFF"), check
    assert "IOT-S" not in check["available_tariffs"]
    with_disconnect = api.post(
        "/v1/lines/availability",
        json={"msisdns": [number], "tariff_code": "IOT-S", "disconnect": ["voice"]},
        headers=manager,
    )
    assert with_disconnect.json()["items"][0]["allowed"] is True, with_disconnect.text
    bad = api.post("/v1/lines/availability", json={"msisdns": [], "tariff_code": "IOT-S"}, headers=manager)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")

    done = run(api, manager, {"type": "change_tariff", "lines": [number], "params": {"tariff_code": "IOT-S"}})
    assert (done["state"], done["counts"]["failed"]) == ("failed", 1), done
    item = only_item(api, manager, done["id"])
    assert (item["state"], item["code"]) == ("failed", "SERVICE_NOT_ALLOWED_ON_TARIFF"), item
    assert "voice" in item["reason"]
    assert api.get(f"/v1/lines/{number}", headers=manager).json()["tariff"] == "BIZ-M"
