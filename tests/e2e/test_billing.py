"""A personal account's money, end to end: billing opens its ledger account from accounts' event, money the
platform posts shows in the balance and the movements at the gateway, in the caller's language, and a customer
never reads another's."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2
from simfleet.netsim.v1 import payments_pb2, payments_pb2_grpc, usage_pb2, usage_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_LINES_PREFIX, DEMO_MANAGER, demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from simfleet_runtime.validation import normalize_email
from tests.e2e.conftest import OTHER_MANAGER_PASSWORD, OTHER_MANAGER_PHONE, onboard_customer, onboard_other_customer
from tests.helpers import mailbox, pay_in, problem

HOLDS_MANAGER = "+79996690001"
HOLDS_PASSWORD = "Holds-Passw0rd-2026"
PROMISED_MANAGER = "+79996730001"
PROMISED_PASSWORD = "Promised-Passw0rd-2026"


def sign_in(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    answer = api.post("/v1/auth/password", json={"phone": phone, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def post_payment(platform: Platform, customer_id: str, account_node: str, amount: int, entry_id: str) -> Any:
    """A payment onto the account, and the provider's retry of it: posted once."""
    first = pay_in(platform, customer_id, account_node, amount, entry_id)
    again = pay_in(platform, customer_id, account_node, amount, entry_id)
    assert (first.replayed, again.replayed) == (False, True)
    return first


def test_money_posted_to_a_personal_account_shows_at_the_gateway_once(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    nodes = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 10}, headers=manager).json()["items"]
    account = nodes[0]
    path = f"/v1/personal-accounts/{account['id']}"
    # billing opened its ledger account when accounts said the personal account was created
    wait_until(lambda: api.get(f"{path}/balance", headers=manager).status_code == 200, timeout=15)
    before = api.get(f"{path}/balance", headers=manager).json()
    assert (before["currency"], before["settlement_method"], before["floor"]["amount"]) == ("RUB", "prepaid", 0)

    customer_id = api.get("/v1/me", headers=manager).json()["customer_id"]
    post_payment(platform, customer_id, account["id"], 150_000, f"payment:e2e-{account['id']}")

    after = api.get(f"{path}/balance", headers={**manager, "Accept-Language": "ru"}).json()
    assert after["balance"]["amount"] == before["balance"]["amount"] + 150_000
    assert after["balance"]["exponent"] == 2 and after["balance"]["formatted"].endswith("₽")
    movements = api.get(f"{path}/postings", params={"limit": 5}, headers=manager).json()
    latest = movements["items"][0]
    assert (latest["entry_id"], latest["kind"], latest["amount"]["amount"]) == (
        f"payment:e2e-{account['id']}",
        "payment",
        150_000,
    )
    assert latest["balance_after"]["amount"] == after["balance"]["amount"]
    assert [m["entry_id"] for m in movements["items"]].count(latest["entry_id"]) == 1

    # Another customer's manager: the account is not there at all.
    onboard_other_customer(platform)
    other = sign_in(api, OTHER_MANAGER_PHONE, OTHER_MANAGER_PASSWORD)
    for answer in (
        api.get(f"{path}/balance", headers=other),
        api.get(f"{path}/postings", headers=other),
        api.put(f"{path}/bill-delivery", json={"email": "thief@other.example"}, headers=other),
    ):
        problem(answer, 404)
    assert api.get(f"{path}/balance", headers=manager).json()["bill_email"] is None


