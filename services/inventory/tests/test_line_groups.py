"""Groups of lines kept as things a customer manages (AC-5): a name, an icon and a colour at a node; lines follow
a renamed group, leave a deleted one, and go only into a group above them; nothing shows outside the scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa
from google.protobuf.message import Message

from inventory.admin.service import ImportedLine
from inventory.line_groups.models import LineGroup
from inventory.line_groups.service import GroupChange, following_the_tree
from inventory.lines.service import LineFilter
from inventory.models import BUS
from inventory.operations.requests import NewOperation, Target
from simfleet.events.v1 import accounts_pb2 as acc
from simfleet.events.v1 import audit_pb2
from simfleet.inventory.v1 import line_groups_pb2 as pb
from simfleet_runtime.audit import set_actor
from simfleet_runtime.bus import Event
from simfleet_runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from simfleet_runtime.ids import new_id

from .conftest import EVERYTHING, READER, Harness, sim  # type: ignore[import-not-found]
from .test_labels import numbers_where, outcomes  # type: ignore[import-not-found]


async def test_a_group_is_made_styled_renamed_with_its_lines_and_deleted_leaving_them(harness: Harness) -> None:
    groups = harness.inventory.groups
    manager = harness.manager()
    made = await groups.create(manager, node_id=harness.tree.root, name="Couriers", icon="truck", colour="orange")
    assert (made.group.name, made.group.icon, made.group.colour, made.node_id, made.line_count) == (
        "Couriers",
        "truck",
        "orange",
        harness.tree.root,
        0,
    )
    couriers = await harness.add_lines(3)
    setting, _ = await harness.inventory.operations.create(
        manager,
        NewOperation("set_group", targets=[Target(n) for n in couriers], params={"group_id": made.group.id}),
    )
    await harness.run()
    assert await outcomes(harness, setting.id) == {n: ("succeeded", None) for n in couriers}
    assert [(v.group.name, v.line_count) for v in await groups.list(manager)] == [("Couriers", 3)]

    renamed = await groups.update(manager, made.group.id, GroupChange(name="Drivers", colour="teal"))
    assert (renamed.group.name, renamed.group.icon, renamed.group.colour, renamed.line_count) == (
        "Drivers",
        "truck",
        "teal",
        3,
    )
    line = await harness.inventory.lines.line(manager, couriers[0])
    assert (line.group_id, line.group_name) == (made.group.id, "Drivers")
    assert await numbers_where(harness, LineFilter(group="Drivers")) == sorted(couriers)
    assert await numbers_where(harness, LineFilter(group_id=made.group.id)) == sorted(couriers)
    assert await numbers_where(harness, LineFilter(group="Couriers")) == []

    assert await groups.delete(manager, made.group.id) == 3
    line = await harness.inventory.lines.line(manager, couriers[0])
    assert (line.group_id, line.group_name) == (None, None)
    assert await groups.list(manager) == []
    with pytest.raises(NotFound):
        await groups.get(manager, made.group.id)


async def test_names_are_unique_per_node_and_style_and_name_are_checked(harness: Harness) -> None:
    groups = harness.inventory.groups
    manager = harness.manager()
    await groups.create(manager, node_id=harness.tree.north, name="Field", icon="", colour="")
    with pytest.raises(AlreadyExists) as taken:
        await groups.create(manager, node_id=harness.tree.north, name="Field", icon="star", colour="red")
    assert taken.value.reason == "GROUP_EXISTS"
    south = await groups.create(manager, node_id=harness.tree.south, name="Field", icon="star", colour="red")
    other = await groups.create(manager, node_id=harness.tree.south, name="Other", icon="star", colour="red")
    with pytest.raises(AlreadyExists):
        await groups.update(manager, other.group.id, GroupChange(name="Field"))
    assert (await groups.update(manager, south.group.id, GroupChange(name="Field"))).group.name == "Field"
    for kwargs, reason in (
        ({"name": " padded", "icon": "star", "colour": "red"}, "INVALID_GROUP_NAME"),
        ({"name": "x" * 101, "icon": "star", "colour": "red"}, "INVALID_GROUP_NAME"),
        ({"name": "ok", "icon": "rocket", "colour": "red"}, "INVALID_GROUP_ICON"),
        ({"name": "ok", "icon": "star", "colour": "#ff0000"}, "INVALID_GROUP_COLOUR"),
    ):
        with pytest.raises(InvalidArgument) as bad:
            await groups.create(manager, node_id=harness.tree.root, **kwargs)
        assert bad.value.reason == reason
    with pytest.raises(InvalidArgument):
        await groups.update(manager, south.group.id, GroupChange(colour="beige"))
    [north] = await groups.list(manager, for_node_id=harness.tree.north_account)
    assert (north.group.icon, north.group.colour) == ("people", "blue")  # the defaults


async def test_the_groups_limit_is_a_failed_precondition(harness: Harness) -> None:
    groups = harness.inventory.groups
    groups._max = 2
    for name in ("a", "b"):
        await groups.create(harness.manager(), node_id=harness.tree.root, name=name, icon="star", colour="red")
    with pytest.raises(FailedPrecondition) as full:
        await groups.create(harness.manager(), node_id=harness.tree.root, name="c", icon="star", colour="red")
    assert full.value.reason == "LINE_GROUPS_LIMIT"


async def test_scope_decides_what_a_department_sees_and_changes(harness: Harness) -> None:
    groups = harness.inventory.groups
    tree = harness.tree
    manager = harness.manager()
    company = await groups.create(manager, node_id=tree.root, name="Company", icon="building", colour="grey")
    north = await groups.create(manager, node_id=tree.north, name="North", icon="star", colour="green")
    south = await groups.create(manager, node_id=tree.south, name="South", icon="star", colour="red")
    north_lines = await harness.add_lines(2)
    south_lines = await harness.add_lines(1, node=tree.south_account)
    op, _ = await harness.inventory.operations.create(
        manager,
        NewOperation(
            "set_group",
            targets=[Target(n) for n in [*north_lines, *south_lines]],
            params={"group_id": company.group.id},
        ),
    )
    await harness.run()
    assert (await harness.inventory.operations.get(manager, op.id)).succeeded == 3

    north_manager = harness.access((tree.north, EVERYTHING))
    seen = {v.group.name: (v.node_id, v.line_count) for v in await groups.list(north_manager)}
    # The company's group is seen from below, its node unnamed, its lines counted only where they may be read.
    assert seen == {"Company": ("", 2), "North": (tree.north, 0)}
    for hidden in (south.group.id, "01JA5F6G7H8J9K0M1N2P3Q4R5S", "not an id"):
        with pytest.raises(NotFound):
            await groups.get(north_manager, hidden)
        with pytest.raises(NotFound):
            await groups.update(north_manager, hidden, GroupChange(name="Mine"))
        with pytest.raises(NotFound):
            await groups.delete(north_manager, hidden)
    with pytest.raises(PermissionDenied):
        await groups.update(north_manager, company.group.id, GroupChange(name="Ours"))
    with pytest.raises(PermissionDenied):
        await groups.delete(north_manager, company.group.id)
    with pytest.raises(NotFound):
        await groups.create(north_manager, node_id=tree.south, name="Spy", icon="star", colour="red")
    with pytest.raises(NotFound):
        await groups.list(north_manager, for_node_id=tree.south_account)

    reader = harness.access((tree.north, READER))
    with pytest.raises(PermissionDenied):
        await groups.create(reader, node_id=tree.north, name="Readers", icon="star", colour="red")
    with pytest.raises(PermissionDenied):
        await groups.update(reader, north.group.id, GroupChange(icon="phone"))

    other = harness.access((tree.root, EVERYTHING), customer_id="othercustomer000000000001")
    assert await groups.list(other) == []
    with pytest.raises(NotFound):
        await groups.get(other, company.group.id)


async def test_a_line_goes_only_into_a_group_above_it_and_leaves_it_when_moved_away(harness: Harness) -> None:
    groups = harness.inventory.groups
    tree = harness.tree
    manager = harness.manager()
    south = await groups.create(manager, node_id=tree.south, name="Shift", icon="headset", colour="purple")
    north = await groups.create(manager, node_id=tree.north, name="Shift", icon="headset", colour="pink")
    company = await groups.create(manager, node_id=tree.root, name="Shift", icon="headset", colour="blue")
    [north_line] = await harness.add_lines(1)
    [south_line] = await harness.add_lines(1, node=tree.south_account)
    ops = harness.inventory.operations
    refused, _ = await ops.create(
        manager, NewOperation("set_group", targets=[Target(north_line)], params={"group_id": south.group.id})
    )
    # By name: the nearest group of the name above each line.
    by_name, _ = await ops.create(
        manager, NewOperation("set_group", targets=[Target(north_line), Target(south_line)], params={"group": "Shift"})
    )
    unknown, _ = await ops.create(
        manager, NewOperation("set_group", targets=[Target(north_line)], params={"group": "Nobody"})
    )
    await harness.run()
    assert await outcomes(harness, refused.id) == {north_line: ("failed", "GROUP_NOT_FOUND")}
    assert await outcomes(harness, by_name.id) == {north_line: ("succeeded", None), south_line: ("succeeded", None)}
    assert await outcomes(harness, unknown.id) == {north_line: ("failed", "GROUP_NOT_FOUND")}
    assert (await harness.inventory.lines.line(manager, north_line)).group_id == north.group.id
    assert (await harness.inventory.lines.line(manager, south_line)).group_id == south.group.id

    to_company, _ = await ops.create(
        manager, NewOperation("set_group", targets=[Target(south_line)], params={"group_id": company.group.id})
    )
    moving = NewOperation(
        "move",
        targets=[Target(north_line), Target(south_line)],
        params={"node_id": tree.south_account, "personal_account_id": tree.south_account},
    )
    await harness.run()
    assert await outcomes(harness, to_company.id) == {south_line: ("succeeded", None)}
    moved, _ = await ops.create(manager, moving)
    await harness.run()
    assert (await ops.get(manager, moved.id)).succeeded == 1
    # The north group is not above the line's new node: the line left it; the company's group stays.
    line = await harness.inventory.lines.line(manager, north_line)
    assert (line.node_id, line.group_id, line.group_name) == (tree.south_account, None, None)
    assert (await harness.inventory.lines.line(manager, south_line)).group_id == company.group.id


async def test_lines_imported_with_a_group_name_join_the_companys_group_of_that_name(harness: Harness) -> None:
    numbers = harness.numbers(2)
    await harness.inventory.office.import_lines(
        customer_id=harness.tree.customer,
        lines=[
            ImportedLine(
                msisdn=n,
                sim=sim(int(n[5:])),
                node_id=harness.tree.north_account,
                personal_account_id=harness.tree.north_account,
                tariff_code="BIZ-M",
                state="active",
                group="Night shift",
            )
            for n in numbers
        ],
    )
    async with harness.db.sessions() as session:
        made = list((await session.scalars(sa.select(LineGroup))).all())
    assert [(g.name, g.node_id) for g in made] == [("Night shift", harness.tree.root)]
    assert await numbers_where(harness, LineFilter(group_id=made[0].id)) == numbers


def _node_event(subject: str, message: object, customer: str) -> Event:
    return Event(
        id=new_id(),
        subject=subject,
        data=message.SerializeToString(),  # type: ignore[attr-defined]
        headers={},
        tenant=customer,
        deliveries=1,
    )


async def test_groups_follow_the_tree_a_moved_subtree_leaving_the_groups_no_longer_above_it(harness: Harness) -> None:
    """accounts' events: a subtree moved elsewhere leaves the groups above its old place; a deleted node's go."""
    groups = harness.inventory.groups
    tree = harness.tree
    manager = harness.manager()
    north = await groups.create(manager, node_id=tree.north, name="North", icon="star", colour="green")
    company = await groups.create(manager, node_id=tree.root, name="Company", icon="building", colour="grey")
    account = await groups.create(manager, node_id=tree.north_account, name="Own", icon="phone", colour="red")
    lines = await harness.add_lines(3)
    ops = harness.inventory.operations
    for number, group in zip(lines, (north, company, account), strict=True):
        await ops.create(
            manager, NewOperation("set_group", targets=[Target(number)], params={"group_id": group.group.id})
        )
    await harness.run()
    assert [(await harness.inventory.lines.line(manager, n)).group_id for n in lines] == [
        north.group.id,
        company.group.id,
        account.group.id,
    ]

    handle = following_the_tree(harness.inventory.paths.handler())
    old_path = f"/{tree.root}/{tree.north}/{tree.north_account}/"
    new_path = f"/{tree.root}/{tree.south}/{tree.north_account}/"
    moved = acc.NodeMoved(
        node_id=tree.north_account,
        customer_id=tree.customer,
        old_parent_id=tree.north,
        new_parent_id=tree.south,
        old_path=old_path,
        new_path=new_path,
        moved_nodes=1,
    )
    async with harness.db.transaction() as session:
        await handle(session, _node_event("simfleet.accounts.node.moved", moved, tree.customer))
    # North is no longer above the account's lines; the company and the account's own group still are.
    assert [(await harness.inventory.lines.line(manager, n)).group_id for n in lines] == [
        None,
        company.group.id,
        account.group.id,
    ]
    assert (await harness.inventory.lines.line(manager, lines[0])).group_name is None
    assert {v.group.name: v.line_count for v in await groups.list(manager)} == {"Company": 1, "North": 0, "Own": 1}

    gone = acc.NodeDeleted(node_id=tree.north, customer_id=tree.customer, path=f"/{tree.root}/{tree.north}/")
    async with harness.db.transaction() as session:
        await handle(session, _node_event("simfleet.accounts.node.deleted", gone, tree.customer))
    async with harness.db.sessions() as session:
        kept = set((await session.scalars(sa.select(LineGroup.name))).all())
    assert kept == {"Company", "Own"}


GROUPS = "/simfleet.inventory.v1.LineGroupService/"


async def history(harness: Harness) -> list[audit_pb2.AuditRecorded]:
    async with harness.db.sessions() as session:
        rows = await session.execute(
            sa.select(BUS.outbox.c.payload)
            .where(BUS.outbox.c.subject == "simfleet.inventory.audit.recorded")
            .order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
        )
        return [audit_pb2.AuditRecorded.FromString(payload) for (payload,) in rows]


def described(events: list[audit_pb2.AuditRecorded]) -> list[tuple[str, str, str, list[tuple[str, str, str]]]]:
    return [(e.action, e.actor_id, e.result, [(o.kind, o.id, o.node_id) for o in e.objects]) for e in events]


async def test_making_changing_and_deleting_a_group_is_recorded_with_the_change(harness: Harness) -> None:
    groups, tree = harness.inventory.groups, harness.tree
    audit = harness.inventory.runtime.audit
    assert audit is not None
    manager = harness.manager()
    set_actor(manager.user_id, manager.customer_id)
    where = [("node", tree.north, tree.north)]

    # As the interceptor runs a call: the command writes its success, the interceptor then writes no second one.
    audit.begin()
    made = await groups.create(manager, node_id=tree.north, name="Couriers", icon="truck", colour="orange")
    request = pb.CreateLineGroupRequest(node_id=tree.north, name="Couriers")
    await audit.record(GROUPS + "CreateLineGroup", request, pb.CreateLineGroupResponse(), None)
    group = ("line_group", made.group.id, tree.north)
    assert described(await history(harness)) == [
        ("lines.groups.create", manager.user_id, "succeeded", [group, *where]),
    ]

    audit.begin()
    await groups.update(manager, made.group.id, GroupChange(name="Drivers"))
    await audit.record(GROUPS + "UpdateLineGroup", pb.UpdateLineGroupRequest(id=made.group.id), None, None)
    audit.begin()
    await groups.delete(manager, made.group.id)
    await audit.record(GROUPS + "DeleteLineGroup", pb.DeleteLineGroupRequest(id=made.group.id), None, None)
    assert described(await history(harness))[1:] == [
        ("lines.groups.update", manager.user_id, "succeeded", [group, *where]),
        ("lines.groups.delete", manager.user_id, "succeeded", [group, *where]),
    ]


async def test_a_refused_group_command_is_recorded_as_refused_and_changes_nothing(harness: Harness) -> None:
    groups, tree = harness.inventory.groups, harness.tree
    audit = harness.inventory.runtime.audit
    assert audit is not None
    north = await groups.create(harness.manager(), node_id=tree.north, name="North", icon="star", colour="green")
    before = len(await history(harness))
    reader = harness.access((tree.north, READER), user_id="reader0000000000000000001")
    set_actor(reader.user_id, reader.customer_id)

    refusals: list[tuple[str, Message, Callable[[], Awaitable[object]]]] = [
        (
            "CreateLineGroup",
            pb.CreateLineGroupRequest(node_id=tree.north, name="Readers"),
            lambda: groups.create(reader, node_id=tree.north, name="Readers", icon="", colour=""),
        ),
        (
            "UpdateLineGroup",
            pb.UpdateLineGroupRequest(id=north.group.id, name="Ours"),
            lambda: groups.update(reader, north.group.id, GroupChange(name="Ours")),
        ),
        (
            "DeleteLineGroup",
            pb.DeleteLineGroupRequest(id=north.group.id),
            lambda: groups.delete(reader, north.group.id),
        ),
    ]
    for method, request, command in refusals:
        audit.begin()  # as the interceptor runs a call, then records its refusal
        with pytest.raises(PermissionDenied) as refused:
            await command()
        await audit.record(GROUPS + method, request, None, refused.value)

    events = (await history(harness))[before:]
    assert described(events) == [
        ("lines.groups.create", reader.user_id, "failed", [("node", tree.north, tree.north)]),
        ("lines.groups.update", reader.user_id, "failed", [("line_group", north.group.id, "")]),
        ("lines.groups.delete", reader.user_id, "failed", [("line_group", north.group.id, "")]),
    ]
    assert {e.reason for e in events} == {"PERMISSION_MISSING"}
    assert [v.group.name for v in await groups.list(harness.manager())] == ["North"]


async def test_a_group_change_whose_record_cannot_be_written_is_not_made(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups, manager = harness.inventory.groups, harness.manager()
    made = await groups.create(manager, node_id=harness.tree.root, name="Couriers", icon="truck", colour="orange")
    audit = harness.inventory.runtime.audit
    assert audit is not None

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the outbox is not writable")

    monkeypatch.setattr(audit, "add", broken)
    with pytest.raises(RuntimeError):
        await groups.create(manager, node_id=harness.tree.root, name="Drivers", icon="truck", colour="teal")
    with pytest.raises(RuntimeError):
        await groups.update(manager, made.group.id, GroupChange(name="Riders"))
    with pytest.raises(RuntimeError):
        await groups.delete(manager, made.group.id)
    assert [v.group.name for v in await groups.list(manager)] == ["Couriers"]
