"""Lines and operations through the gateway against the real processes: inventory, netsim's HLR, NATS.

Each test brings its own lines the back-office way (inventory's ImportLines),
registered in the HLR like every line, and changes them through
``POST /v1/operations``; what the network holds afterwards is read from
netsim's HLR service.
"""

from __future__ import annotations

import json
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
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_LINES_PER_ACCOUNT, DEMO_MANAGER, DEMO_STOCK, demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from tests.helpers import inbox, problem

pytestmark = pytest.mark.e2e
_blocks = count(1)


def bearer(api: httpx.Client) -> dict[str, str]:
    response = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def manager(api: httpx.Client) -> dict[str, str]:
    return bearer(api)


@pytest.fixture(scope="module")
def account(platform: Platform) -> dict[str, Any]:
    """A personal account of the demo customer (its lines are the tests' own)."""
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        headers = bearer(api)
        nodes = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 100}, headers=headers)
        me = api.get("/v1/me", headers=headers)
    assert nodes.status_code == 200, nodes.text
    return {**sorted(nodes.json()["items"], key=lambda n: n["name"])[0], "customer_id": me.json()["customer_id"]}


def hlr(platform: Platform) -> hlr_pb2_grpc.HlrServiceStub:
    return hlr_pb2_grpc.HlrServiceStub(grpc.insecure_channel(platform.netsim_target))


def set_faults(platform: Platform, **faults: Any) -> None:
    hlr(platform).SetFaults(hlr_pb2.SetFaultsRequest(faults=hlr_pb2.Faults(**faults)), timeout=5)


@pytest.fixture(autouse=True)
def no_faults(platform: Platform) -> Iterator[None]:
    yield
    set_faults(platform)


def import_lines(
    platform: Platform,
    account: dict[str, Any],
    count_: int,
    state: lpb.LineState.ValueType = lpb.LINE_STATE_ACTIVE,
    node_id: str = "",
) -> list[str]:
    """``count_`` new lines under the account, registered in the HLR before this returns."""
    block = next(_blocks)
    numbers = [f"+79993{block:02d}{i:04d}" for i in range(count_)]
    lines = [
        admin_pb2.ImportedLine(
            msisdn=n,
            sim=demo_sim(700_000 + block * 10_000 + i),
            node_id=node_id or account["id"],
            personal_account_id=account["id"],
            tariff_code="BIZ-M",
            state=state,
        )
        for i, n in enumerate(numbers)
    ]
    with grpc.insecure_channel(platform.inventory_target) as channel:
        stub = admin_pb2_grpc.InventoryAdminServiceStub(channel)
        metadata = ((OPERATOR_KEY, platform.config.operator_key),)
        for start in range(0, len(lines), 1000):
            stub.ImportLines(
                admin_pb2.ImportLinesRequest(customer_id=account["customer_id"], lines=lines[start : start + 1000]),
                metadata=metadata,
                timeout=30,
            )
    network = hlr(platform)

    def registered() -> bool:
        try:
            network.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=numbers[-1]), timeout=5)
        except grpc.RpcError:
            return False
        return True

    wait_until(registered, 60, "the imported lines in the HLR")
    return numbers


def subscriber(platform: Platform, msisdn: str) -> hlr_pb2.Subscriber:
    return hlr(platform).GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=msisdn), timeout=5).subscriber


