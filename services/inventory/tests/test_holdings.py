"""What a node holds, read now for accounts before it deletes the node: lines, and the work bringing lines there."""

from __future__ import annotations

from typing import Any

import pytest

from inventory.nodes.grpc_api import NodeHoldingsApi
from inventory.nodes.service import MANAGE, Holdings
from inventory.operations.requests import NewOperation, Target
from simfleet.inventory.v1 import nodes_pb2
from simfleet_runtime.authz import Grant, grants_claim
from simfleet_runtime.context import CallContext, reset_current_call, set_current_call
from simfleet_runtime.errors import NotFound, PermissionDenied, Unauthenticated
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing

from .conftest import EVERYTHING, READER, Harness, node_created, sim  # type: ignore[import-not-found]


async def test_lines_under_the_node_and_below_it_by_state(harness: Harness) -> None:
    tree, holdings, manager = harness.tree, harness.inventory.holdings, harness.manager()
    assert await holdings.holdings(manager, tree.north) == Holdings(lines={}, operations=0, items=0)
    await harness.add_lines(2)  # under north's personal account
    await harness.add_lines(1, node=tree.north, state="ready")
    await harness.add_lines(4, node=tree.south_account)
    assert await holdings.holdings(manager, tree.north) == Holdings({"active": 2, "ready": 1}, 0, 0)
    assert (await holdings.holdings(manager, tree.north_account)).lines == {"active": 2}
    assert (await holdings.holdings(manager, tree.south)).lines == {"active": 4}
    assert (await holdings.holdings(manager, tree.root)).lines == {"active": 6, "ready": 1}


async def test_a_node_not_yet_in_inventorys_tree_still_counts_its_own_lines(harness: Harness) -> None:
    """The back-office imports lines under any node id: one whose node.created is on its way holds them already."""
    fresh = new_id()
    await harness.add_lines(3, node=fresh)
    assert (await harness.inventory.holdings.holdings(harness.manager(), fresh)).lines == {"active": 3}
    # Its place in the tree is unknown: another customer's user sees nothing of it.
    stranger = harness.access((new_id(), EVERYTHING), customer_id=new_id())
    assert (await harness.inventory.holdings.holdings(stranger, fresh)).lines == {}
    with pytest.raises(PermissionDenied):  # and hierarchy:manage is needed somewhere
        await harness.inventory.holdings.holdings(harness.access((harness.tree.root, READER)), fresh)


async def test_scope_and_permission_decide_as_for_any_call(harness: Harness) -> None:
    tree, holdings = harness.tree, harness.inventory.holdings
    await harness.add_lines(1)
    await harness.add_lines(1, node=tree.south)
    north_head = harness.access((tree.north, frozenset({MANAGE})))
    assert (await holdings.holdings(north_head, tree.north_account)).lines == {"active": 1}
    with pytest.raises(NotFound) as outside:
        await holdings.holdings(north_head, tree.south)
    assert outside.value.reason == "NODE_NOT_FOUND"
    with pytest.raises(PermissionDenied) as reader:
        await holdings.holdings(harness.access((tree.root, READER)), tree.south)
    assert reader.value.metadata == {"permission": MANAGE}
    with pytest.raises(NotFound):
        await holdings.holdings(harness.manager(), "not-a-node")


async def test_moves_and_orders_on_their_way_to_the_node_count_until_they_end(harness: Harness) -> None:
    tree, holdings, manager = harness.tree, harness.inventory.holdings, harness.manager()
    ops = harness.inventory.operations
    numbers = await harness.add_lines(2, node=tree.south_account)
    await harness.inventory.office.import_stock(
        customer_id="", sims=[sim(900000 + n) for n in range(2)], msisdns=["+79994440101", "+79994440102"]
    )
    await ops.create(
        manager, NewOperation("move", targets=[Target(n) for n in numbers], params={"node_id": tree.north})
    )
    await ops.order_sims(
        manager,
        node_id=tree.north_account,
        personal_account_id=tree.north_account,
        quantity=2,
        tariff_code="IOT-S",
        idempotency_key="",
    )
    # Accepted, not started: no line is there yet, and deleting the node would strand what comes.
    assert await holdings.holdings(manager, tree.north) == Holdings({}, 2, 4)
    assert await holdings.holdings(manager, tree.north_account) == Holdings({}, 1, 2)
    assert await holdings.holdings(manager, tree.south) == Holdings({"active": 2}, 0, 0)
    await harness.run()
    assert await holdings.holdings(manager, tree.north) == Holdings({"active": 2, "ready": 2}, 0, 0)
    assert (await holdings.holdings(manager, tree.south)).lines == {}


async def test_the_grpc_method_takes_the_users_own_token(harness: Harness, ring: KeyRing) -> None:
    api = NodeHoldingsApi(holdings=harness.inventory.holdings, authorizer=harness.inventory.authorizer)
    await harness.add_lines(1, node=harness.tree.north)
    request = nodes_pb2.GetNodeHoldingsRequest(node_id=harness.tree.north)

    async def call(token: str) -> Any:
        context = set_current_call(CallContext(bearer_token=token))
        try:
            return await api.GetNodeHoldings(request, None)
        finally:
            reset_current_call(context)

    with pytest.raises(Unauthenticated):
        await call("")
    grants = grants_claim([Grant(harness.tree.root, EVERYTHING, "profile_manager")])
    answer = await call(ring.token("k1", cid=harness.tree.customer, grants=grants))
    assert (dict(answer.lines), answer.operations, answer.items) == ({"active": 1}, 0, 0)


async def test_a_node_moved_in_inventorys_tree_takes_its_lines_along(harness: Harness) -> None:
    tree, holdings, manager = harness.tree, harness.inventory.holdings, harness.manager()
    city = new_id()
    async with harness.db.transaction() as session:
        handler = harness.inventory.paths.handler()
        await handler(
            session, node_created(city, tree.customer, tree.north, f"/{tree.root}/{tree.north}/{city}/", "city")
        )
    await harness.add_lines(2, node=city)
    assert (await holdings.holdings(manager, tree.north)).lines == {"active": 2}
    assert (await holdings.holdings(manager, tree.south)).lines == {}
