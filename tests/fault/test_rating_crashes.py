"""billing's rater (the process that rates) is killed, then NATS is stopped, while 200,000 usage records are
being rated: after they come back every record is charged exactly once, and the charges sum to what this test
computes itself from the records and the catalogue's prices, to the kopeck."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from nats.aio.client import Client as Nats

from simfleet.events.v1 import netsim_pb2 as net_events
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2
from simfleet.netsim.v1 import usage_pb2 as net
from simfleet_devstack.platform import BILLING_RATER, Platform
from simfleet_devstack.seed import DEMO_MANAGER, demo_sim
from simfleet_runtime.bus import headers
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import NetsimSubjects
from tests.helpers import running_platform

pytestmark = pytest.mark.fault

RECORDS = 200_000
BATCH = 1_000
LINES = 20
MEBIBYTE = 1 << 20


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("rating_fault")
    with running_platform(data_dir, "rating_fault") as running:
        yield running


def sign_in(api: httpx.Client) -> dict[str, str]:
    answer = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def import_lines(platform: Platform, customer_id: str, account: str) -> list[str]:
    numbers = [f"+79995{n:06d}" for n in range(LINES)]
    with grpc.insecure_channel(platform.inventory_target) as channel:
        inventory_admin_grpc.InventoryAdminServiceStub(channel).ImportLines(
            inventory_admin.ImportLinesRequest(
                customer_id=customer_id,
                lines=[
                    inventory_admin.ImportedLine(
                        msisdn=number,
                        sim=demo_sim(7_000_000 + n),
                        node_id=account,
                        personal_account_id=account,
                        tariff_code="BIZ-S",
                        state=lines_pb2.LINE_STATE_ACTIVE,
                    )
                    for n, number in enumerate(numbers)
                ],
            ),
            metadata=((OPERATOR_KEY, platform.config.operator_key),),
            timeout=30,
        )
    return numbers


def prices(api: httpx.Client, auth: dict[str, str]) -> dict[tuple[str, str], int]:
    """(kind, zone) → price per unit, as the catalogue publishes BIZ-S."""
    tariffs = api.get("/v1/tariffs", headers=auth).json()["tariffs"]
    (biz_s,) = [t for t in tariffs if t["code"] == "BIZ-S"]
    found = {(p["kind"], p["zone"]): p["price"]["amount"] for p in biz_s["home_prices"]}
    found.update({(p["kind"], p["zone"]): p["price"]["amount"] for p in biz_s["roaming_prices"]})
    return found


def make_records(numbers: list[str], price: dict[tuple[str, str], int]) -> tuple[list[net.UsageRecord], int]:
    """International calls and SMS and data abroad (none of which any allowance covers), and their cost."""
    rng = random.Random(20261207)
    now = timestamp(datetime.now(UTC))
    records: list[net.UsageRecord] = []
    total = 0
    for n in range(RECORDS):
        msisdn = numbers[n % len(numbers)]
        choice = n % 3
        if choice == 0:
            seconds = rng.randint(1, 1800)
            record = net.UsageRecord(
                kind=net.USAGE_KIND_VOICE, zone=net.USAGE_ZONE_INTERNATIONAL, quantity=seconds, destination="+4930123"
            )
            total += -(-seconds // 60) * price[("voice", "international")]
        elif choice == 1:
            record = net.UsageRecord(kind=net.USAGE_KIND_SMS, zone=net.USAGE_ZONE_INTERNATIONAL, quantity=1)
            total += price[("sms", "international")]
        else:
            size = rng.randint(1, 50 * MEBIBYTE)
            record = net.UsageRecord(kind=net.USAGE_KIND_DATA, zone=net.USAGE_ZONE_NONE, quantity=size)
            record.roaming_country = "FR"
            total += -(-size * price[("data", "europe")] // MEBIBYTE)
        record.record_id = f"fault-{n}"
        record.msisdn = msisdn
        record.imsi = "250990000000000"
        record.started_at.CopyFrom(now)
        records.append(record)
    return records, total


async def publish(nats_url: str, records: list[net.UsageRecord]) -> None:
    """As the network's mediation does: batches with their own message ids; a few records also come again."""
    client = Nats()
    await client.connect(nats_url)
    js = client.jetstream(timeout=30)
    try:
        for start in range(0, len(records), BATCH):
            batch = net_events.UsageRecords(records=records[start : start + BATCH])
            await js.publish(
                NetsimSubjects.USAGE_RECORDED,
                batch.SerializeToString(),
                headers={headers.MSG_ID: f"fault-batch-{start}"},
            )
        # A resent batch (dropped by the stream) and records resent in a new batch (dropped by billing).
        await js.publish(
            NetsimSubjects.USAGE_RECORDED,
            net_events.UsageRecords(records=records[:BATCH]).SerializeToString(),
            headers={headers.MSG_ID: "fault-batch-0"},
        )
        await js.publish(
            NetsimSubjects.USAGE_RECORDED,
            net_events.UsageRecords(records=records[5 * BATCH : 5 * BATCH + 50]).SerializeToString(),
            headers={headers.MSG_ID: "fault-batch-again"},
        )
    finally:
        await client.close()


