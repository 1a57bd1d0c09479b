"""Labels and groups set in bulk (AC-5): operations whose change is inventory's alone, found by filter at once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from inventory.admin.service import ImportedLine
from inventory.lines.models import LineLabel
from inventory.lines.service import LineFilter
from inventory.operations.requests import NewOperation, Selection, Target
from simfleet_runtime.errors import InvalidArgument, PermissionDenied

from .conftest import EVERYTHING, Harness, sim  # type: ignore[import-not-found]


async def numbers_where(harness: Harness, flt: LineFilter) -> list[str]:
    lines, _ = await harness.inventory.lines.find(harness.manager(), flt, page_size_=1000, page_token="", order_by="")
    return sorted(line.msisdn for line in lines)


async def outcomes(harness: Harness, operation_id: str) -> dict[str, tuple[str, str | None]]:
    items, _ = await harness.inventory.operations.items(
        harness.manager(), operation_id, states=[], page_size_=1000, page_token=""
    )
    return {i.msisdn: (i.state, i.code) for i in items}


async def indexed_labels(harness: Harness) -> set[tuple[str, str]]:
    async with harness.db.sessions() as session:
        rows = await session.execute(sa.select(LineLabel.line_id, LineLabel.label))
        return {(line_id, label) for line_id, label in rows.all()}


async def test_labels_are_added_and_removed_without_the_network_and_found_by_filter_at_once(harness: Harness) -> None:
    drivers = await harness.add_lines(3, labels=("drivers",))
    others = await harness.add_lines(2)
    ops = harness.inventory.operations
    add = NewOperation("add_labels", targets=[Target(n) for n in drivers + others], params={"labels": "north,vip"})
    operation, _ = await ops.create(harness.manager(), add)
    await harness.run()
    done = await ops.get(harness.manager(), operation.id)
    assert (done.state, done.succeeded, done.skipped) == ("completed", 5, 0)
    assert await harness.drain_commands() == []  # nothing went to the network
    line = await harness.inventory.lines.line(harness.manager(), drivers[0])
    assert line.labels == ["drivers", "north", "vip"]
    assert await numbers_where(harness, LineFilter(label="vip")) == sorted(drivers + others)
    assert await numbers_where(harness, LineFilter(label="drivers")) == sorted(drivers)
    *_, changed = await harness.lines_changed()
    assert (changed.cause, changed.operation_id) == ("add_labels", operation.id)

    again, _ = await ops.create(
        harness.manager(), NewOperation("add_labels", targets=[Target(drivers[0])], params={"labels": "vip"})
    )
    await harness.run()
    assert await outcomes(harness, again.id) == {drivers[0]: ("skipped", "ALREADY_LABELLED")}

    # Taken off by a selection: the lines labelled "drivers", resolved when it starts.
    remove = NewOperation("remove_labels", selection=Selection("", label="drivers"), params={"labels": "vip,drivers"})
    removed, _ = await ops.create(harness.manager(), remove)
    await harness.run()
    assert (await ops.get(harness.manager(), removed.id)).succeeded == 3
    assert (await harness.inventory.lines.line(harness.manager(), drivers[0])).labels == ["north"]
    assert await numbers_where(harness, LineFilter(label="drivers")) == []
    assert await numbers_where(harness, LineFilter(label="vip")) == sorted(others)
    ids = {n: (await harness.inventory.lines.line(harness.manager(), n)).id for n in drivers + others}
    expected = {(ids[n], "north") for n in drivers + others} | {(ids[n], "vip") for n in others}
    assert await indexed_labels(harness) == expected  # the index holds exactly the lines' labels

    none_left, _ = await ops.create(
        harness.manager(), NewOperation("remove_labels", targets=[Target(drivers[1])], params={"labels": "drivers"})
    )
    await harness.run()
    assert await outcomes(harness, none_left.id) == {drivers[1]: ("skipped", "NOT_LABELLED")}


async def test_a_group_is_set_and_cleared_and_lines_are_found_by_it(harness: Harness) -> None:
    couriers = await harness.add_lines(2)
    office = await harness.add_lines(1)
    for name in ("Couriers", "Office"):
        await harness.inventory.groups.create(
            harness.manager(), node_id=harness.tree.root, name=name, icon="truck", colour="green"
        )
    ops = harness.inventory.operations
    setting, _ = await ops.create(
        harness.manager(),
        NewOperation("set_group", targets=[Target(n) for n in couriers], params={"group": "Couriers"}),
    )
    await ops.create(
        harness.manager(), NewOperation("set_group", targets=[Target(office[0])], params={"group": "Office"})
    )
    await harness.run()
    assert (await ops.get(harness.manager(), setting.id)).succeeded == 2
    assert await numbers_where(harness, LineFilter(group="Couriers")) == sorted(couriers)
    assert (await harness.inventory.lines.line(harness.manager(), couriers[0])).group_name == "Couriers"

    moved, _ = await ops.create(
        harness.manager(),
        NewOperation("set_group", targets=[Target(n) for n in [*couriers, *office]], params={"group": "Office"}),
    )
    await harness.run()
    assert await outcomes(harness, moved.id) == {
        couriers[0]: ("succeeded", None),
        couriers[1]: ("succeeded", None),
        office[0]: ("skipped", "ALREADY_IN_GROUP"),
    }
    assert await numbers_where(harness, LineFilter(group="Office")) == sorted(couriers + office)

    cleared, _ = await ops.create(
        harness.manager(), NewOperation("clear_group", selection=Selection("", group="Office"))
    )
    await harness.run()
    assert (await ops.get(harness.manager(), cleared.id)).succeeded == 3
    assert await numbers_where(harness, LineFilter(group="Office")) == []
    assert (await harness.inventory.lines.line(harness.manager(), office[0])).group_name is None
    again, _ = await ops.create(harness.manager(), NewOperation("clear_group", targets=[Target(office[0])]))
    await harness.run()
    assert await outcomes(harness, again.id) == {office[0]: ("skipped", "NOT_IN_GROUP")}


async def test_labelling_needs_its_permission_and_stays_in_the_requesters_scope(harness: Harness) -> None:
    north = await harness.add_lines(1)
    south = await harness.add_lines(1, node=harness.tree.south_account)
    ops = harness.inventory.operations
    add = NewOperation("add_labels", targets=[Target(north[0]), Target(south[0])], params={"labels": "vip"})
    without = harness.access((harness.tree.root, EVERYTHING - {"lines:label"}), user_id="nolabels00000000000000001")
    with pytest.raises(PermissionDenied) as refused:
        await ops.create(without, add)
    assert refused.value.metadata == {"permission": "lines:label"}

    north_manager = harness.access((harness.tree.north, EVERYTHING), user_id="northmanager0000000000001")
    operation, _ = await ops.create(north_manager, add)
    await harness.run()
    assert await outcomes(harness, operation.id) == {
        north[0]: ("succeeded", None),
        south[0]: ("skipped", "NOT_FOUND"),
    }
    assert (await harness.inventory.lines.line(harness.manager(), south[0])).labels == []


@pytest.mark.parametrize(
    ("type_", "params", "field"),
    [
        ("add_labels", {}, "params.labels"),
        ("add_labels", {"labels": "a,b\u202ec"}, "params.labels[1]"),
        ("add_labels", {"labels": "x" * 65}, "params.labels[0]"),
        ("remove_labels", {"labels": "ok,\x00"}, "params.labels[1]"),
        ("set_group", {}, "params"),
        ("set_group", {"group_id": "not-an-id"}, "params.group_id"),
        ("set_group", {"group": "y" * 101}, "params.group"),
        ("set_group", {"group": "Night\tshift"}, "params.group"),
    ],
)
async def test_bad_labels_and_groups_are_refused_before_anything_is_accepted(
    harness: Harness, type_: str, params: dict[str, str], field: str
) -> None:
    [number] = await harness.add_lines(1)
    with pytest.raises(InvalidArgument) as refused:
        await harness.inventory.operations.create(
            harness.manager(), NewOperation(type_, targets=[Target(number)], params=params)
        )
    assert field in refused.value.field_violations
    assert (await harness.inventory.lines.line(harness.manager(), number)).labels == []


@pytest.mark.parametrize(
    ("where", "line"),
    [
        ("lines[0].labels[0]", {"labels": ("north,south",)}),
        ("lines[0].labels[0]", {"labels": ("z" * 65,)}),
        ("lines[0].labels[0]", {"labels": (" padded",)}),
        ("lines[0].group", {"group": "g" * 101}),
    ],
)
async def test_import_holds_labels_and_groups_to_the_same_rule(
    harness: Harness, where: str, line: dict[str, object]
) -> None:
    imported = ImportedLine(
        msisdn="+79990007001",
        sim=sim(7001),
        node_id=harness.tree.north_account,
        personal_account_id=harness.tree.north_account,
        tariff_code="corp",
        state="active",
        **line,  # type: ignore[arg-type]
    )
    with pytest.raises(InvalidArgument) as refused:
        await harness.inventory.office.import_lines(customer_id=harness.tree.customer, lines=[imported])
    assert where in refused.value.field_violations