def finished(api: httpx.Client, manager: dict[str, str], operation_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        answer = api.get(f"/v1/operations/{operation_id}", headers=manager)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body if body["state"] not in ("scheduled", "running") else None

    result: dict[str, Any] = wait_until(done, timeout, f"operation {operation_id} to end")
    return result


def items(
    api: httpx.Client, manager: dict[str, str], operation_id: str, state: str | None = None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000, **({"state": state} if state else {})}
    while True:
        page = api.get(f"/v1/operations/{operation_id}/items", params=params, headers=manager)
        assert page.status_code == 200, page.text
        found.extend(page.json()["items"])
        if not page.json().get("next_cursor"):
            return found
        params["cursor"] = page.json()["next_cursor"]


def test_the_demo_customer_sees_its_lines(api: httpx.Client, manager: dict[str, str]) -> None:
    page = api.get("/v1/lines", params={"limit": 50, "state": "active"}, headers=manager)
    assert page.status_code == 200, page.text
    body = page.json()
    assert len(body["items"]) == 50 and body["next_cursor"]
    assert {line["state"] for line in body["items"]} == {"active"}
    msisdn = body["items"][0]["msisdn"]
    line = api.get(f"/v1/lines/{msisdn}", headers=manager)
    assert line.status_code == 200 and line.json()["sim"]["iccid"].startswith("89")
    puk = api.get(f"/v1/lines/{msisdn}/puk", headers=manager)
    assert puk.status_code == 200 and len(puk.json()["puk1"]) == 8
    where = api.get(f"/v1/lines/{msisdn}/location", headers=manager)
    assert where.status_code == 200, where.text
    problem(api.get("/v1/lines/+79990000000", headers=manager), 404)
    problem(api.get("/v1/lines", headers={}), 401)


@pytest.mark.parametrize(("suffix", "action"), [("puk", "lines.puk.read"), ("location", "lines.location.read")])
def test_every_puk_and_location_read_is_in_the_action_history(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any], suffix: str, action: str
) -> None:
    [number] = import_lines(platform, account, 1)
    me = api.get("/v1/me", headers=manager).json()
    read = api.get(f"/v1/lines/{number}/{suffix}", headers=manager)
    assert read.status_code == 200, read.text
    codes = (read.json()["puk1"], read.json()["puk2"]) if suffix == "puk" else ()

    def recorded() -> list[dict[str, Any]]:
        answer = api.get("/v1/audit-events", params={"action": action, "object_id": number}, headers=manager)
        assert answer.status_code == 200, answer.text
        events: list[dict[str, Any]] = answer.json()["items"]
        return events

    [event] = wait_until(recorded, 30, f"the {suffix} read in the history")
    assert (event["service"], event["result"], event["actor_id"]) == ("inventory", "succeeded", me["id"])
    assert [(o["kind"], o["id"], o["node_id"]) for o in event["objects"]] == [("line", number, account["id"])]
    assert not any(code in str(event) for code in codes)
    # One read, one event: the interceptor did not record it a second time. A second record would be written
    # before the read was answered, in inventory's one outbox, and accounts takes its events in order: once a
    # later read of the line is in the history, any second record of this one is there too.
    later_suffix, later_action = ("location", "lines.location.read") if suffix == "puk" else ("puk", "lines.puk.read")
    assert api.get(f"/v1/lines/{number}/{later_suffix}", headers=manager).status_code == 200
    wait_until(
        lambda: api.get(
            "/v1/audit-events", params={"action": later_action, "object_id": number}, headers=manager
        ).json()["items"],
        30,
        "the later read in the history",
    )
    assert len(recorded()) == 1


