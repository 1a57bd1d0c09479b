"""Money for a group of lines, end to end through the gateway: a group data package (BI-8) that the lines under a
node share, a spending limit that warns the managers who chose it (BI-10), and a group's promised payments when its
personal accounts hold roubles and rials (BI-9).

Each test has a customer of its own, onboarded the back-office way, with a group (a business account), a personal
account in it that pays, and two lines on IOT-S (SMS and data; 500 MiB of data included a month).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2
from simfleet.netsim.v1 import usage_pb2, usage_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from tests.e2e.conftest import onboard_customer
from tests.helpers import inbox, mailbox, password_bearer, pay_in

pytestmark = pytest.mark.e2e

PASSWORD = "Groups-Passw0rd-2026"
TARIFF = "IOT-S"
DATA_INCLUDED = 500 * 2**20
"""IOT-S's data allowance a month, in bytes."""


@dataclass(frozen=True)
class Group:
    manager: dict[str, str]
    manager_email: str
    customer_id: str
    node_id: str
    """The business account whose lines form the group."""
    personal_account_id: str
    msisdns: tuple[str, str]


def make_group(
    platform: Platform, api: httpx.Client, *, key: str, n: int, phone: str, msisdns: tuple[str, str]
) -> Group:
    """A customer (idempotent by ``key``) with a business account, a personal account under it and two active
    lines of that personal account, known to billing."""
    onboarded = onboard_customer(platform, key=key, n=n, name=f"{key.title()} LLC", phone=phone, password=PASSWORD)
    customer_id = onboarded.customer.id
    operator = ((OPERATOR_KEY, platform.config.operator_key),)
    parent = next(node.id for node in onboarded.nodes if node.kind == hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT)
    made = []
    with grpc.insecure_channel(platform.accounts_target) as channel:
        for kind, number in (
            (hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT, f"40{n:03d}00001"),
            (hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT, f"40{n:03d}00002"),
        ):
            parent = (
                accounts_admin_grpc.AccountsAdminServiceStub(channel)
                .CreateAccount(
                    accounts_admin.CreateAccountRequest(
                        customer_id=customer_id,
                        parent_id=parent,
                        kind=kind,
                        name=f"Group {number}",
                        account_number=number,
                    ),
                    metadata=operator,
                    timeout=10,
                )
                .node.id
            )
            made.append(parent)
    node_id, personal = made

    manager = {**password_bearer(api, phone, PASSWORD), "Accept-Language": "en"}
    balance = f"/v1/personal-accounts/{personal}/balance"
    wait_until(lambda: api.get(balance, headers=manager).status_code == 200, 30, "the ledger account")
    with grpc.insecure_channel(platform.inventory_target) as channel:
        inventory_admin_grpc.InventoryAdminServiceStub(channel).ImportLines(
            inventory_admin.ImportLinesRequest(
                customer_id=customer_id,
                lines=[
                    inventory_admin.ImportedLine(
                        msisdn=msisdn,
                        sim=demo_sim(n * 100_000 + i),
                        node_id=personal,
                        personal_account_id=personal,
                        tariff_code=TARIFF,
                        state=lines_pb2.LINE_STATE_ACTIVE,
                        services=["sms", "data"],
                    )
                    for i, msisdn in enumerate(msisdns)
                ],
            ),
            metadata=operator,
            timeout=30,
        )
    for msisdn in msisdns:
        url = f"/v1/lines/{msisdn}/usage"
        wait_until(lambda url=url: api.get(url, headers=manager).status_code == 200, 60, f"billing's copy of {msisdn}")
    return Group(manager, f"boss@{key}.example", customer_id, node_id, personal, msisdns)


