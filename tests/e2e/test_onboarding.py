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
from simfleet_devstack.seed import DEMO_DEPARTMENTS, DEMO_MANAGER, DEMO_TAX_NUMBER
from simfleet_runtime.context import OPERATOR_KEY
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
        assert drawn == expected
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
