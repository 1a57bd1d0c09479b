"""Onboarding across services (AC-1, ID-9): accounts builds the tree, identity the manager with a grant in the token.

The demo customer was onboarded by the launcher's seed exactly as the
back-office does it; these tests follow it into identity and back: the
manager's invitation SMS, a token whose grant is the company node, and
accounts deciding from that token alone.
"""

from __future__ import annotations

import grpc
import httpx
import jwt
import pytest

from simfleet.accounts.v1 import admin_pb2, admin_pb2_grpc, hierarchy_pb2, hierarchy_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import (
    DEMO_DEPARTMENTS,
    DEMO_MANAGER,
    DEMO_TAX_NUMBER,
    with_inn_check_digit,
    with_ogrn_check_digit,
)
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from tests.helpers import inbox

pytestmark = pytest.mark.e2e


def sign_in(api: httpx.Client) -> str:
    response = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def demo_customer(platform: Platform) -> admin_pb2.Customer:
    with grpc.insecure_channel(platform.accounts_target) as channel:
        admin = admin_pb2_grpc.AccountsAdminServiceStub(channel)
        found = admin.ListCustomers(
            admin_pb2.ListCustomersRequest(query=DEMO_TAX_NUMBER),
            metadata=((OPERATOR_KEY, platform.config.operator_key),),
            timeout=5,
        )
    (customer,) = found.customers
    return customer


def test_the_profile_manager_was_invited_and_holds_the_company(platform: Platform, api: httpx.Client) -> None:
    customer = demo_customer(platform)
    assert customer.profile_manager_user_id
    texts = [m["text"] for m in inbox(platform, DEMO_MANAGER.phone)]
    assert any("you can now sign in" in t for t in texts)
    claims = jwt.decode(sign_in(api), options={"verify_signature": False})
    assert claims["cid"] == customer.id and claims["sub"] == customer.profile_manager_user_id
    (grant,) = claims["grants"]
    assert (grant["node"], grant["role"]) == (customer.root_node_id, "profile_manager")
    assert {"hierarchy:manage", "users:manage", "lines:read-puk"} <= set(grant["perms"])


def test_accounts_answers_the_managers_token_with_the_whole_tree(platform: Platform, api: httpx.Client) -> None:
    customer = demo_customer(platform)
    bearer = (("authorization", f"Bearer {sign_in(api)}"),)
    with grpc.insecure_channel(platform.accounts_target) as channel:
        tree = hierarchy_pb2_grpc.HierarchyServiceStub(channel)
        nodes = tree.ListNodes(hierarchy_pb2.ListNodesRequest(page_size=1000), metadata=bearer, timeout=5).nodes
        kinds = [n.kind for n in nodes]
        assert kinds.count(hierarchy_pb2.NODE_KIND_COMPANY) == 1
        assert kinds.count(hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT) == 3
        assert kinds.count(hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT) == 6
        drawn = {n.name for n in nodes if n.kind >= hierarchy_pb2.NODE_KIND_DEPARTMENT}
        expected = set()
        stack = list(DEMO_DEPARTMENTS)
        while stack:
            dept = stack.pop()
            expected.add(dept.name)
            stack.extend(dept.children)
        # Every seeded department is there; other modules on this platform may have added their own.
        assert expected <= drawn, expected - drawn
        assert all(n.customer_id == customer.id and n.path.startswith(f"/{customer.root_node_id}/") for n in nodes)

        # Without a token, or with one that is not identity's, accounts refuses by itself.
        with pytest.raises(grpc.RpcError) as missing:
            tree.ListNodes(hierarchy_pb2.ListNodesRequest(), timeout=5)
        assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
        forged = jwt.encode(
            {"sub": "x", "cid": customer.id}, "a shared secret that identity never uses, 32+ bytes", algorithm="HS256"
        )
        with pytest.raises(grpc.RpcError) as refused:
            tree.ListNodes(hierarchy_pb2.ListNodesRequest(), metadata=(("authorization", f"Bearer {forged}"),))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


RIALS_MANAGER = "+79996710001"
RIALS_PASSWORD = "Rials-Passw0rd-2026"