def test_bad_input_on_a_personal_account_is_a_4xx_that_changes_nothing(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    account = api.get("/v1/nodes", params={"kind": "personal_account"}, headers=manager).json()["items"][1]
    path = f"/v1/personal-accounts/{account['id']}"
    wait_until(lambda: api.get(f"{path}/balance", headers=manager).status_code == 200, timeout=15)
    for answer, statuses in (
        (api.put(f"{path}/bill-delivery", json={"email": "not an address"}, headers=manager), {422}),
        (api.get(f"{path}/postings", params={"cursor": "forged"}, headers=manager), {422}),
        (api.get("/v1/personal-accounts/%00/balance", headers=manager), {404, 422}),
        (api.get(f"/v1/personal-accounts/{'x' * 65}/balance", headers=manager), {422}),
    ):
        assert answer.status_code in statuses, (answer.request.url, answer.text)
        problem(answer, answer.status_code)
    assert api.get(f"{path}/balance", headers=manager).json()["bill_email"] is None
    changed = api.put(f"{path}/bill-delivery", json={"email": "Bills@Demo.Example"}, headers=manager)
    assert changed.status_code == 200, changed.text
    assert changed.json()["bill_email"] == normalize_email("Bills@Demo.Example")


def test_money_moves_between_a_customers_personal_accounts_once_and_never_below_the_floor(
    platform: Platform, api: httpx.Client
) -> None:
    """BI-11: atomically, once per Idempotency-Key, never below the source's floor, never to another customer."""
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    source, target = api.get("/v1/nodes", params={"kind": "personal_account"}, headers=manager).json()["items"][2:4]
    for node in (source, target):
        wait_until(
            lambda n=node: api.get(f"/v1/personal-accounts/{n['id']}/balance", headers=manager).status_code == 200
        )
    customer_id = api.get("/v1/me", headers=manager).json()["customer_id"]
    post_payment(platform, customer_id, source["id"], 50_000, f"payment:e2e-transfer-{source['id']}")

    def balances() -> tuple[int, int]:
        return tuple(  # type: ignore[return-value]
            api.get(f"/v1/personal-accounts/{n['id']}/balance", headers=manager).json()["balance"]["amount"]
            for n in (source, target)
        )

    before = balances()
    path = f"/v1/personal-accounts/{source['id']}/transfers"
    body = {"to_personal_account_id": target["id"], "amount": 20_000, "currency": "RUB", "description": "e2e"}
    key = {**manager, "Idempotency-Key": f"e2e-transfer-{source['id']}"}
    first = api.post(path, json=body, headers=key)
    again = api.post(path, json=body, headers=key)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert balances() == (before[0] - 20_000, before[1] + 20_000)
    movements = api.get(f"/v1/personal-accounts/{target['id']}/postings", headers=manager).json()["items"]
    assert (movements[0]["entry_id"], movements[0]["kind"], movements[0]["amount"]["amount"]) == (
        first.json()["id"],
        "transfer",
        20_000,
    )

    # More than the source holds, another body under the key, another customer's account: refused, nothing moves.
    problem(api.post(path, json={**body, "amount": before[0]}, headers=manager), 409)
    problem(api.post(path, json={**body, "amount": 1}, headers=key), 422)
    other = onboard_other_customer(platform)
    elsewhere = next(n.id for n in other.nodes if n.kind == hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT)
    problem(api.post(path, json={**body, "to_personal_account_id": elsewhere}, headers=manager), 404)
    assert balances() == (before[0] - 20_000, before[1] + 20_000)


def test_the_networks_usage_shows_on_the_line_and_its_balance_falls(platform: Platform, api: httpx.Client) -> None:
    """netsim's mediation makes SMS for a line past its allowance; billing rates them once, the line's usage and
    its personal account's balance show it at the gateway, and the catalogue prices it."""
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    lines = api.get("/v1/lines", params={"state": "active", "limit": 50}, headers=manager).json()["items"]
    line = next(item for item in lines if item["msisdn"].startswith(DEMO_LINES_PREFIX) and "sms" in item["services"])
    usage_url = f"/v1/lines/{line['msisdn']}/usage"
    wait_until(lambda: api.get(usage_url, headers=manager).status_code == 200, 30, "billing's copy of the line")
    before = api.get(usage_url, headers=manager).json()
    assert before["tariff_code"] == line["tariff"] and before["account"] is not None
    sms_left = next(a for a in before["allowances"] if a["kind"] == "sms")["remaining"]
    sent_before = next(u for u in before["usage"] if u["kind"] == "sms")["records"]

    count = sms_left + 20  # the allowance, then 20 that are paid for
    with grpc.insecure_channel(platform.netsim_target) as channel:
        made = usage_pb2_grpc.UsageServiceStub(channel).GenerateUsage(
            usage_pb2.GenerateUsageRequest(
                count=count, kinds=[usage_pb2.USAGE_KIND_SMS], msisdn_prefixes=[line["msisdn"]]
            ),
            timeout=30,
        )
    assert made.generated == count

    def rated() -> dict[str, Any] | None:
        found: dict[str, Any] = api.get(usage_url, headers=manager).json()
        sms = next(u for u in found["usage"] if u["kind"] == "sms")
        return found if sms["records"] >= sent_before + count else None

    after = wait_until(rated, 60, "the SMS rated")
    sms = next(u for u in after["usage"] if u["kind"] == "sms")
    assert sms["records"] == sent_before + count
    assert next(a for a in after["allowances"] if a["kind"] == "sms")["remaining"] == 0
    charged = after["charged"]["amount"] - before["charged"]["amount"]
    tariffs = {t["code"]: t for t in api.get("/v1/tariffs", headers=manager).json()["tariffs"]}
    home = {(p["kind"], p["zone"]): p["price"]["amount"] for p in tariffs[line["tariff"]]["home_prices"]}
    # 20 paid SMS, each priced by its zone (netsim sends on-net and national ones to a line without international).
    assert 20 * home[("sms", "on_net")] <= charged <= 20 * home[("sms", "national")]
    assert after["account"]["balance"]["amount"] == before["account"]["balance"]["amount"] - charged
    assert len(after["last_records"]) == 15 and after["last_records"][0]["kind"] == "sms"
    assert [r["started_at"] for r in after["last_records"]] == sorted(
        (r["started_at"] for r in after["last_records"]), reverse=True
    )


def test_a_top_up_by_card_is_credited_once_through_the_networks_acquirer(platform: Platform, api: httpx.Client) -> None:
    """A card payment through netsim's acquirer raises the balance once (a retry with its key pays nothing more),
    a declined card pays nothing, and a payment whose answers the acquirer loses is credited once it answers."""
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    nodes = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 10}, headers=manager).json()["items"]
    account = nodes[-1]["id"]
    path = f"/v1/personal-accounts/{account}"
    wait_until(lambda: api.get(f"{path}/balance", headers=manager).status_code == 200, 15, "the ledger account")

    def balance() -> int:
        return int(api.get(f"{path}/balance", headers=manager).json()["balance"]["amount"])

    before = balance()
    body = {"amount": 250_000, "currency": "RUB", "card_token": "tok_e2e_visa"}
    key = {**manager, "Idempotency-Key": f"e2e-top-up-{account}"}
    paid = api.post(f"{path}/payments", json=body, headers=key)
    assert paid.status_code == 201, paid.text
    payment = paid.json()["payment"]
    assert (payment["state"], payment["kind"]) == ("credited", "card")
    assert paid.json()["account"]["balance"]["amount"] == before + 250_000 == balance()
    again = api.post(f"{path}/payments", json=body, headers=key)
    assert again.status_code == 200 and again.json()["payment"]["id"] == payment["id"]
    assert balance() == before + 250_000
    assert api.get(paid.headers["location"], headers=manager).json()["state"] == "credited"

    with grpc.insecure_channel(platform.netsim_target) as channel:
        acquirer = payments_pb2_grpc.PaymentProviderServiceStub(channel)
        acquirer.SetPaymentFaults(
            payments_pb2.SetPaymentFaultsRequest(faults=payments_pb2.PaymentFaults(declining_cards=["tok_e2e_broke"])),
            timeout=10,
        )
        declined = api.post(f"{path}/payments", json={**body, "card_token": "tok_e2e_broke"}, headers=manager)
        assert declined.status_code == 201, declined.text
        assert (declined.json()["payment"]["state"], declined.json()["payment"]["reason"]) == (
            "declined",
            "insufficient_funds",
        )
        assert balance() == before + 250_000

        # The acquirer does its work and loses every answer: the payment waits, pending, until it answers again.
        acquirer.SetPaymentFaults(
            payments_pb2.SetPaymentFaultsRequest(faults=payments_pb2.PaymentFaults(lost_answer_rate=1.0)), timeout=10
        )
        try:
            waiting = api.post(f"{path}/payments", json={**body, "amount": 1_000}, headers=manager)
            assert waiting.status_code == 201, waiting.text
            assert waiting.json()["payment"]["state"] == "pending"
        finally:
            acquirer.SetPaymentFaults(
                payments_pb2.SetPaymentFaultsRequest(faults=payments_pb2.PaymentFaults()), timeout=10
            )
    settled = wait_until(
        lambda: api.get(waiting.headers["location"], headers=manager).json()["state"] == "credited" or None,
        30,
        "the reconciler crediting the payment",
    )
    assert settled and balance() == before + 251_000
    listed = api.get(f"{path}/payments", params={"state": "credited", "limit": 10}, headers=manager).json()["items"]
    assert {p["id"] for p in listed} >= {payment["id"], waiting.json()["payment"]["id"]}
    onboard_other_customer(platform)
    stranger = sign_in(api, OTHER_MANAGER_PHONE, OTHER_MANAGER_PASSWORD)
    problem(api.post(f"{path}/payments", json=body, headers=stranger), 404)
    problem(api.get(paid.headers["location"], headers=stranger), 404)


