"""The gRPC services over a real channel with NATS: tokens checked against the JWKS, operator key, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import nats
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from accounts.main import build
from simfleet.accounts.v1 import admin_pb2, admin_pb2_grpc, audit_pb2, audit_pb2_grpc, hierarchy_pb2, hierarchy_pb2_grpc
from simfleet_runtime.authz import PERMISSIONS, Grant, grants_claim
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.errors import read_error
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.testing import KeyRing, NatsServer, free_port

from .conftest import OPERATOR_KEY as KEY  # type: ignore[import-not-found]
from .conftest import FakeIdentity, FakeInventory, settings_for  # type: ignore[import-not-found]

OPERATOR = ((OPERATOR_KEY, KEY),)


class Running:
    def __init__(
        self, target: str, nats_url: str, ring: KeyRing, identity: FakeIdentity, inventory: FakeInventory
    ) -> None:
        self.target = target
        self.nats_url = nats_url
        self.ring = ring
        self.identity = identity
        self.inventory = inventory

    def operator(self, role: str, *perms: str) -> tuple[tuple[str, str], ...]:
        token = self.ring.token("k1", cid="", op={"role": role, "perms": list(perms)})
        return (("authorization", f"Bearer {token}"),)

    def bearer(self, customer_id: str, *grants: Grant) -> tuple[tuple[str, str], ...]:
        token = self.ring.token("k1", cid=customer_id, grants=grants_claim(grants))
        return (("authorization", f"Bearer {token}"),)


@pytest.fixture
async def running(tmp_path: Path, ring: KeyRing, inventory: FakeInventory) -> AsyncIterator[Running]:
    with NatsServer(tmp_path / "nats") as server:
        identity = FakeIdentity()
        settings = settings_for(
            f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}",
            nats_url=server.url,
            grpc_port=free_port(),
            metrics_port=0,
            outbox_poll_seconds=0.05,
            health_check_interval_seconds=0.1,
            shutdown_grace_seconds=2.0,
            inventory_target=inventory.target,
        )
        accounts = build(settings, identity=identity, jwks=ring.fetch)
        await accounts.runtime.start()
        try:
            yield Running(f"127.0.0.1:{accounts.runtime.bound_port}", server.url, ring, identity, inventory)
        finally:
            await accounts.runtime.shutdown()


def onboarding(request_id: str = "req-1") -> admin_pb2.OnboardCustomerRequest:
    return admin_pb2.OnboardCustomerRequest(
        request_id=request_id,
        legal_entity=admin_pb2.LegalEntity(
            name="Demo Logistics LLC",
            tax_number="7707083893",
            registration_number="1027700132195",
            tax_registration_reason_code="773601001",
        ),
        contracts=[admin_pb2.Contract(number="SF-2026/0001", signed_on="2026-01-15")],
        general_account=admin_pb2.AccountSpec(name="General account", account_number="4000000001"),
        business_accounts=[
            admin_pb2.AccountSpec(
                name="Business 1",
                account_number="4000000002",
                children=[admin_pb2.AccountSpec(name="Personal 1.1", account_number="4000000003")],
            )
        ],
        profile_manager=admin_pb2.ProfileManagerSpec(
            phone="+79990000001", email="manager@demo.example", display_name="Profile Manager"
        ),
    )


async def failure(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call  # type: ignore[misc]
    details = read_error(failed.value)
    return details.code, details.reason


async def test_onboarding_and_the_tree_over_grpc(running: Running) -> None:
    async with make_channel(running.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(100):  # SERVING once the database and NATS answer
            status = await health.Check(health_pb2.HealthCheckRequest(service="simfleet.accounts.v1.HierarchyService"))
            if status.status == health_pb2.HealthCheckResponse.SERVING:
                break
            await asyncio.sleep(0.05)
        assert status.status == health_pb2.HealthCheckResponse.SERVING

        admin = admin_pb2_grpc.AccountsAdminServiceStub(channel)
        assert await failure(admin.OnboardCustomer(onboarding())) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "TOKEN_MISSING",
        )
        assert await failure(admin.OnboardCustomer(onboarding(), metadata=((OPERATOR_KEY, "guess"),))) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "OPERATOR_KEY_INVALID",
        )
        done = await admin.OnboardCustomer(onboarding(), metadata=OPERATOR)
        customer = done.customer
        assert customer.status == admin_pb2.CUSTOMER_STATUS_ACTIVE
        assert [n.kind for n in done.nodes] == [
            hierarchy_pb2.NODE_KIND_COMPANY,
            hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT,
            hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT,
            hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT,
        ]
        again = await admin.OnboardCustomer(onboarding(), metadata=OPERATOR)
        assert again.customer.id == customer.id
        bad = onboarding("req-2")
        bad.legal_entity.tax_number = "7707083894"
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await admin.OnboardCustomer(bad, metadata=OPERATOR)
        details = read_error(invalid.value)
        assert details.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "legal_entity.tax_number" in details.field_violations
        listed = await admin.ListCustomers(admin_pb2.ListCustomersRequest(query="7707"), metadata=OPERATOR)
        assert [c.id for c in listed.customers] == [customer.id]

        tree = hierarchy_pb2_grpc.HierarchyServiceStub(channel)
        assert await failure(tree.ListNodes(hierarchy_pb2.ListNodesRequest())) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "TOKEN_MISSING",
        )
        pm = running.bearer(customer.id, Grant(customer.root_node_id, frozenset(PERMISSIONS)))
        sales = (
            await tree.CreateNode(
                hierarchy_pb2.CreateNodeRequest(
                    parent_id=customer.root_node_id, kind=hierarchy_pb2.NODE_KIND_DEPARTMENT, name="Sales"
                ),
                metadata=pm,
            )
        ).node
        assert sales.parent_id == customer.root_node_id and sales.depth == 1
        listed_nodes = await tree.ListNodes(
            hierarchy_pb2.ListNodesRequest(kinds=[hierarchy_pb2.NODE_KIND_DEPARTMENT]), metadata=pm
        )
        assert [n.id for n in listed_nodes.nodes] == [sales.id]
        head = running.bearer(customer.id, Grant(sales.id, frozenset({"hierarchy:manage"})))
        assert await failure(
            tree.GetNode(hierarchy_pb2.GetNodeRequest(node_id=customer.root_node_id), metadata=head)
        ) == (grpc.StatusCode.NOT_FOUND, "NODE_NOT_FOUND")
        viewer = running.bearer(customer.id, Grant(customer.root_node_id, frozenset({"lines:read"})))
        assert await failure(
            tree.RenameNode(hierarchy_pb2.RenameNodeRequest(node_id=sales.id, name="Mine"), metadata=viewer)
        ) == (grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_MISSING")
        summary = await tree.GetNodeSummary(hierarchy_pb2.GetNodeSummaryRequest(node_id=sales.id), metadata=viewer)
        assert summary.node_id == sales.id and summary.descendants == 0

    # Every change reached the ACCOUNTS stream through the outbox relay.
    client = await nats.connect(running.nats_url)
    try:
        js = client.jetstream()
        for _ in range(100):
            info = await js.stream_info("ACCOUNTS")
            if info.state.messages >= 10:
                break
            await asyncio.sleep(0.05)
        subjects = []
        sub = await js.subscribe("simfleet.accounts.>", ordered_consumer=True)
        for _ in range(info.state.messages):
            subjects.append((await sub.next_msg(timeout=2)).subject)
        facts = [s for s in subjects if not s.endswith(".audit.recorded")]
        assert facts == ["simfleet.accounts.node.created"] * 4 + [
            "simfleet.accounts.customer.onboarded",
            "simfleet.accounts.node.created",
        ]
        # Onboarding twice (the operator), one node created, one rename refused; the
        # invalid onboarding concerns no customer and is not recorded.
        assert subjects.count("simfleet.accounts.audit.recorded") == 4
    finally:
        await client.close()

    # Operator staff by their tokens: the role's operator permissions decide.
    async with make_channel(running.target) as channel:
        admin = admin_pb2_grpc.AccountsAdminServiceStub(channel)
        support = running.operator("support", "customers:read")
        listed = await admin.ListCustomers(admin_pb2.ListCustomersRequest(), metadata=support)
        assert [c.id for c in listed.customers] == [customer.id]
        assert await failure(admin.OnboardCustomer(onboarding("req-3"), metadata=support)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_MISSING",
        )
        assert await failure(admin.ListCustomers(admin_pb2.ListCustomersRequest(), metadata=pm)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "OPERATOR_ONLY",
        )
        tree = hierarchy_pb2_grpc.HierarchyServiceStub(channel)
        assert await failure(tree.ListNodes(hierarchy_pb2.ListNodesRequest(), metadata=support)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "OPERATOR_TOKEN",
        )

    # The audit consumer kept them as the customer's action history.
    async with make_channel(running.target) as channel:
        history = audit_pb2_grpc.AuditServiceStub(channel)
        everything = running.bearer(customer.id, Grant(customer.root_node_id, frozenset(PERMISSIONS)))
        for _ in range(100):
            listed = await history.ListAuditEvents(audit_pb2.ListAuditEventsRequest(), metadata=everything)
            if len(listed.events) >= 4:
                break
            await asyncio.sleep(0.05)
        actions = [(e.action, e.result, e.reason) for e in listed.events]
        assert actions == [
            ("hierarchy.node.rename", "failed", "PERMISSION_MISSING"),
            ("hierarchy.node.create", "succeeded", ""),
            ("customers.onboard", "succeeded", ""),
            ("customers.onboard", "succeeded", ""),
        ]
        assert listed.events[-1].actor_kind == "operator" and listed.events[1].actor_kind == "user"
        assert await failure(history.ListAuditEvents(audit_pb2.ListAuditEventsRequest(), metadata=viewer)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_MISSING",
        )
        only_nodes = await history.ListAuditEvents(
            audit_pb2.ListAuditEventsRequest(action="hierarchy"), metadata=everything
        )
        assert len(only_nodes.events) == 2


async def test_deleting_a_node_asks_inventory_with_the_callers_token_and_never_deletes_blind(running: Running) -> None:
    inventory = running.inventory
    await inventory.stop()  # readiness does not wait for inventory: only deletions need it
    async with make_channel(running.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(100):
            status = await health.Check(health_pb2.HealthCheckRequest(service=""))
            if status.status == health_pb2.HealthCheckResponse.SERVING:
                break
            await asyncio.sleep(0.05)
        assert status.status == health_pb2.HealthCheckResponse.SERVING

        customer = (
            await admin_pb2_grpc.AccountsAdminServiceStub(channel).OnboardCustomer(onboarding(), metadata=OPERATOR)
        ).customer
        pm = running.bearer(customer.id, Grant(customer.root_node_id, frozenset(PERMISSIONS)))
        tree = hierarchy_pb2_grpc.HierarchyServiceStub(channel)
        new = hierarchy_pb2.CreateNodeRequest(
            parent_id=customer.root_node_id, kind=hierarchy_pb2.NODE_KIND_CITY, name="Kazan"
        )
        kazan = (await tree.CreateNode(new, metadata=pm)).node
        delete = hierarchy_pb2.DeleteNodeRequest(node_id=kazan.id)

        assert await failure(tree.DeleteNode(delete, metadata=pm)) == (
            grpc.StatusCode.UNAVAILABLE,
            "INVENTORY_UNAVAILABLE",
        )
        assert (await tree.GetNode(hierarchy_pb2.GetNodeRequest(node_id=kazan.id), metadata=pm)).node.id == kazan.id

        await inventory.start()
        inventory.hold(kazan.id, lines={"active": 1})
        for _ in range(100):  # until accounts' channel finds inventory back
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await tree.DeleteNode(delete, metadata=pm)
            if read_error(refused.value).code != grpc.StatusCode.UNAVAILABLE:
                break
            await asyncio.sleep(0.1)
        details = read_error(refused.value)
        assert (details.code, details.reason, details.metadata) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "NODE_NOT_EMPTY",
            {"lines.active": "1"},
        )
        node_id, metadata = inventory.calls[-1]
        assert node_id == kazan.id and ("authorization", metadata["authorization"]) == pm[0]

        inventory.hold(kazan.id)
        await tree.DeleteNode(delete, metadata=pm)
        assert await failure(tree.GetNode(hierarchy_pb2.GetNodeRequest(node_id=kazan.id), metadata=pm)) == (
            grpc.StatusCode.NOT_FOUND,
            "NODE_NOT_FOUND",
        )


async def test_names_with_control_or_bidi_characters_are_refused_over_grpc(running: Running) -> None:
    async with make_channel(running.target) as channel:
        admin = admin_pb2_grpc.AccountsAdminServiceStub(channel)
        spoofed = onboarding("req-bidi")
        spoofed.legal_entity.name = "Demo \u202eCLL scitsigoL"
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await admin.OnboardCustomer(spoofed, metadata=OPERATOR)
        details = read_error(invalid.value)
        assert details.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "legal_entity.name" in details.field_violations
        assert (await admin.ListCustomers(admin_pb2.ListCustomersRequest(), metadata=OPERATOR)).customers == []

        customer = (await admin.OnboardCustomer(onboarding(), metadata=OPERATOR)).customer
        tree = hierarchy_pb2_grpc.HierarchyServiceStub(channel)
        pm = running.bearer(customer.id, Grant(customer.root_node_id, frozenset(PERMISSIONS)))
        for name in ("Sales\u202e", "Sa\u0000les", "\u2066Sales\u2069", "Sales\u200f", "Sa\tles", "Sa\x85les"):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await tree.CreateNode(
                    hierarchy_pb2.CreateNodeRequest(
                        parent_id=customer.root_node_id, kind=hierarchy_pb2.NODE_KIND_DEPARTMENT, name=name
                    ),
                    metadata=pm,
                )
            details = read_error(refused.value)
            assert (details.code, details.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_NAME"), name
            assert list(details.field_violations) == ["name"]
        sales = (
            await tree.CreateNode(
                hierarchy_pb2.CreateNodeRequest(
                    parent_id=customer.root_node_id, kind=hierarchy_pb2.NODE_KIND_DEPARTMENT, name="Продажи"
                ),
                metadata=pm,
            )
        ).node
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await tree.RenameNode(hierarchy_pb2.RenameNodeRequest(node_id=sales.id, name="\u202eselaS"), metadata=pm)
        assert read_error(refused.value).reason == "INVALID_NAME"
