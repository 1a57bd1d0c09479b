"""A 5,000-line operation survives inventory, netsim and NATS going down under it: every item applied once.

In the middle of one operation, each part is stopped the hard way in turn
(inventory and netsim by SIGKILL, NATS by a restart) and started again; the
operation still ends with every line blocked, and netsim's HLR shows each
subscriber changed exactly once (its version counts the changes applied to it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from simfleet.inventory.v1 import admin_pb2, admin_pb2_grpc
from simfleet.inventory.v1 import lines_pb2 as lpb
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_devstack.platform import INVENTORY, NETSIM, Platform
from simfleet_devstack.seed import DEMO_MANAGER, demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from tests.helpers import E2E_ENV, running_platform

pytestmark = pytest.mark.fault
LINES = 5000


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("crashes")
    # inventory's own window and batch size (the e2e platform narrows them for its cancel test).
    env = {service: values for service, values in E2E_ENV.items() if service != "inventory"}
    with running_platform(data_dir, "crashes", extra_env=env) as running:
        yield running


def manager(platform: Platform) -> dict[str, str]:
    response = httpx.post(
        f"{platform.gateway_url}/v1/auth/password",
        json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def hlr(platform: Platform) -> hlr_pb2_grpc.HlrServiceStub:
    return hlr_pb2_grpc.HlrServiceStub(grpc.insecure_channel(platform.netsim_target))


def import_lines(platform: Platform, prefix: str, headers: dict[str, str]) -> list[str]:
    nodes = httpx.get(
        f"{platform.gateway_url}/v1/nodes", params={"kind": "personal_account"}, headers=headers, timeout=10
    ).json()["items"]
    account = sorted(nodes, key=lambda n: n["name"])[-1]
    customer_id = httpx.get(f"{platform.gateway_url}/v1/me", headers=headers, timeout=10).json()["customer_id"]
    numbers = [f"{prefix}{i:04d}" for i in range(LINES)]
    with grpc.insecure_channel(platform.inventory_target) as channel:
        stub = admin_pb2_grpc.InventoryAdminServiceStub(channel)
        for start in range(0, LINES, 1000):
            stub.ImportLines(
                admin_pb2.ImportLinesRequest(
                    customer_id=customer_id,
                    lines=[
                        admin_pb2.ImportedLine(
                            msisdn=n,
                            sim=demo_sim(int(n[-7:]) + 3_000_000),
                            node_id=account["id"],
                            personal_account_id=account["id"],
                            tariff_code="BIZ-M",
                            state=lpb.LINE_STATE_ACTIVE,
                        )
                        for n in numbers[start : start + 1000]
                    ],
                ),
                metadata=((OPERATOR_KEY, platform.config.operator_key),),
                timeout=60,
            )
    return numbers


def subscribers(platform: Platform, prefix: str) -> list[hlr_pb2.Subscriber]:
    found: list[hlr_pb2.Subscriber] = []
    token = ""
    stub = hlr(platform)
    while True:
        page = stub.ListSubscribers(
            hlr_pb2.ListSubscribersRequest(msisdn_prefix=prefix, page_size=1000, page_token=token), timeout=10
        )
        found.extend(page.subscribers)
        token = page.next_page_token
        if not token:
            return found


def test_inventory_netsim_and_nats_go_down_during_one_operation(platform: Platform) -> None:
    prefix = "+7999601"
    headers = manager(platform)
    numbers = import_lines(platform, prefix, headers)
    wait_until(lambda: len(subscribers(platform, prefix)) == LINES, 120, "the lines registered in the HLR")
    before = {s.msisdn: s.version for s in subscribers(platform, prefix)}
    # Slow enough that the operation is still under way through three faults.
    hlr(platform).SetFaults(hlr_pb2.SetFaultsRequest(faults=hlr_pb2.Faults(latency_ms=3)), timeout=5)
    answer = httpx.post(
        f"{platform.gateway_url}/v1/operations",
        json={"type": "block", "lines": numbers, "params": {"block_type": "voluntary"}},
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    operation_id = answer.json()["id"]

    def operation() -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(
            f"{platform.gateway_url}/v1/operations/{operation_id}", headers=manager(platform), timeout=10
        ).json()
        return body

    def crash_inventory() -> None:
        platform.kill_service(INVENTORY)
        platform.start_service(INVENTORY)

    def crash_netsim() -> None:
        platform.kill_service(NETSIM)
        platform.start_service(NETSIM)  # the faults are in its database: the new process keeps the latency
        hlr(platform).SetFaults(hlr_pb2.SetFaultsRequest(faults=hlr_pb2.Faults(latency_ms=3)), timeout=5)

    def restart_nats() -> None:
        platform.stop_nats()
        platform.start_nats()

    faults: list[tuple[int, Callable[[], None]]] = [(300, crash_inventory), (1200, crash_netsim), (2400, restart_nats)]
    for threshold, fault in faults:

        def reached(at_least: int = threshold) -> dict[str, Any] | None:
            now = operation()
            return now if now["counts"]["succeeded"] >= at_least else None

        progress = wait_until(reached, 180, f"{threshold} lines blocked")
        assert progress["state"] == "running", f"the operation ended before the fault at {threshold}"
        fault()
    done = wait_until(
        lambda: o if (o := operation())["state"] not in ("scheduled", "running") else None, 300, "the end"
    )
    assert done["state"] == "completed", done
    assert done["counts"]["succeeded"] == LINES
    after = subscribers(platform, prefix)
    assert len(after) == LINES
    assert all(list(s.barrings) == ["voluntary"] for s in after)
    assert all(s.version == before[s.msisdn] + 1 for s in after), "a change was applied twice or not at all"