def test_an_account_that_runs_out_has_its_lines_blocked_and_a_payment_lifts_it(
    platform: Platform, api: httpx.Client
) -> None:
    """A prepaid account with nothing on it: the network's usage (data abroad, which no allowance covers) takes it
    below zero, billing holds it and inventory blocks its lines financially, as the system; a top-up by card
    brings it back and the block is lifted."""
    # A customer of its own: the demo's tree and accounts stay as the other tests count them.
    onboarded = onboard_customer(
        platform, key="holds", n=69, name="Roaming Ventures LLC", phone=HOLDS_MANAGER, password=HOLDS_PASSWORD
    )
    manager = sign_in(api, HOLDS_MANAGER, HOLDS_PASSWORD)
    customer_id = onboarded.customer.id
    operator = ((OPERATOR_KEY, platform.config.operator_key),)
    parent = next(n.id for n in onboarded.nodes if n.kind == hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT)
    with grpc.insecure_channel(platform.accounts_target) as channel:
        for kind, number in (
            (hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT, "4077700001"),
            (hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT, "4077700002"),
        ):
            parent = (
                accounts_admin_grpc.AccountsAdminServiceStub(channel)
                .CreateAccount(
                    accounts_admin.CreateAccountRequest(
                        customer_id=customer_id, parent_id=parent, kind=kind, name="Roaming team", account_number=number
                    ),
                    metadata=operator,
                    timeout=10,
                )
                .node.id
            )
    path = f"/v1/personal-accounts/{parent}"
    wait_until(lambda: api.get(f"{path}/balance", headers=manager).status_code == 200, 30, "the ledger account")
    msisdn = "+79997770001"
    with grpc.insecure_channel(platform.inventory_target) as channel:
        inventory_admin_grpc.InventoryAdminServiceStub(channel).ImportLines(
            inventory_admin.ImportLinesRequest(
                customer_id=customer_id,
                lines=[
                    inventory_admin.ImportedLine(
                        msisdn=msisdn,
                        sim=demo_sim(7_770_001),
                        node_id=parent,
                        personal_account_id=parent,
                        tariff_code="BIZ-S",
                        state=lines_pb2.LINE_STATE_ACTIVE,
                        services=["voice", "sms", "data", "roaming"],
                    )
                ],
            ),
            metadata=operator,
            timeout=30,
        )
    wait_until(lambda: api.get(f"/v1/lines/{msisdn}/usage", headers=manager).status_code == 200, 60, "the line")
    time.sleep(1.2)  # the mediation dates its records up to a second back: not before the line was billing's

    with grpc.insecure_channel(platform.netsim_target) as channel:
        network = usage_pb2_grpc.UsageServiceStub(channel)
        before = network.GetUsageSettings(usage_pb2.GetUsageSettingsRequest(), timeout=10).settings
        abroad = usage_pb2.UsageSettings()
        abroad.CopyFrom(before)
        abroad.roaming_share = 1.0
        network.SetUsageSettings(usage_pb2.SetUsageSettingsRequest(settings=abroad), timeout=10)
        try:
            made = network.GenerateUsage(
                usage_pb2.GenerateUsageRequest(count=3, kinds=[usage_pb2.USAGE_KIND_DATA], msisdn_prefixes=[msisdn]),
                timeout=30,
            )
        finally:
            network.SetUsageSettings(usage_pb2.SetUsageSettingsRequest(settings=before), timeout=10)
    assert made.generated == 3

    def financial(number: str) -> bool:
        line = api.get(f"/v1/lines/{number}", headers=manager).json()
        return any(block["type"] == "financial" for block in line["blocks"])

    wait_until(lambda: financial(msisdn), 60, "the line blocked financially")
    balance = api.get(f"{path}/balance", headers=manager).json()["balance"]["amount"]
    assert balance < 0
    made_by = api.get("/v1/operations", params={"limit": 20}, headers=manager).json()["items"]
    assert any(op["type"] == "block" and op["requested_by"] == "system:billing" for op in made_by)

    paid = api.post(
        f"{path}/payments",
        json={"amount": -balance + 10_000, "currency": "RUB", "card_token": "tok_e2e_rescue"},
        headers=manager,
    )
    assert paid.status_code == 201 and paid.json()["payment"]["state"] == "credited", paid.text
    wait_until(lambda: not financial(msisdn), 60, "the financial block lifted")
    assert api.get(f"/v1/lines/{msisdn}", headers=manager).json()["state"] == "active"