def add_rial_account(platform: Platform, api: httpx.Client, group: Group, *, number: str) -> str:
    """A second personal account under the group's business account, its money kept in rials; its node id.

    The platform opens every personal account's ledger account in its customer's currency: one in another currency
    is the operator's doing, not the customer's. So the test makes one as billing would keep it: the new account's
    ledger account, still without a single posting, is switched to IRR in billing's own database.
    """
    operator = ((OPERATOR_KEY, platform.config.operator_key),)
    with grpc.insecure_channel(platform.accounts_target) as channel:
        node_id: str = (
            accounts_admin_grpc.AccountsAdminServiceStub(channel)
            .CreateAccount(
                accounts_admin.CreateAccountRequest(
                    customer_id=group.customer_id,
                    parent_id=group.node_id,
                    kind=hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT,
                    name=f"Rials {number}",
                    account_number=number,
                ),
                metadata=operator,
                timeout=10,
            )
            .node.id
        )
    balance = f"/v1/personal-accounts/{node_id}/balance"
    wait_until(lambda: api.get(balance, headers=group.manager).status_code == 200, 30, "the ledger account")

    async def to_rials() -> int:
        engine = create_async_engine(platform.database_url("billing"))
        try:
            async with engine.begin() as connection:
                changed = await connection.execute(
                    sa.text(
                        "UPDATE ledger_accounts SET currency = 'IRR' "
                        "WHERE personal_account_id = :node AND currency = 'RUB' AND postings_count = 0"
                    ),
                    {"node": node_id},
                )
        finally:
            await engine.dispose()
        return int(changed.rowcount)

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        assert thread.submit(lambda: asyncio.run(to_rials())).result() == 1
    assert api.get(balance, headers=group.manager).json()["balance"]["formatted"] == "IRR0"
    return node_id


def generate(platform: Platform, msisdn: str, kind: int, count: int) -> int:
    """``count`` records of ``kind`` made by the network for the line now; how many it made (none until the
    network's HLR holds the line)."""
    with grpc.insecure_channel(platform.netsim_target) as channel:
        made = usage_pb2_grpc.UsageServiceStub(channel).GenerateUsage(
            usage_pb2.GenerateUsageRequest(count=count, kinds=[kind], msisdn_prefixes=[msisdn]), timeout=30
        )
    return made.generated


def total(usage: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in usage["usage"] if t["kind"] == kind)
    return found


