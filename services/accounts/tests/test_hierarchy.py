"""The customer's own tree (AC-2, AC-3): scope, permissions, creating, renaming, moving, deleting, summaries."""

from __future__ import annotations

import grpc
import pytest
import sqlalchemy as sa

from accounts.customers.service import Onboarded
from accounts.hierarchy.models import Node
from simfleet.events.v1 import accounts_pb2 as ev
from simfleet.events.v1 import audit_pb2 as audit_ev
from simfleet_runtime.audit import OPERATOR, set_actor
from simfleet_runtime.authz import Access
from simfleet_runtime.context import CallContext, reset_current_call, set_current_call
from simfleet_runtime.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from simfleet_subjects import AccountsSubjects

from .conftest import PROFILE_MANAGER, VIEWER, Harness  # type: ignore[import-not-found]


@pytest.fixture
async def customer(harness: Harness) -> Onboarded:
    return await harness.onboard()


def manager(harness: Harness, customer: Onboarded) -> Access:
    return harness.access(customer.customer.id, (customer.customer.root_node_id, PROFILE_MANAGER))


async def test_a_manager_draws_departments_under_the_company(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    sales = await tree.create(pm, parent_id=root, kind="department", name="  Sales   team ")
    assert sales.name == "Sales team" and sales.path == f"/{root}/{sales.id}/" and sales.depth == 1
    north = await tree.create(pm, parent_id=sales.id, kind="branch", name="North")
    assert north.path == f"{sales.path}{north.id}/"
    with pytest.raises(FailedPrecondition) as taken:
        await tree.create(pm, parent_id=root, kind="city", name="SALES TEAM")
    assert taken.value.reason == "NODE_NAME_TAKEN"
    with pytest.raises(FailedPrecondition) as under_account:
        await tree.create(pm, parent_id=customer.nodes[-1].id, kind="department", name="Inside an account")
    assert under_account.value.reason == "INVALID_PARENT"
    with pytest.raises(InvalidArgument):
        await tree.create(pm, parent_id=root, kind="personal_account", name="Sneaky account")
    with pytest.raises(InvalidArgument):
        await tree.create(pm, parent_id=root, kind="department", name="tab\there\x00")
    (_, payload) = (await harness.outbox(AccountsSubjects.NODE_CREATED))[-1]
    created = ev.NodeCreated.FromString(payload)
    assert created.node.node_id == north.id and created.actor_id == pm.user_id and created.node.kind == "branch"


async def test_billing_nodes_are_not_the_customers_to_change(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    general = customer.nodes[1]
    for change in (
        tree.rename(pm, node_id=general.id, name="Mine now"),
        tree.delete(pm, node_id=customer.nodes[-1].id),
        tree.move(pm, node_id=customer.nodes[-1].id, new_parent_id=customer.customer.root_node_id),
    ):
        with pytest.raises(FailedPrecondition) as refused:
            await change
        assert refused.value.reason == "BILLING_NODE"


async def test_moving_a_subtree_rewrites_every_path_below_in_one_event(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    sales = await tree.create(pm, parent_id=root, kind="department", name="Sales")
    north = await tree.create(pm, parent_id=sales.id, kind="branch", name="North")
    moscow = await tree.create(pm, parent_id=north.id, kind="city", name="Moscow")
    regions = await tree.create(pm, parent_id=root, kind="department", name="Regions")
    before = len(await harness.outbox(AccountsSubjects.NODE_MOVED))

    moved, count = await tree.move(pm, node_id=north.id, new_parent_id=regions.id)
    assert count == 2
    assert moved.path == f"{regions.path}{north.id}/" and moved.depth == 2 and moved.parent_id == regions.id
    async with harness.db.sessions() as session:
        city = await session.get(Node, moscow.id)
        assert city is not None and city.path == f"{regions.path}{north.id}/{moscow.id}/" and city.depth == 3
        untouched = await session.get(Node, sales.id)
        assert untouched is not None and untouched.path == sales.path
    published = await harness.outbox(AccountsSubjects.NODE_MOVED)
    assert len(published) == before + 1
    event = ev.NodeMoved.FromString(published[-1][1])
    assert (event.old_path, event.new_path, event.moved_nodes) == (north.path, moved.path, 2)
    assert (event.old_parent_id, event.new_parent_id) == (sales.id, regions.id)

    with pytest.raises(FailedPrecondition) as loop:
        await tree.move(pm, node_id=regions.id, new_parent_id=moscow.id)
    assert loop.value.reason == "MOVE_INTO_SUBTREE"
    with pytest.raises(FailedPrecondition) as itself:
        await tree.move(pm, node_id=regions.id, new_parent_id=regions.id)
    assert itself.value.reason == "MOVE_INTO_SUBTREE"


async def test_the_tree_has_a_depth_limit(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    parent = customer.customer.root_node_id
    chain = []
    for level in range(1, 7):  # the harness allows 6 levels below the company
        node = await tree.create(pm, parent_id=parent, kind="department", name=f"Level {level}")
        chain.append(node)
        parent = node.id
    with pytest.raises(FailedPrecondition) as deep:
        await tree.create(pm, parent_id=parent, kind="department", name="Level 7")
    assert deep.value.reason == "TREE_TOO_DEEP"
    side = await tree.create(pm, parent_id=customer.customer.root_node_id, kind="department", name="Side")
    lower = await tree.create(pm, parent_id=side.id, kind="department", name="Lower")
    with pytest.raises(FailedPrecondition) as too_deep:  # levels 2..6 one level lower would reach 7
        await tree.move(pm, node_id=chain[1].id, new_parent_id=lower.id)
    assert too_deep.value.reason == "TREE_TOO_DEEP"
    moved, count = await tree.move(pm, node_id=chain[1].id, new_parent_id=side.id)  # same depth: fits
    assert (moved.depth, count) == (2, 5)


async def test_deleting_refuses_a_node_that_holds_anything(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    sales = await tree.create(pm, parent_id=root, kind="department", name="Sales")
    north = await tree.create(pm, parent_id=sales.id, kind="branch", name="North")
    with pytest.raises(FailedPrecondition) as children:
        await tree.delete(pm, node_id=sales.id)
    assert children.value.reason == "NODE_NOT_EMPTY"
    await harness.accounts.hierarchy.record_figures(north.id, {"lines.active": ("lines", 3)})
    with pytest.raises(FailedPrecondition) as lines:
        await tree.delete(pm, node_id=north.id)
    assert lines.value.metadata == {"lines.active": "3"}
    await harness.accounts.hierarchy.record_figures(north.id, {"lines.active": ("lines", 0)})
    await tree.delete(pm, node_id=north.id)
    await tree.delete(pm, node_id=sales.id)
    with pytest.raises(NotFound):
        await tree.get(pm, sales.id)
    deleted = [ev.NodeDeleted.FromString(p) for _, p in await harness.outbox(AccountsSubjects.NODE_DELETED)]
    assert [d.node_id for d in deleted] == [north.id, sales.id]


async def test_deleting_asks_inventory_what_the_node_holds_now(harness: Harness, customer: Onboarded) -> None:
    """A line imported a moment ago is in no figure yet: inventory's answer at the time of the call decides."""
    tree, pm, inventory = harness.accounts.hierarchy, manager(harness, customer), harness.inventory
    sales = await tree.create(pm, parent_id=customer.customer.root_node_id, kind="department", name="Sales")
    north = await tree.create(pm, parent_id=sales.id, kind="branch", name="North")

    with pytest.raises(FailedPrecondition) as children:  # what accounts knows refuses without asking
        await tree.delete(pm, node_id=sales.id)
    assert children.value.reason == "NODE_NOT_EMPTY" and inventory.calls == []

    inventory.hold(north.id, lines={"active": 1, "ready": 0})
    with pytest.raises(FailedPrecondition) as lines:
        await tree.delete(pm, node_id=north.id)
    assert lines.value.reason == "NODE_NOT_EMPTY"
    assert lines.value.metadata == {"lines.active": "1"}
    inventory.hold(north.id, operations=1, items=3)  # a SIM order or a move on its way there
    with pytest.raises(FailedPrecondition) as bringing:
        await tree.delete(pm, node_id=north.id)
    assert bringing.value.reason == "NODE_NOT_EMPTY"
    assert bringing.value.metadata == {"operations": "1", "items": "3"}
    assert (await tree.get(pm, north.id)).id == north.id
    assert await harness.outbox(AccountsSubjects.NODE_DELETED) == []

    inventory.hold(north.id)
    await tree.delete(pm, node_id=north.id)
    await tree.delete(pm, node_id=sales.id)
    assert [node for node, _ in inventory.calls] == [north.id, north.id, north.id, sales.id]
    assert len(await harness.outbox(AccountsSubjects.NODE_DELETED)) == 2


async def test_deleting_forwards_the_callers_token_to_inventory(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    sales = await tree.create(pm, parent_id=customer.customer.root_node_id, kind="department", name="Sales")
    token = set_current_call(CallContext(request_id="req-delete-1", bearer_token="the.callers.token"))
    try:
        await tree.delete(pm, node_id=sales.id)
    finally:
        reset_current_call(token)
    [(node_id, metadata)] = harness.inventory.calls
    assert node_id == sales.id
    assert metadata["authorization"] == "Bearer the.callers.token"
    assert metadata["x-request-id"] == "req-delete-1"


async def test_without_inventorys_answer_the_node_stays(harness: Harness, customer: Onboarded) -> None:
    """Fail closed: inventory slow, lagging or away is UNAVAILABLE (503), never a deletion made blind."""
    tree, pm, inventory = harness.accounts.hierarchy, manager(harness, customer), harness.inventory
    sales = await tree.create(pm, parent_id=customer.customer.root_node_id, kind="department", name="Sales")

    inventory.delay = 1.0  # past the harness's 0.5 s deadline
    with pytest.raises(Unavailable) as slow:
        await tree.delete(pm, node_id=sales.id)
    assert slow.value.reason == "INVENTORY_UNAVAILABLE" and slow.value.retry_after_seconds
    inventory.delay = 0.0

    inventory.refuse = (grpc.StatusCode.NOT_FOUND, "the node does not exist")  # its copy of the tree lags
    with pytest.raises(Unavailable) as lagging:
        await tree.delete(pm, node_id=sales.id)
    assert lagging.value.reason == "INVENTORY_UNAVAILABLE"
    inventory.refuse = (grpc.StatusCode.UNAUTHENTICATED, "the session has ended")
    with pytest.raises(Unauthenticated):
        await tree.delete(pm, node_id=sales.id)
    inventory.refuse = None

    await inventory.stop()
    with pytest.raises(Unavailable) as away:
        await tree.delete(pm, node_id=sales.id)
    assert away.value.reason == "INVENTORY_UNAVAILABLE"
    assert (await tree.get(pm, sales.id)).id == sales.id
    assert await harness.outbox(AccountsSubjects.NODE_DELETED) == []


async def test_summaries_add_up_the_subtree(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    sales = await tree.create(pm, parent_id=root, kind="department", name="Sales")
    north = await tree.create(pm, parent_id=sales.id, kind="branch", name="North")
    await tree.record_figures(sales.id, {"lines.active": ("lines", 2), "lines.blocked": ("lines", 1)})
    await tree.record_figures(north.id, {"lines.active": ("lines", 5)})
    await tree.record_figures(customer.nodes[-1].id, {"balance": ("RUB", -12_550)})
    summary = await tree.summary(pm, sales.id)
    assert summary.descendants == 1
    assert [(f.name, f.unit, f.own, f.subtree) for f in summary.figures] == [
        ("lines.active", "lines", 2, 7),
        ("lines.blocked", "lines", 1, 1),
    ]
    company = await tree.summary(pm, root)
    assert company.descendants == len(customer.nodes) - 1 + 2
    assert ("balance", "RUB", 0, -12_550) in [(f.name, f.unit, f.own, f.subtree) for f in company.figures]


async def test_a_department_grant_sees_and_changes_only_its_subtree(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    sales = await tree.create(pm, parent_id=root, kind="department", name="Sales")
    north = await tree.create(pm, parent_id=sales.id, kind="branch", name="North")
    finance = await tree.create(pm, parent_id=root, kind="department", name="Finance")
    head = harness.access(customer.customer.id, (sales.id, PROFILE_MANAGER))

    nodes, _ = await tree.find(head)
    assert [n.id for n in nodes] == [sales.id, north.id]
    assert (await tree.get(head, north.id)).id == north.id
    for hidden in (finance.id, root, customer.nodes[1].id):
        with pytest.raises(NotFound) as outside:
            await tree.get(head, hidden)
        assert outside.value.reason == "NODE_NOT_FOUND"
    with pytest.raises(NotFound):
        await tree.create(head, parent_id=finance.id, kind="department", name="Audit")
    with pytest.raises(NotFound):  # cannot carry a node out of the scope
        await tree.move(head, node_id=north.id, new_parent_id=finance.id)
    south = await tree.create(head, parent_id=sales.id, kind="branch", name="South")
    await tree.move(head, node_id=south.id, new_parent_id=north.id)


async def test_a_move_never_widens_the_movers_own_access(harness: Harness, customer: Onboarded) -> None:
    """Someone who reorganises two departments cannot carry a subtree to where they hold more over it."""
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    sales = await tree.create(pm, parent_id=root, kind="department", name="Sales")
    north = await tree.create(pm, parent_id=sales.id, kind="branch", name="North")
    finance = await tree.create(pm, parent_id=root, kind="department", name="Finance")
    organiser = harness.access(
        customer.customer.id,
        (sales.id, frozenset({"hierarchy:manage", "users:read"})),
        (finance.id, frozenset({"hierarchy:manage", "users:read", "users:manage"})),
    )
    with pytest.raises(PermissionDenied) as widened:
        await tree.move(organiser, node_id=north.id, new_parent_id=finance.id)
    assert widened.value.reason == "MOVE_WIDENS_YOUR_ACCESS"
    assert (await tree.get(pm, north.id)).parent_id == sales.id
    # The other way loses permissions, which is the organiser's to give up; so is a move that changes nothing.
    audit = await tree.create(pm, parent_id=finance.id, kind="branch", name="Audit")
    await tree.move(organiser, node_id=audit.id, new_parent_id=sales.id)
    await tree.move(pm, node_id=north.id, new_parent_id=finance.id)


async def test_without_the_permission_in_scope_is_denied(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    sales = await tree.create(pm, parent_id=root, kind="department", name="Sales")
    viewer = harness.access(customer.customer.id, (root, VIEWER))
    assert (await tree.get(viewer, sales.id)).name == "Sales"
    assert (await tree.summary(viewer, sales.id)).node.id == sales.id
    for change in (
        tree.create(viewer, parent_id=root, kind="department", name="Mine"),
        tree.rename(viewer, node_id=sales.id, name="Renamed"),
        tree.delete(viewer, node_id=sales.id),
    ):
        with pytest.raises(PermissionDenied) as denied:
            await change
        assert denied.value.metadata == {"permission": "hierarchy:manage"}


async def test_another_customers_user_finds_nothing(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    sales = await tree.create(pm, parent_id=customer.customer.root_node_id, kind="department", name="Sales")
    other = await harness.onboard()
    # Even a grant naming this customer's node, under the other customer's id.
    stranger = harness.access(other.customer.id, (customer.customer.root_node_id, PROFILE_MANAGER))
    assert (await tree.find(stranger)) == ([], "")
    with pytest.raises(NotFound):
        await tree.get(stranger, sales.id)
    with pytest.raises(NotFound):
        await tree.rename(stranger, node_id=sales.id, name="Taken over")
    assert await tree.paths(other.customer.id, [sales.id]) == {}


async def test_lists_page_filter_and_sort(harness: Harness, customer: Onboarded) -> None:
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    made = [await tree.create(pm, parent_id=root, kind="department", name=f"Dept {i:02d}") for i in range(12)]
    seen, token = [], ""
    while True:
        page, token = await tree.find(pm, kinds=["department"], page_size=5, page_token=token, order_by="-name")
        seen.extend(n.name for n in page)
        if not token:
            break
    assert seen == [n.name for n in reversed(made)]
    children, _ = await tree.find(pm, parent_id=root, page_size=100)
    assert {n.kind for n in children} == {"general_account", "department"}
    found, _ = await tree.find(pm, name_contains="dept 1")
    assert sorted(n.name for n in found) == ["Dept 10", "Dept 11"]
    whole, _ = await tree.find(pm, page_size=1000)
    assert [n.path for n in whole] == sorted(n.path for n in whole)
    with pytest.raises(InvalidArgument):
        await tree.find(pm, order_by="secret_column")
    with pytest.raises(InvalidArgument):
        await tree.find(pm, page_size=5000)
    async with harness.db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Node)) == len(whole)


async def test_inventorys_line_counts_land_in_the_summary_newest_first(harness: Harness, customer: Onboarded) -> None:
    from datetime import timedelta

    from simfleet.events.v1 import inventory_pb2
    from simfleet_runtime.bus import Event
    from simfleet_runtime.ids import new_id
    from simfleet_runtime.timestamps import timestamp

    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    node = customer.nodes[-1]
    handler = tree.line_figures()
    now = harness.accounts.runtime.clock.now()

    async def deliver(customer_id: str, active: int, at: object) -> None:
        report = inventory_pb2.NodeLineFigures(
            node_id=node.id,
            customer_id=customer_id,
            figures={"lines.active": active, "lines.blocked": 1},
            computed_at=at,
        )
        event = Event(new_id(), "simfleet.inventory.node.figures", report.SerializeToString(), {}, customer_id, 1)
        async with harness.db.transaction() as session:
            await handler(session, event)

    await deliver(customer.customer.id, 40, timestamp(now))
    await deliver(customer.customer.id, 7, timestamp(now - timedelta(seconds=5)))  # an older count, late
    await deliver("01J0000000000000000000STRG", 999, timestamp(now + timedelta(seconds=5)))  # not this customer's node
    figures = {f.name: f.own for f in (await tree.summary(pm, node.id)).figures}
    assert figures == {"lines.active": 40, "lines.blocked": 1}
    await deliver(customer.customer.id, 39, timestamp(now + timedelta(seconds=1)))
    assert {f.name: f.own for f in (await tree.summary(pm, node.id)).figures}["lines.active"] == 39


async def audit_events(harness: Harness) -> list[audit_ev.AuditRecorded]:
    return [audit_ev.AuditRecorded.FromString(p) for _, p in await harness.outbox("simfleet.accounts.audit.recorded")]


async def test_every_command_writes_its_audit_event_in_the_transaction_of_its_change(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_actor("staff0000000000000000000001", "", OPERATOR)
    customer = await harness.onboard()  # the back-office's, under the customer it made
    general = customer.nodes[1]
    account = await harness.accounts.customers.create_account(
        customer_id=customer.customer.id, parent_id=general.id, kind="business_account", name="Branch", number="700001"
    )
    tree, pm = harness.accounts.hierarchy, manager(harness, customer)
    root = customer.customer.root_node_id
    sales = await tree.create(pm, parent_id=root, kind="department", name="Sales")
    north = await tree.create(pm, parent_id=root, kind="department", name="North")
    await tree.rename(pm, node_id=north.id, name="North team")
    await tree.move(pm, node_id=north.id, new_parent_id=sales.id)
    await tree.delete(pm, node_id=north.id)
    # Written with each change, not after the answer by the interceptor: a crash in between loses neither.
    events_ = await audit_events(harness)
    assert [(e.action, e.actor_id, e.customer_id) for e in events_] == [
        ("customers.onboard", "staff0000000000000000000001", customer.customer.id),
        ("accounts.create", "staff0000000000000000000001", customer.customer.id),
        ("hierarchy.node.create", pm.user_id, customer.customer.id),
        ("hierarchy.node.create", pm.user_id, customer.customer.id),
        ("hierarchy.node.rename", pm.user_id, customer.customer.id),
        ("hierarchy.node.move", pm.user_id, customer.customer.id),
        ("hierarchy.node.delete", pm.user_id, customer.customer.id),
    ]
    assert [o.id for o in events_[1].objects] == [account.id]
    assert [o.id for o in events_[5].objects] == [north.id, sales.id]

    # An event that cannot be written takes the change with it.
    audit = harness.accounts.runtime.audit
    assert audit is not None

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the outbox is not writable")

    monkeypatch.setattr(audit, "add", broken)
    with pytest.raises(RuntimeError):
        await tree.rename(pm, node_id=sales.id, name="Sales team")
    assert (await tree.get(pm, sales.id)).name == "Sales"


def test_every_command_is_declared_to_write_its_success_in_its_own_transaction() -> None:
    from accounts.audit_commands import COMMANDS

    assert [method for method, command in COMMANDS.items() if not command.in_transaction] == []