def pending_for_rating(platform: Platform) -> float:
    text = httpx.get(platform.metrics_urls()[BILLING_RATER], timeout=5).text
    prefix = 'simfleet_nats_consumer_pending_messages{consumer="billing-rating"} '
    found = [float(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix)]
    return found[0] if found else -1.0


def last_sequence(api: httpx.Client, auth: dict[str, str], account: str) -> int:
    found = api.get(f"/v1/personal-accounts/{account}/postings", params={"limit": 1}, headers=auth).json()["items"]
    return int(found[0]["sequence"]) if found else 0


def movements_since(api: httpx.Client, auth: dict[str, str], account: str, sequence: int) -> list[tuple[str, int]]:
    """The account's movements after ``sequence``: (kind, signed amount)."""
    moved: list[tuple[str, int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/v1/personal-accounts/{account}/postings", params=params, headers=auth).json()
        for item in page["items"]:
            if item["sequence"] <= sequence:
                return moved
            moved.append((item["kind"], item["amount"]["amount"]))
        cursor = page["next_cursor"]
        if not cursor:
            return moved


def fees_since(api: httpx.Client, auth: dict[str, str], account: str, sequence: int) -> int:
    return -sum(amount for kind, amount in movements_since(api, auth, account, sequence) if kind == "fee")


def rated_so_far(platform: Platform) -> float:
    text = httpx.get(platform.metrics_urls()[BILLING_RATER], timeout=5).text
    prefix = 'simfleet_billing_usage_records_total{kind="'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and 'outcome="rated"' in line
    )


def test_killing_billings_rater_then_nats_while_rating_charges_every_record_once(platform: Platform) -> None:
    with httpx.Client(base_url=platform.gateway_url, timeout=15) as api:
        auth = sign_in(api)
        customer_id = api.get("/v1/me", headers=auth).json()["customer_id"]
        nodes = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 1}, headers=auth).json()["items"]
        account = nodes[0]["id"]
        balance_url = f"/v1/personal-accounts/{account}/balance"
        wait_until(lambda: api.get(balance_url, headers=auth).status_code == 200, 30, "billing's ledger account")
        numbers = import_lines(platform, customer_id, account)
        wait_until(
            lambda: all(api.get(f"/v1/lines/{n}/usage", headers=auth).status_code == 200 for n in numbers),
            30,
            "billing's copy of the lines",
        )
        before = api.get(balance_url, headers=auth).json()["balance"]["amount"]
        first_sequence = last_sequence(api, auth, account)
        records, expected = make_records(numbers, prices(api, auth))
        asyncio.run(publish(platform.nats_url, records))

        # billing's rater dies mid-way (a batch's transaction is lost with it), comes back, then NATS goes away
        # and back.
        wait_until(lambda: rated_so_far(platform) >= 20_000, 120, "rating under way")
        platform.kill_service(BILLING_RATER)
        platform.start_service(BILLING_RATER)
        wait_until(lambda: rated_so_far(platform) >= 20_000, 120, "rating under way again")
        platform.stop_nats()
        time.sleep(1.0)  # billing's consumers lose the server mid-batch
        platform.start_nats()

        def settled() -> Any:
            balance = api.get(balance_url, headers=auth).json()["balance"]["amount"]
            return balance if before - balance - fees_since(api, auth, account, first_sequence) >= expected else None

        wait_until(settled, 300, "every record rated")
        # Nothing more is coming: whatever was delivered twice has been handled by now.
        wait_until(lambda: pending_for_rating(platform) == 0, 60, "billing's rating consumer drained")
        after = api.get(balance_url, headers=auth).json()["balance"]["amount"]
        # Monthly fees are charged when billing starts again (the day's share of the new lines): they are in the
        # account's movements under their own kind, and nothing else moved it.
        moved = movements_since(api, auth, account, first_sequence)
        assert {kind for kind, _ in moved} <= {"usage", "fee"}
        assert -sum(amount for kind, amount in moved if kind == "usage") == expected
        assert before - after == expected + fees_since(api, auth, account, first_sequence)
        # Nothing rejected, nothing twice: each line shows exactly its records.
        per_line = RECORDS // LINES
        for number in numbers[:3]:
            usage = api.get(f"/v1/lines/{number}/usage", headers=auth).json()
            assert sum(u["records"] for u in usage["usage"]) == per_line