def test_blocking_one_line_bars_it_in_the_hlr(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    [number] = import_lines(platform, account, 1)
    assert list(subscriber(platform, number).barrings) == []
    answer = api.post(
        "/v1/operations",
        json={"type": "block", "lines": [number], "params": {"block_type": "voluntary"}},
        headers={**manager, "Idempotency-Key": f"block-{number}"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"] == f"/v1/operations/{answer.json()['id']}"
    again = api.post(
        "/v1/operations",
        json={"type": "block", "lines": [number], "params": {"block_type": "voluntary"}},
        headers={**manager, "Idempotency-Key": f"block-{number}"},
    )
    assert again.status_code == 200 and again.json()["id"] == answer.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    # The key was used for that block: another body under it is refused, not answered with the first.
    reused = api.post(
        "/v1/operations",
        json={"type": "block", "lines": [number], "params": {"block_type": "financial"}},
        headers={**manager, "Idempotency-Key": f"block-{number}"},
    )
    assert reused.status_code == 422 and reused.json()["reason"] == "IDEMPOTENCY_KEY_REUSED", reused.text
    elsewhere = api.post(
        "/v1/sim-orders",
        json={"node_id": account["id"], "quantity": 1, "tariff": "BIZ-M"},
        headers={**manager, "Idempotency-Key": f"block-{number}"},
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["reason"] == "IDEMPOTENCY_KEY_REUSED", elsewhere.text
    done = finished(api, manager, answer.json()["id"])
    assert done["state"] == "completed" and done["counts"]["succeeded"] == 1
    assert list(subscriber(platform, number).barrings) == ["voluntary"]
    line = api.get(f"/v1/lines/{number}", headers=manager).json()
    assert line["state"] == "blocked" and [b["type"] for b in line["blocks"]] == ["voluntary"]


def test_a_bulk_block_ends_with_errors_on_exactly_the_lines_netsim_failed(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    numbers = import_lines(platform, account, 1000)
    failing = numbers[13::37]
    set_faults(platform, failing_msisdns=failing)
    answer = api.post(
        "/v1/operations",
        json={"type": "block", "lines": numbers, "params": {"block_type": "lost_or_stolen"}},
        headers=manager,
    )
    assert answer.status_code == 202, answer.text
    done = finished(api, manager, answer.json()["id"], timeout=120)
    assert done["state"] == "completed_with_errors"
    assert done["counts"] == {
        "total": 1000,
        "pending": 0,
        "in_progress": 0,
        "succeeded": 1000 - len(failing),
        "failed": len(failing),
        "skipped": 0,
    }
    failed = items(api, manager, done["id"], "failed")
    assert sorted(i["msisdn"] for i in failed) == sorted(failing)
    assert all(i["code"] == "SYSTEM_FAILURE" and i["reason"] for i in failed)
    for number in (numbers[0], failing[0], numbers[-1]):
        barred = "lost_or_stolen" in subscriber(platform, number).barrings
        assert barred == (number not in failing)
        assert subscriber(platform, number).version == (1 if barred else 0)  # barred once at most


def test_a_sim_is_replaced_and_a_number_changed(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    [number] = import_lines(platform, account, 1)
    reserve = api.get("/v1/sims/reserve", params={"limit": 1}, headers=manager)
    assert reserve.status_code == 200, reserve.text
    new_iccid = reserve.json()["items"][0]["iccid"]
    answer = api.post(
        "/v1/operations",
        json={"type": "replace_sim", "items": [{"msisdn": number, "params": {"iccid": new_iccid}}]},
        headers=manager,
    )
    assert answer.status_code == 202, answer.text
    assert finished(api, manager, answer.json()["id"])["state"] == "completed"
    assert api.get(f"/v1/lines/{number}", headers=manager).json()["sim"]["iccid"] == new_iccid
    assert subscriber(platform, number).iccid == new_iccid

    free = api.get("/v1/numbers/free", params={"limit": 3}, headers=manager)
    assert free.status_code == 200, free.text
    new_number = free.json()["items"][0]
    answer = api.post(
        "/v1/operations",
        json={"type": "change_number", "items": [{"msisdn": number, "params": {"msisdn": new_number}}]},
        headers=manager,
    )
    assert finished(api, manager, answer.json()["id"])["state"] == "completed"
    assert api.get(f"/v1/lines/{new_number}", headers=manager).json()["sim"]["iccid"] == new_iccid
    problem(api.get(f"/v1/lines/{number}", headers=manager), 404)
    assert subscriber(platform, new_number).iccid == new_iccid


def test_a_scheduled_block_runs_at_its_time(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    number, sooner_number = import_lines(platform, account, 2)

    def block_at(msisdn: str, when: datetime) -> str:
        answer = api.post(
            "/v1/operations",
            json={
                "type": "block",
                "lines": [msisdn],
                "params": {"block_type": "scheduled"},
                "scheduled_at": when.isoformat(),
            },
            headers=manager,
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["state"] == "scheduled"
        return str(answer.json()["id"])

    now = datetime.now(UTC)
    at = now + timedelta(seconds=4)
    operation_id = block_at(number, at)
    # A block due sooner: the engine starts due operations in the order of their times, so once it has run
    # this one it has looked at the later one too, and must have left it alone until its time.
    sooner = block_at(sooner_number, now + timedelta(seconds=1))
    assert finished(api, manager, sooner)["state"] == "completed"
    barrings = list(subscriber(platform, number).barrings)
    meanwhile = api.get(f"/v1/operations/{operation_id}", headers=manager).json()
    if meanwhile["state"] == "scheduled":
        assert barrings == []
    else:  # the sooner one took until the later one's time: it must not have started before that
        assert datetime.fromisoformat(meanwhile["started_at"]) >= at
    done = finished(api, manager, operation_id)
    assert done["state"] == "completed"
    assert datetime.fromisoformat(done["started_at"]) >= at
    assert list(subscriber(platform, number).barrings) == ["scheduled"]


def test_cancelling_a_running_bulk_operation(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    numbers = import_lines(platform, account, 600)
    set_faults(platform, latency_ms=10)
    answer = api.post(
        "/v1/operations",
        json={"type": "block", "lines": numbers, "params": {"block_type": "voluntary"}},
        headers=manager,
    )
    assert answer.status_code == 202, answer.text
    operation_id = answer.json()["id"]

    def progressing() -> bool:
        counts = api.get(f"/v1/operations/{operation_id}", headers=manager).json()["counts"]
        return bool(counts["succeeded"] > 0)

    wait_until(progressing, 60, "the first lines blocked")
    cancel = api.post(f"/v1/operations/{operation_id}/cancel", headers=manager)
    assert cancel.status_code == 200, cancel.text
    done = finished(api, manager, operation_id)
    counts = done["counts"]
    assert done["state"] == "cancelled" and done["cancel_requested"]
    assert counts["skipped"] > 0 and counts["succeeded"] > 0
    assert counts["succeeded"] + counts["skipped"] == 600 and counts["failed"] == 0
    skipped = {i["msisdn"] for i in items(api, manager, operation_id, "skipped")}
    for number in (numbers[0], numbers[-1]):
        assert ("voluntary" in subscriber(platform, number).barrings) == (number not in skipped)
    problem(api.post(f"/v1/operations/{operation_id}/cancel", headers=manager), 409)


def test_a_nodes_summary_counts_its_lines_by_state(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    root = api.get("/v1/nodes", params={"kind": "company"}, headers=manager).json()["items"][0]
    created = api.post(
        "/v1/nodes",
        json={"parent_id": root["id"], "name": f"Depot {next(_blocks)}", "kind": "department"},
        headers=manager,
    )
    assert created.status_code == 201, created.text
    depot = created.json()["id"]
    numbers = import_lines(platform, account, 4, node_id=depot)

    def figures() -> dict[str, int]:
        summary = api.get(f"/v1/nodes/{depot}/summary", headers=manager)
        assert summary.status_code == 200, summary.text
        return {f["name"]: f["own"] for f in summary.json()["figures"]}

    wait_until(lambda: figures().get("lines.active") == 4, 30, "the depot's lines counted")
    answer = api.post(
        "/v1/operations",
        json={"type": "block", "lines": numbers[:1], "params": {"block_type": "voluntary"}},
        headers=manager,
    )
    assert finished(api, manager, answer.json()["id"])["state"] == "completed"
    wait_until(lambda: (f := figures()).get("lines.active") == 3 and f.get("lines.blocked") == 1, 30, "the new counts")
    refused = api.delete(f"/v1/nodes/{depot}", headers=manager)
    assert refused.status_code == 409, refused.text  # it holds lines

    # Moved away, the lines leave the depot empty: it can go.
    moved = api.post(
        "/v1/operations", json={"type": "move", "lines": numbers, "params": {"node_id": account["id"]}}, headers=manager
    )
    assert finished(api, manager, moved.json()["id"])["state"] == "completed"
    wait_until(lambda: not any(figures().values()), 30, "the depot's counts at zero")
    assert api.delete(f"/v1/nodes/{depot}", headers=manager).status_code == 204


def test_an_sms_to_chosen_lines_reaches_their_handsets(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    numbers = import_lines(platform, account, 2)
    text = f"Depot closes early today ({next(_blocks)})"
    answer = api.post(
        "/v1/operations",
        json={"type": "send_sms", "lines": numbers, "params": {"text": text, "sender": "Demo Fleet"}},
        headers=manager,
    )
    assert answer.status_code == 202, answer.text
    done = finished(api, manager, answer.json()["id"])
    assert done["state"] == "completed" and done["counts"]["succeeded"] == 2
    for number in numbers:
        messages = inbox(platform, number)
        assert [(m["sender"], m["text"]) for m in messages] == [("Demo Fleet", text)]
    bad = api.post("/v1/operations", json={"type": "send_sms", "lines": numbers, "params": {}}, headers=manager)
    problem(bad, 422)


def test_lines_are_billed_only_to_personal_accounts(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    [number] = import_lines(platform, account, 1)
    departments = api.get("/v1/nodes", params={"kind": "department", "limit": 1}, headers=manager)
    assert departments.status_code == 200, departments.text
    department = departments.json()["items"][0]["id"]

    moved = api.post(
        "/v1/operations",
        json={"type": "move", "lines": [number], "params": {"personal_account_id": department}},
        headers=manager,
    )
    refused = problem(moved, 422)
    assert refused["reason"] == "NOT_A_PERSONAL_ACCOUNT"
    assert [e["field"] for e in refused["errors"]] == ["params.personal_account_id"]

    ordered = api.post(
        "/v1/sim-orders", json={"node_id": department, "quantity": 1, "tariff": "IOT-S"}, headers=manager
    )
    refused = problem(ordered, 422)
    assert refused["reason"] == "PERSONAL_ACCOUNT_REQUIRED"
    assert [e["field"] for e in refused["errors"]] == ["personal_account_id"]
    ordered = api.post(
        "/v1/sim-orders",
        json={"node_id": department, "personal_account_id": department, "quantity": 1, "tariff": "IOT-S"},
        headers=manager,
    )
    assert problem(ordered, 422)["reason"] == "NOT_A_PERSONAL_ACCOUNT"
    # Nothing was made of the refusals: the line is where it was.
    assert api.get(f"/v1/lines/{number}", headers=manager).json()["personal_account_id"] == account["id"]


def test_activating_a_ready_line_lifts_its_barring_in_the_hlr(
    platform: Platform, api: httpx.Client, manager: dict[str, str]
) -> None:
    page = api.get("/v1/lines", params={"state": "ready", "limit": 1}, headers=manager)
    assert page.status_code == 200, page.text
    [line] = page.json()["items"]  # the demo customer has ready lines
    number = line["msisdn"]
    assert list(subscriber(platform, number).barrings) == ["not_activated"]  # how the HLR holds a ready line

    answer = api.post("/v1/operations", json={"type": "activate", "lines": [number]}, headers=manager)
    assert answer.status_code == 202, answer.text
    done = finished(api, manager, answer.json()["id"])
    assert done["state"] == "completed" and done["counts"]["succeeded"] == 1
    assert api.get(f"/v1/lines/{number}", headers=manager).json()["state"] == "active"
    assert list(subscriber(platform, number).barrings) == []

    again = api.post("/v1/operations", json={"type": "activate", "lines": [number]}, headers=manager)
    assert finished(api, manager, again.json()["id"])["counts"]["skipped"] == 1
    [item] = items(api, manager, again.json()["id"])
    assert (item["state"], item["code"]) == ("skipped", "ALREADY_ACTIVE")


def test_terminating_a_line_removes_it_from_the_hlr_and_rests_its_number(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    [number] = import_lines(platform, account, 1)
    assert subscriber(platform, number).msisdn == number

    answer = api.post("/v1/operations", json={"type": "terminate", "lines": [number]}, headers=manager)
    assert answer.status_code == 202, answer.text
    done = finished(api, manager, answer.json()["id"])
    assert done["state"] == "completed" and done["counts"]["succeeded"] == 1
    assert api.get(f"/v1/lines/{number}", headers=manager).json()["state"] == "terminated"
    with pytest.raises(grpc.RpcError) as gone:
        subscriber(platform, number)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND  # the network forgot it
    # It rests in quarantine: nobody is offered the number.
    free = api.get("/v1/numbers/free", params={"contains": number[1:], "limit": 5}, headers=manager)
    assert free.status_code == 200, free.text
    assert free.json()["items"] == []

    # And nothing brings it back.
    again = api.post("/v1/operations", json={"type": "activate", "lines": [number]}, headers=manager)
    assert finished(api, manager, again.json()["id"])["counts"]["skipped"] == 1
    [item] = items(api, manager, again.json()["id"])
    assert (item["state"], item["code"]) == ("skipped", "LINE_TERMINATED")


def test_ordered_sims_arrive_as_ready_lines_with_stock_sims_and_pool_numbers(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    accounts = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 100}, headers=manager).json()["items"]
    # The operator's stock as the demo seed filled it (after the demo lines' own SIMs).
    base = DEMO_LINES_PER_ACCOUNT * len(accounts) + 1
    stock = {demo_sim(base + i).iccid: demo_sim(base + i).imsi for i in range(DEMO_STOCK)}
    # The pool gives its lowest free numbers first: those listed now are the ones the order gets.
    free = api.get("/v1/numbers/free", params={"limit": 3}, headers=manager)
    assert free.status_code == 200, free.text
    expected_numbers = free.json()["items"]
    assert len(expected_numbers) == 3

    # A personal account as the node: the lines are billed to it without naming it twice.
    answer = api.post(
        "/v1/sim-orders",
        json={"node_id": account["id"], "quantity": 3, "tariff": "IOT-S"},
        headers={**manager, "Idempotency-Key": f"order-{next(_blocks)}"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["type"] == "order_sims"
    done = finished(api, manager, answer.json()["id"])
    assert done["state"] == "completed" and done["counts"]["succeeded"] == 3

    numbers = sorted(item["msisdn"] for item in items(api, manager, done["id"]))
    assert numbers == expected_numbers
    iccids = set()
    for number in numbers:
        line = api.get(f"/v1/lines/{number}", headers=manager).json()
        assert (line["state"], line["node_id"], line["personal_account_id"], line["tariff"]) == (
            "ready",
            account["id"],
            account["id"],
            "IOT-S",
        )
        iccid, imsi = line["sim"]["iccid"], line["sim"]["imsi"]
        assert stock.get(iccid) == imsi and line["sim"]["state"] == "installed"
        iccids.add(iccid)
        held = subscriber(platform, number)  # registered in the HLR, not live yet
        assert (held.iccid, held.imsi, list(held.barrings)) == (iccid, imsi, ["not_activated"])
        left = api.get("/v1/numbers/free", params={"contains": number.lstrip("+")}, headers=manager)
        assert left.json()["items"] == []  # no longer in the pool
    assert len(iccids) == 3


def read_events(api: httpx.Client, manager: dict[str, str], operation_id: str, timeout: float) -> list[tuple[str, Any]]:
    """The server-sent events of an operation until the stream ends (failing after ``timeout`` seconds)."""
    events: list[tuple[str, Any]] = []
    deadline = time.monotonic() + timeout
    name = ""
    with api.stream(
        "GET",
        f"/v1/operations/{operation_id}/events",
        headers={**manager, "Accept": "text/event-stream"},
        timeout=httpx.Timeout(timeout, read=20),
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            assert time.monotonic() < deadline, f"the stream did not end within {timeout}s"
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def test_an_operations_event_stream_tells_its_progress_and_ends_with_its_final_state(
    platform: Platform, api: httpx.Client, manager: dict[str, str], account: dict[str, Any]
) -> None:
    numbers = import_lines(platform, account, 300)
    set_faults(platform, latency_ms=10)  # about three seconds in the network: several polls of the stream
    answer = api.post(
        "/v1/operations",
        json={"type": "block", "lines": numbers, "params": {"block_type": "voluntary"}},
        headers=manager,
    )
    assert answer.status_code == 202, answer.text
    operation_id = answer.json()["id"]

    events = read_events(api, manager, operation_id, timeout=90)
    names = [name for name, _ in events]
    assert names[0] == "progress" and names[-1] == "finished" and set(names) == {"progress", "finished"}
    assert all(body["id"] == operation_id for _, body in events)
    progress = [body for name, body in events if name == "progress"]
    assert len(progress) >= 2, names  # it changed while followed
    done = [body["counts"]["succeeded"] for body in progress]
    assert done == sorted(done)  # counts only grow
    final = events[-1][1]
    assert final["state"] == "completed" and final["counts"]["succeeded"] == 300
    assert final == api.get(f"/v1/operations/{operation_id}", headers=manager).json()