def test_a_promised_payment_raises_the_balance_and_is_taken_back_when_due(
    platform: Platform, api: httpx.Client
) -> None:
    """A customer takes a promised payment: the balance rises at once and falls back when it is due (about three
    seconds in these tests); the customer also chooses its account's settlement method for a later day."""
    onboarded = onboard_customer(
        platform, key="promised", n=73, name="Promise Keepers LLC", phone=PROMISED_MANAGER, password=PROMISED_PASSWORD
    )
    manager = sign_in(api, PROMISED_MANAGER, PROMISED_PASSWORD)
    parent = next(n.id for n in onboarded.nodes if n.kind == hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT)
    with grpc.insecure_channel(platform.accounts_target) as channel:
        for kind, number in (
            (hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT, "4077300001"),
            (hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT, "4077300002"),
        ):
            parent = (
                accounts_admin_grpc.AccountsAdminServiceStub(channel)
                .CreateAccount(
                    accounts_admin.CreateAccountRequest(
                        customer_id=onboarded.customer.id,
                        parent_id=parent,
                        kind=kind,
                        name="Promises",
                        account_number=number,
                    ),
                    metadata=((OPERATOR_KEY, platform.config.operator_key),),
                    timeout=10,
                )
                .node.id
            )
    path = f"/v1/personal-accounts/{parent}"
    wait_until(lambda: api.get(f"{path}/balance", headers=manager).status_code == 200, 30, "the ledger account")

    def balance() -> int:
        return int(api.get(f"{path}/balance", headers=manager).json()["balance"]["amount"])

    assert balance() == 0
    key = {**manager, "Idempotency-Key": f"e2e-promise-{parent}"}
    taken = api.post(f"{path}/promised-payments", json={"amount": 50_000}, headers=key)
    assert taken.status_code == 201, taken.text
    assert taken.json()["account"]["balance"]["amount"] == 50_000
    promised = taken.json()["promised_payment"]
    assert (promised["status"], promised["amount"]["amount"]) == ("open", 50_000)
    again = api.post(f"{path}/promised-payments", json={"amount": 50_000}, headers=key)
    assert again.status_code == 200 and again.json()["promised_payment"]["id"] == promised["id"]
    refused = api.post(f"{path}/promised-payments", json={"amount": 100}, headers=manager)
    assert problem(refused, 409)["reason"] == "PROMISED_PAYMENT_OPEN"

    repaid = wait_until(
        lambda: api.get(taken.headers["location"], headers=manager).json()["status"] == "repaid" or None,
        20,
        "the promised payment taken back when due",
    )
    assert repaid and balance() == 0
    listed = api.get(f"{path}/promised-payments", headers=manager).json()["items"]
    assert [(p["id"], p["status"], p["repaid_by"]) for p in listed] == [(promised["id"], "repaid", "due")]

    chosen = api.put(
        f"{path}/settlement-method",
        json={"method": "postpaid", "effective_from": (datetime.now(UTC).date() + timedelta(days=30)).isoformat()},
        headers=manager,
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["change"]["applied_at"] is None
    read = api.get(f"{path}/settlement-method", headers=manager).json()
    assert read["account"]["settlement_method"] == "prepaid"
    assert read["account"]["scheduled_change"]["settlement_method"] == "postpaid"
    problem(
        api.put(
            f"{path}/settlement-method", json={"method": "credit", "effective_from": "2020-01-01"}, headers=manager
        ),
        422,
    )


def test_a_line_past_its_spending_limit_is_blocked_and_raising_the_limit_lifts_it(
    platform: Platform, api: httpx.Client
) -> None:
    """BI-10: a limit that blocks, on a line of an account with money on it: the network's usage takes the line
    past the limit, billing asks inventory to block it financially, as the system; the limit raised, the block
    is lifted."""
    onboarded = onboard_customer(
        platform, key="holds", n=69, name="Roaming Ventures LLC", phone=HOLDS_MANAGER, password=HOLDS_PASSWORD
    )
    manager = sign_in(api, HOLDS_MANAGER, HOLDS_PASSWORD)
    customer_id = onboarded.customer.id
    operator = ((OPERATOR_KEY, platform.config.operator_key),)
    parent = next(n.id for n in onboarded.nodes if n.kind == hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT)
    with grpc.insecure_channel(platform.accounts_target) as channel:
        for kind, number in (
            (hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT, "4077700003"),
            (hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT, "4077700004"),
        ):
            parent = (
                accounts_admin_grpc.AccountsAdminServiceStub(channel)
                .CreateAccount(
                    accounts_admin.CreateAccountRequest(
                        customer_id=customer_id, parent_id=parent, kind=kind, name="Limits team", account_number=number
                    ),
                    metadata=operator,
                    timeout=10,
                )
                .node.id
            )
    path = f"/v1/personal-accounts/{parent}"
    wait_until(lambda: api.get(f"{path}/balance", headers=manager).status_code == 200, 30, "the ledger account")
    pay_in(platform, customer_id, parent, 100_000_000, f"payment:e2e-limits-{parent}")  # never runs out here
    msisdn = "+79997770002"
    with grpc.insecure_channel(platform.inventory_target) as channel:
        inventory_admin_grpc.InventoryAdminServiceStub(channel).ImportLines(
            inventory_admin.ImportLinesRequest(
                customer_id=customer_id,
                lines=[
                    inventory_admin.ImportedLine(
                        msisdn=msisdn,
                        sim=demo_sim(7_770_002),
                        node_id=parent,
                        personal_account_id=parent,
                        tariff_code="BIZ-S",
                        state=lines_pb2.LINE_STATE_ACTIVE,
                        services=["voice", "sms", "data", "roaming"],
                    )
                ],
            ),
            metadata=operator,
            timeout=30,
        )
    wait_until(lambda: api.get(f"/v1/lines/{msisdn}/usage", headers=manager).status_code == 200, 60, "the line")
    made = api.post(
        "/v1/spending-limits",
        json={"scope": "line", "msisdn": msisdn, "amount": 1, "currency": "RUB", "action": "block", "notify": []},
        headers={**manager, "Idempotency-Key": f"e2e-limit-{msisdn}"},
    )
    assert made.status_code == 201, made.text
    limit = made.json()
    assert (limit["node_id"], limit["reached"], limit["spent"]["amount"]) == (parent, False, 0)
    time.sleep(1.2)  # the mediation dates its records up to a second back: not before the line was billing's

    with grpc.insecure_channel(platform.netsim_target) as channel:
        network = usage_pb2_grpc.UsageServiceStub(channel)
        before = network.GetUsageSettings(usage_pb2.GetUsageSettingsRequest(), timeout=10).settings
        abroad = usage_pb2.UsageSettings()
        abroad.CopyFrom(before)
        abroad.roaming_share = 1.0
        network.SetUsageSettings(usage_pb2.SetUsageSettingsRequest(settings=abroad), timeout=10)
        try:
            generated = network.GenerateUsage(
                usage_pb2.GenerateUsageRequest(count=1, kinds=[usage_pb2.USAGE_KIND_DATA], msisdn_prefixes=[msisdn]),
                timeout=30,
            )
        finally:
            network.SetUsageSettings(usage_pb2.SetUsageSettingsRequest(settings=before), timeout=10)
    assert generated.generated == 1

    def financial() -> bool:
        line = api.get(f"/v1/lines/{msisdn}", headers=manager).json()
        return any(block["type"] == "financial" for block in line["blocks"])

    wait_until(financial, 60, "the line blocked financially")
    read = api.get(f"/v1/spending-limits/{limit['id']}", headers=manager).json()
    assert read["reached"] is True and read["spent"]["amount"] > 0
    assert api.get(f"{path}/balance", headers=manager).json()["balance"]["amount"] > 0  # the limit, not the money
    made_by = api.get("/v1/operations", params={"limit": 20}, headers=manager).json()["items"]
    assert any(op["type"] == "block" and op["requested_by"] == "system:billing" for op in made_by)

    raised = api.put(
        f"/v1/spending-limits/{limit['id']}",
        json={"amount": 10**12, "currency": "RUB", "action": "block", "notify": []},
        headers=manager,
    )
    assert raised.status_code == 200 and raised.json()["reached"] is False, raised.text
    wait_until(lambda: not financial(), 60, "the financial block lifted")
    assert api.get(f"/v1/lines/{msisdn}", headers=manager).json()["state"] == "active"


def test_a_data_package_bought_for_a_demo_line_is_charged_once_and_shows_on_its_usage(
    platform: Platform, api: httpx.Client
) -> None:
    """BI-7: the manager buys a package for a line; its personal account pays the price once (a retry with the key
    buys nothing more), the line's usage lists the package, the history and the receipt show the purchase, and the
    receipt reaches the mailbox given."""
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    lines = api.get("/v1/lines", params={"state": "active", "limit": 50}, headers=manager).json()["items"]
    line = next(item for item in lines if item["msisdn"].startswith(DEMO_LINES_PREFIX) and "data" in item["services"])
    usage_url = f"/v1/lines/{line['msisdn']}/usage"
    wait_until(lambda: api.get(usage_url, headers=manager).status_code == 200, 30, "billing's copy of the line")
    before = api.get(usage_url, headers=manager).json()
    account = before["personal_account_id"]
    customer_id = api.get("/v1/me", headers=manager).json()["customer_id"]
    pay_in(platform, customer_id, account, 15_000, f"payment:e2e-package-{account}")  # what the package costs
    balance_url = f"/v1/personal-accounts/{account}/balance"
    start = api.get(balance_url, headers=manager).json()["balance"]["amount"]

    offers = {o["code"]: o for o in api.get("/v1/packages/offers", headers=manager).json()["items"]}
    price = offers["DATA-1G"]["price"]["amount"]
    body = {"offer_code": "DATA-1G", "msisdns": [line["msisdn"]], "receipt_email": "packages@e2e.example"}
    headers = {**manager, "Idempotency-Key": f"e2e-package-{line['msisdn']}"}
    bought = api.post("/v1/packages/purchases", json=body, headers=headers)
    assert bought.status_code == 201, bought.text
    again = api.post("/v1/packages/purchases", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == bought.json()["id"]
    assert api.get(balance_url, headers=manager).json()["balance"]["amount"] == start - price

    after = api.get(usage_url, headers=manager).json()
    package = next(p for p in after["packages"] if p["offer_code"] == "DATA-1G")
    assert package["remaining"] == offers["DATA-1G"]["bytes"] and package["scope"] == "line"
    purchase_id = bought.json()["id"]
    history = api.get("/v1/packages/purchases", params={"msisdn": line["msisdn"]}, headers=manager).json()["items"]
    assert purchase_id in [p["id"] for p in history]
    receipt = api.get(f"/v1/packages/purchases/{purchase_id}/receipt", headers=manager)
    assert receipt.status_code == 200 and line["msisdn"] in receipt.text and purchase_id in receipt.text
    mail = wait_until(lambda: mailbox(platform, "packages@e2e.example"), 15, "the receipt email")
    assert purchase_id in str(mail[0])

    # Another customer's manager: neither the line nor the purchase is there.
    onboard_other_customer(platform)
    other = sign_in(api, OTHER_MANAGER_PHONE, OTHER_MANAGER_PASSWORD)
    problem(api.post("/v1/packages/purchases", json=body, headers=other), 404)
    problem(api.get(f"/v1/packages/purchases/{purchase_id}", headers=other), 404)