def test_a_group_package_is_bought_once_and_its_pool_is_shared_by_the_groups_lines(
    platform: Platform, api: httpx.Client
) -> None:
    """BI-8: the manager buys a group package for the business account, paid by its personal account: charged
    once (a retry with the key buys nothing more), listed once in the history; both lines of the group show the
    same package on their usage, and the data each uses past its own allowance comes out of that one pool, free."""
    group = make_group(
        platform, api, key="group-package", n=75, phone="+79997750001", msisdns=("+79997750011", "+79997750012")
    )
    manager, first = group.manager, group.msisdns[0]
    paid = 1_000_000
    pay_in(platform, group.customer_id, group.personal_account_id, paid, f"payment:e2e-group-{group.node_id}")
    offers = {o["code"]: o for o in api.get("/v1/packages/offers", headers=manager).json()["items"]}
    offer = offers["GROUP-50G"]
    assert offer["scope"] == "group"

    body = {
        "offer_code": "GROUP-50G",
        "group": {"node_id": group.node_id, "personal_account_id": group.personal_account_id},
    }
    headers = {**manager, "Idempotency-Key": f"e2e-group-package-{group.node_id}"}
    bought = api.post("/v1/packages/purchases", json=body, headers=headers)
    assert bought.status_code == 201, bought.text
    again = api.post("/v1/packages/purchases", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == bought.json()["id"]
    purchase = bought.json()
    assert (purchase["scope"], purchase["node_id"], purchase["quantity"]) == ("group", group.node_id, 1)
    assert purchase["amount"]["amount"] == offer["price"]["amount"] > 0
    history = api.get("/v1/packages/purchases", headers=manager).json()["items"]
    assert [p["id"] for p in history] == [purchase["id"]]
    postings = api.get(
        f"/v1/personal-accounts/{group.personal_account_id}/postings", params={"limit": 50}, headers=manager
    ).json()["items"]
    assert [p["amount"]["amount"] for p in postings if p["kind"] == "package"] == [-offer["price"]["amount"]]

    def usage(msisdn: str) -> dict[str, Any]:
        answer = api.get(f"/v1/lines/{msisdn}/usage", headers=manager)
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    for msisdn in group.msisdns:
        (shared,) = usage(msisdn)["packages"]
        assert (shared["offer_code"], shared["scope"], shared["used"], shared["remaining"]) == (
            "GROUP-50G",
            "group",
            0,
            offer["bytes"],
        )

    # The network dates a record up to a second before it makes it: once it dates one of the first line's SMS a
    # second after the purchase, every record it makes from then on is dated after the package started.
    started = datetime.fromisoformat(purchase["created_at"])

    def dated_after_the_purchase() -> bool:
        generate(platform, first, usage_pb2.USAGE_KIND_SMS, 1)
        return any(
            r["kind"] == "sms" and datetime.fromisoformat(r["started_at"]) >= started + timedelta(seconds=1)
            for r in usage(first)["last_records"]
        )

    wait_until(dated_after_the_purchase, 60, "a record dated a second after the purchase", interval=0.2)

    made = dict.fromkeys(group.msisdns, 0)

    def both_past_their_allowance() -> dict[str, dict[str, Any]] | None:
        """Data sessions on each line until it has used more than its allowance, and all of them rated."""
        seen = {msisdn: usage(msisdn) for msisdn in group.msisdns}
        done = True
        for msisdn, found in seen.items():
            data = total(found, "data")
            if data["records"] < made[msisdn]:
                done = False  # still being rated
            elif data["units"] <= DATA_INCLUDED:
                made[msisdn] += generate(platform, msisdn, usage_pb2.USAGE_KIND_DATA, 40)
                done = False
        return seen if done else None

    seen = wait_until(both_past_their_allowance, 120, "both lines past their data allowance", interval=0.2)
    beyond = 0
    for msisdn, found in seen.items():
        data = total(found, "data")
        assert data["records"] == made[msisdn]
        assert data["units"] > data["included_units"] == DATA_INCLUDED
        assert data["charged"]["amount"] == 0  # past the allowance, the pool pays
        beyond += data["units"] - data["included_units"]
    pools = [found["packages"] for found in seen.values()]
    assert pools[0] == pools[1], "both lines see the one package, drawn by both"
    (pool,) = pools[0]
    assert pool["used"] == beyond and pool["remaining"] == offer["bytes"] - beyond

    charged = sum(total(found, kind)["charged"]["amount"] for found in seen.values() for kind in ("sms", "data"))
    balance = api.get(f"/v1/personal-accounts/{group.personal_account_id}/balance", headers=manager).json()
    assert balance["balance"]["amount"] == paid - offer["price"]["amount"] - charged


def test_a_spending_limit_that_warns_tells_the_managers_who_chose_it(platform: Platform, api: httpx.Client) -> None:
    """BI-10: a warning limit on the group and one on a line, reached by what the lines are charged (data packages
    bought for them): each sends its text, naming the line or the group, the money spent and the limit, by SMS to
    the phone numbers and by email to the addresses its manager chose; the lines stay in service."""
    group = make_group(
        platform, api, key="limit-warnings", n=76, phone="+79997760001", msisdns=("+79997760011", "+79997760012")
    )
    manager, (first, second) = group.manager, group.msisdns
    pay_in(platform, group.customer_id, group.personal_account_id, 1_000_000, f"payment:e2e-warn-{group.node_id}")
    price = {o["code"]: o for o in api.get("/v1/packages/offers", headers=manager).json()["items"]}["DATA-1G"]
    assert price["price"] == {"amount": 15_000, "currency": "RUB", "exponent": 2, "formatted": "RUB150.00"}
    colleague = "fleet-lead@limit-warnings.example"
    line_watch = "line-watch@limit-warnings.example"

    def create(body: dict[str, Any]) -> dict[str, Any]:
        made = api.post(
            "/v1/spending-limits", json=body, headers={**manager, "Idempotency-Key": f"e2e-warn-{body['scope']}"}
        )
        assert made.status_code == 201, made.text
        created: dict[str, Any] = made.json()
        assert (created["reached"], created["spent"]["amount"]) == (False, 0)
        return created

    on_group = create(
        {
            "scope": "node",
            "node_id": group.node_id,
            "amount": 20_000,
            "currency": "RUB",
            "action": "warn",
            "notify": ["+79997760001", group.manager_email, colleague],
        }
    )
    on_line = create(
        {
            "scope": "line",
            "msisdn": first,
            "amount": 10_000,
            "currency": "RUB",
            "action": "warn",
            "notify": [line_watch],
        }
    )

    def buy(msisdn: str) -> None:
        bought = api.post(
            "/v1/packages/purchases",
            json={"offer_code": "DATA-1G", "msisdns": [msisdn]},
            headers={**manager, "Idempotency-Key": f"e2e-warn-package-{msisdn}"},
        )
        assert bought.status_code == 201, bought.text

    def warnings_to(address: str) -> list[dict[str, Any]]:
        return [m for m in mailbox(platform, address) if m["subject"] == "SIMfleet: spending limit reached"]

    buy(first)  # 150.00 RUB: the line's limit (100.00) reached, the group's (200.00) not yet
    (message,) = wait_until(lambda: warnings_to(line_watch), 30, "the line limit's email")
    assert f"Spending limit reached for line {first}: 150.00 RUB spent in " in message["body"]
    assert "limit 100.00 RUB." in message["body"]
    assert api.get(f"/v1/spending-limits/{on_line['id']}", headers=manager).json()["reached"] is True
    read = api.get(f"/v1/spending-limits/{on_group['id']}", headers=manager).json()
    assert (read["reached"], read["spent"]["amount"]) == (False, 15_000)

    buy(second)  # 300.00 RUB under the group: its limit reached
    wanted = f"Spending limit reached for group {group.node_id}: 300.00 RUB spent in "

    def warned_by_sms() -> list[dict[str, Any]]:
        return [m for m in inbox(platform, "+79997760001") if m["text"].startswith(wanted)]

    (sms,) = wait_until(warned_by_sms, 30, "the group limit's SMS to the manager's phone")
    assert sms["text"].endswith("limit 200.00 RUB.")
    for address in (group.manager_email, colleague):
        (email,) = wait_until(lambda address=address: warnings_to(address), 30, f"the email to {address}")
        assert email["body"].startswith(wanted) and "limit 200.00 RUB." in email["body"]
    read = api.get(f"/v1/spending-limits/{on_group['id']}", headers=manager).json()
    assert (read["reached"], read["spent"]["amount"]) == (True, 30_000)
    for msisdn in group.msisdns:  # a warning, not a block
        line = api.get(f"/v1/lines/{msisdn}", headers=manager).json()
        assert line["state"] == "active" and not line["blocks"]


def test_a_group_promised_payment_takes_an_amount_per_currency(platform: Platform, api: httpx.Client) -> None:
    """BI-9 for a group whose personal accounts hold roubles and rials: one amount is ambiguous and refused (422
    naming both currencies, nothing taken), so is an amount for one currency only; an amount for each currency takes
    each account's own, in its currency, a retry with the key takes nothing more, and each account is then refused on
    its own for the promised payment it has open."""
    group = make_group(
        platform, api, key="promised-currencies", n=74, phone="+79997740001", msisdns=("+79997740011", "+79997740012")
    )
    roubles = group.personal_account_id
    rials = add_rial_account(platform, api, group, number="4007400003")
    path = f"/v1/nodes/{group.node_id}/promised-payments"

    def take(body: dict[str, Any], key: str) -> httpx.Response:
        return api.post(path, json=body, headers={**group.manager, "Idempotency-Key": key})

    def balances() -> dict[str, str]:
        return {
            node: api.get(f"/v1/personal-accounts/{node}/balance", headers=group.manager).json()["balance"]["formatted"]
            for node in (roubles, rials)
        }

    for ambiguous in ({"amount": 10_000}, {"amounts": {"RUB": 10_000}}):
        refused = take(ambiguous, "e2e-promised-ambiguous")
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["reason"] == "AMOUNT_PER_CURRENCY" and "IRR, RUB" in problem["detail"]
        assert [(e["field"], e["message"]) for e in problem["errors"]] == [
            ("amounts", "an amount for each of IRR, RUB")
        ]
    assert balances() == {roubles: "RUB0.00", rials: "IRR0"}

    each = {"amounts": {"RUB": 15_050, "IRR": 250_000}}
    taken = take(each, "e2e-promised-each")
    assert taken.status_code == 200, taken.text
    answer = taken.json()
    assert answer["refused"] == []
    assert sorted((p["personal_account_id"], p["amount"]["formatted"]) for p in answer["taken"]) == sorted(
        [(roubles, "RUB150.50"), (rials, "IRR250,000")]
    )
    again = take(each, "e2e-promised-each").json()
    assert sorted(p["id"] for p in again["taken"]) == sorted(p["id"] for p in answer["taken"])
    assert balances() == {roubles: "RUB150.50", rials: "IRR250,000"}

    open_already = take({"amounts": {"RUB": 100, "IRR": 100}}, "e2e-promised-again")
    assert open_already.status_code == 200, open_already.text
    assert open_already.json()["taken"] == []
    assert sorted((r["personal_account_id"], r["reason"]) for r in open_already.json()["refused"]) == sorted(
        [(roubles, "PROMISED_PAYMENT_OPEN"), (rials, "PROMISED_PAYMENT_OPEN")]
    )
    assert balances() == {roubles: "RUB150.50", rials: "IRR250,000"}