def test_a_customer_onboarded_in_rials_keeps_its_money_in_rials(platform: Platform, api: httpx.Client) -> None:
    """The operator onboards a customer in IRR: billing opens its personal account in rials, and the balance, the
    month's statement, the company's finances and the catalogue (tariffs and options, from the rials price list:
    500 rials a rouble) answer whole rials; an unknown currency is refused."""

    def request(request_id: str, currency: str) -> admin_pb2.OnboardCustomerRequest:
        return admin_pb2.OnboardCustomerRequest(
            request_id=request_id,
            legal_entity=admin_pb2.LegalEntity(
                name="Persian Freight LLC",
                tax_number=with_inn_check_digit(f"77{71:07d}"),
                registration_number=with_ogrn_check_digit(f"102770{71:06d}"),
                tax_registration_reason_code="773601001",
            ),
            contracts=[admin_pb2.Contract(number="SF-E2E/0071", signed_on="2026-02-01")],
            general_account=admin_pb2.AccountSpec(name="General", account_number="4200007101"),
            business_accounts=[
                admin_pb2.AccountSpec(
                    name="Tehran office",
                    account_number="4200007102",
                    children=[admin_pb2.AccountSpec(name="Fleet", account_number="4200007103")],
                )
            ],
            profile_manager=admin_pb2.ProfileManagerSpec(
                phone=RIALS_MANAGER, email="boss@rials.example", display_name="Rials boss", password=RIALS_PASSWORD
            ),
            currency=currency,
        )

    operator = ((OPERATOR_KEY, platform.config.operator_key),)
    with grpc.insecure_channel(platform.accounts_target) as channel:
        admin = admin_pb2_grpc.AccountsAdminServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            admin.OnboardCustomer(request("e2e-rials-bad", "XYZ"), metadata=operator, timeout=10)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        onboarded = admin.OnboardCustomer(request("e2e-rials", "IRR"), metadata=operator, timeout=10)
    assert (onboarded.customer.currency, onboarded.customer.settlement_method) == ("IRR", "prepaid")
    personal = next(n.id for n in onboarded.nodes if n.kind == hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT)
    signed_in = api.post("/v1/auth/password", json={"phone": RIALS_MANAGER, "password": RIALS_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}", "Accept-Language": "en"}
    path = f"/v1/personal-accounts/{personal}"
    balance = wait_until(
        lambda: (answer := api.get(f"{path}/balance", headers=headers)).status_code == 200 and answer,
        30,
        "the ledger account",
    )
    body = balance.json()
    assert (body["currency"], body["balance"]["exponent"], body["balance"]["formatted"]) == ("IRR", 0, "IRR0")
    statement = api.get(f"{path}/statement", headers=headers)
    assert statement.status_code == 200, statement.text
    assert statement.json()["figures"]["closing_balance"]["currency"] == "IRR"
    finances = api.get(f"/v1/nodes/{onboarded.customer.root_node_id}/finances", headers=headers)
    assert finances.status_code == 200, finances.text
    assert [(t["currency"], t["personal_accounts"]) for t in finances.json()["totals"]] == [("IRR", 1)]
    assert api.get(f"{path}/statement", params={"period": "2026-13"}, headers=headers).status_code == 422

    # The catalogue in the customer's rials, beside the demo customer's roubles: the same tariffs and options.
    signed_in = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
    assert signed_in.status_code == 200, signed_in.text
    in_roubles = {"Authorization": f"Bearer {signed_in.json()['access_token']}", "Accept-Language": "en"}
    tariffs = api.get("/v1/tariffs", headers=headers)
    assert tariffs.status_code == 200, tariffs.text
    assert tariffs.json()["currency"] == "IRR"
    rouble_tariffs = {t["code"]: t for t in api.get("/v1/tariffs", headers=in_roubles).json()["tariffs"]}
    for tariff in tariffs.json()["tariffs"]:
        fee, rouble_fee = tariff["monthly_fee"], rouble_tariffs[tariff["code"]]["monthly_fee"]
        assert (fee["currency"], fee["exponent"], rouble_fee["currency"]) == ("IRR", 0, "RUB")
        assert fee["amount"] == rouble_fee["amount"] * 5  # kopecks to rials at 500 a rouble
        assert fee["formatted"] == f"IRR{fee['amount']:,}"
        prices = tariff["home_prices"] + tariff["roaming_prices"]
        assert prices and {p["price"]["currency"] for p in prices} == {"IRR"}
    options = api.get("/v1/options", headers=headers)
    assert options.status_code == 200, options.text
    assert options.json()["currency"] == "IRR"
    roaming = next(o for o in options.json()["options"] if o["code"] == "roaming")["monthly_fee"]
    rouble_roaming = next(
        o for o in api.get("/v1/options", headers=in_roubles).json()["options"] if o["code"] == "roaming"
    )
    assert (roaming["currency"], roaming["exponent"]) == ("IRR", 0) and rouble_roaming["monthly_fee"][
        "currency"
    ] == "RUB"
    assert roaming["amount"] == rouble_roaming["monthly_fee"]["amount"] * 5 > 0
    offers = api.get("/v1/packages/offers", headers=headers)
    assert offers.status_code == 200, offers.text
    rouble_offers = {o["code"]: o for o in api.get("/v1/packages/offers", headers=in_roubles).json()["items"]}
    for item in offers.json()["items"]:
        price, rouble_price = item["price"], rouble_offers[item["code"]]["price"]
        assert (price["currency"], rouble_price["currency"]) == ("IRR", "RUB")
        assert price["amount"] == rouble_price["amount"] * 5 > 0
