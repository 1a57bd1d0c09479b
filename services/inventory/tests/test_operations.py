"""Operations as a saga: accepted, started, sent in windows, completed or undone from the network's answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from inventory.admin.service import ImportedLine
from inventory.db import NODE_PATHS
from inventory.lines.models import Line
from inventory.lines.service import LineFilter
from inventory.models import BUS
from inventory.operations import service as operations_service
from inventory.operations.models import Item, Operation, TargetChunk
from inventory.operations.requests import NewOperation, Selection, Target
from inventory.operations.service import OperationService
from inventory.stock.models import Number, Sim
from simfleet.events.v1 import audit_pb2
from simfleet.netsim.v1 import hlr_pb2
from simfleet_runtime.audit import OPERATOR, set_actor
from simfleet_runtime.authz import Grant
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, ResourceExhausted
from simfleet_runtime.user_access import UserAccess

from .conftest import EVERYTHING, READER, Harness, iccid, sim  # type: ignore[import-not-found]


def block(numbers: list[str], **overrides: object) -> NewOperation:
    values: dict[str, object] = {
        "type": "block",
        "targets": [Target(n) for n in numbers],
        "params": {"block_type": "voluntary"},
    }
    values.update(overrides)
    return NewOperation(**values)  # type: ignore[arg-type]


async def items_of(harness: Harness, operation_id: str) -> list[Item]:
    items, _ = await harness.inventory.operations.items(
        harness.manager(), operation_id, states=[], page_size_=1000, page_token=""
    )
    return items


async def test_a_block_goes_to_the_network_and_the_line_is_blocked_from_its_answer(harness: Harness) -> None:
    [number] = await harness.add_lines(1, services=("voice", "sms", "data", "roaming"))
    ops = harness.inventory.operations
    operation, replayed = await ops.create(harness.manager(), block([number]))
    assert (operation.state, operation.total, operation.pending, replayed) == ("scheduled", 1, 1, False)

    await harness.inventory.engine.step()
    [command] = await harness.drain_commands()
    [hlr_item] = command.items
    assert (hlr_item.msisdn, hlr_item.params["block_type"], command.correlation_id) == (
        number,
        "voluntary",
        operation.id,
    )
    running = await ops.get(harness.manager(), operation.id)
    assert (running.state, running.in_progress) == ("running", 1)
    line = await harness.inventory.lines.line(harness.manager(), number)
    assert line.pending_operation_id == operation.id and line.state == "active"

    result = harness.result_of(command)
    await harness.answer(result)
    await harness.answer(result)  # a redelivered answer changes nothing
    done = await ops.get(harness.manager(), operation.id)
    assert (done.state, done.succeeded, done.in_progress, done.failed) == ("completed", 1, 0, 0)
    line = await harness.inventory.lines.line(harness.manager(), number)
    assert (line.state, [b["type"] for b in line.blocks], line.pending_operation_id) == ("blocked", ["voluntary"], None)
    *_, changed = await harness.lines_changed()
    assert (changed.msisdn, changed.imsi, list(changed.services), changed.cause, changed.operation_id) == (
        number,
        line.imsi,
        ["voice", "sms", "data", "roaming"],
        "block",
        operation.id,
    )
    assert list(changed.block_types) == ["voluntary"]

    again, _ = await ops.create(harness.manager(), block([number]))
    await harness.run()
    [item] = await items_of(harness, again.id)
    assert (item.state, item.code) == ("skipped", "ALREADY_BLOCKED")
    assert (await ops.get(harness.manager(), again.id)).state == "completed"


async def test_a_bulk_block_ends_with_errors_on_exactly_the_lines_the_network_refused(harness: Harness) -> None:
    numbers = await harness.add_lines(150)
    refused = set(numbers[7::20])
    harness.network.failing = {n: "the HLR did not answer in time" for n in refused}
    operation, _ = await harness.inventory.operations.create(harness.manager(), block(numbers))
    await harness.run()
    done = await harness.inventory.operations.get(harness.manager(), operation.id)
    assert (done.state, done.succeeded, done.failed, done.skipped) == (
        "completed_with_errors",
        150 - len(refused),
        len(refused),
        0,
    )
    items = await items_of(harness, operation.id)
    assert {i.msisdn for i in items if i.state == "failed"} == refused
    assert {i.reason for i in items if i.state == "failed"} == {"the HLR did not answer in time"}
    assert {i.code for i in items if i.state == "failed"} == {"SYSTEM_FAILURE"}
    blocked, _ = await harness.inventory.lines.find(
        harness.manager(),
        LineFilter(states=["blocked"]),
        page_size_=1000,
        page_token="",
        order_by="",
    )
    assert {line.msisdn for line in blocked} == set(numbers) - refused
    assert len(harness.network.applied) == 150 - len(refused)  # each item went to the network once


async def test_at_most_a_window_of_items_is_in_the_network_at_once(harness: Harness) -> None:
    numbers = await harness.add_lines(150)
    operation, _ = await harness.inventory.operations.create(harness.manager(), block(numbers))
    await harness.inventory.engine.step()
    await harness.inventory.engine.step()
    running = await harness.inventory.operations.get(harness.manager(), operation.id)
    assert (running.in_progress, running.pending) == (60, 90)
    commands = await harness.drain_commands()
    assert [len(c.items) for c in commands] == [20, 20, 20]


async def test_a_selection_takes_the_lines_in_the_requesters_scope_when_the_operation_starts(harness: Harness) -> None:
    active = await harness.add_lines(4)
    await harness.add_lines(2, state="ready")
    south = await harness.add_lines(3, node=harness.tree.south_account)
    north_manager = harness.access((harness.tree.north, EVERYTHING))
    with pytest.raises(NotFound):
        await harness.inventory.operations.create(
            north_manager,
            NewOperation("block", selection=Selection(harness.tree.south), params={"block_type": "voluntary"}),
        )
    operation, _ = await harness.inventory.operations.create(
        harness.manager(),
        NewOperation(
            "block", selection=Selection(harness.tree.root, states=["active"]), params={"block_type": "financial"}
        ),
    )
    late = await harness.add_lines(1)  # added before the start: taken too
    await harness.run()
    done = await harness.inventory.operations.get(harness.manager(), operation.id)
    assert (done.state, done.total, done.succeeded) == ("completed", 8, 8)
    assert sorted(i.msisdn for i in await items_of(harness, operation.id)) == sorted(active + south + late)


async def test_a_selection_without_a_node_takes_its_lines_wherever_the_requester_may_change_them(
    harness: Harness,
) -> None:
    north_vip = await harness.add_lines(2, labels=("vip",))
    await harness.add_lines(2)
    south_vip = await harness.add_lines(1, node=harness.tree.south_account, labels=("vip",))
    north_manager = harness.access((harness.tree.north, EVERYTHING))
    by_label = NewOperation("block", selection=Selection("", label="vip"), params={"block_type": "voluntary"})
    theirs, _ = await harness.inventory.operations.create(north_manager, by_label)
    assert theirs.node_id == harness.tree.north  # where the requester's grant is, so they see it
    await harness.run()
    assert sorted(i.msisdn for i in await items_of(harness, theirs.id)) == sorted(north_vip)
    everyone, _ = await harness.inventory.operations.create(
        harness.manager(),
        NewOperation("block", selection=Selection("", label="vip"), params={"block_type": "lost_or_stolen"}),
    )
    assert everyone.node_id == harness.tree.root
    await harness.run()
    assert sorted(i.msisdn for i in await items_of(harness, everyone.id)) == sorted(north_vip + south_vip)
    with pytest.raises(InvalidArgument) as empty:
        await harness.inventory.operations.create(
            harness.manager(), NewOperation("block", selection=Selection(""), params={"block_type": "voluntary"})
        )
    assert "selection" in empty.value.field_violations


async def test_lines_given_by_number_outside_the_scope_are_skipped_as_unknown(harness: Harness) -> None:
    north = await harness.add_lines(2)
    south = await harness.add_lines(1, node=harness.tree.south_account)
    requester = harness.access((harness.tree.north, EVERYTHING))
    operation, _ = await harness.inventory.operations.create(requester, block([*north, *south, "+79990009999"]))
    assert operation.node_id == harness.tree.north_account
    await harness.run()
    items = {i.msisdn: (i.state, i.code) for i in await items_of(harness, operation.id)}
    assert items[south[0]] == items["+79990009999"] == ("skipped", "NOT_FOUND")
    assert items[north[0]] == ("succeeded", None)
    assert (await harness.inventory.operations.get(requester, operation.id)).state == "completed"


async def test_a_scheduled_operation_waits_for_its_time(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    at = harness.inventory.runtime.clock.now() + timedelta(hours=2)
    operation, _ = await harness.inventory.operations.create(harness.manager(), block([number], scheduled_at=at))
    await harness.run()
    assert (await harness.inventory.operations.get(harness.manager(), operation.id)).state == "scheduled"
    harness.set_clock_offset(2 * 3600 + 1)
    await harness.run()
    done = await harness.inventory.operations.get(harness.manager(), operation.id)
    assert done.state == "completed" and done.started_at is not None and done.started_at >= at


async def test_cancelling_a_running_operation_skips_what_was_not_sent(harness: Harness) -> None:
    numbers = await harness.add_lines(150)
    ops, engine = harness.inventory.operations, harness.inventory.engine
    operation, _ = await ops.create(harness.manager(), block(numbers))
    await engine.step()
    in_flight = await harness.drain_commands()
    cancelled = await ops.cancel(harness.manager(), operation.id)
    assert cancelled.cancel_requested and cancelled.state == "running"
    await engine.step()
    for command in in_flight:
        await harness.answer(harness.result_of(command))
    await harness.run()
    done = await ops.get(harness.manager(), operation.id)
    assert (done.state, done.succeeded, done.skipped, done.pending, done.in_progress) == ("cancelled", 60, 90, 0, 0)
    assert {i.code for i in await items_of(harness, operation.id) if i.state == "skipped"} == {"CANCELLED"}
    with pytest.raises(FailedPrecondition):
        await ops.cancel(harness.manager(), operation.id)


async def test_cancelling_a_scheduled_operation_ends_it_at_once(harness: Harness) -> None:
    numbers = await harness.add_lines(3)
    at = harness.inventory.runtime.clock.now() + timedelta(hours=1)
    operation, _ = await harness.inventory.operations.create(harness.manager(), block(numbers, scheduled_at=at))
    done = await harness.inventory.operations.cancel(harness.manager(), operation.id)
    assert (done.state, done.skipped, done.pending) == ("cancelled", 3, 0)


async def test_a_sim_is_replaced_by_one_of_the_customers_reserve(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    old = (await harness.inventory.lines.line(harness.manager(), number)).iccid
    await harness.inventory.office.import_stock(
        customer_id=harness.tree.customer, sims=[sim(900001), sim(900002)], msisdns=[]
    )
    ops = harness.inventory.operations
    operation, _ = await ops.create(
        harness.manager(), NewOperation("replace_sim", targets=[Target(number, {"iccid": iccid(900001)})])
    )
    await harness.run()
    assert (await ops.get(harness.manager(), operation.id)).state == "completed"
    line = await harness.inventory.lines.line(harness.manager(), number)
    assert (line.iccid, line.imsi, line.msisdn) == (iccid(900001), sim(900001).imsi, number)
    async with harness.db.sessions() as session:
        states = dict(
            (await session.execute(sa.select(Sim.iccid, Sim.state).where(Sim.iccid.in_([old, iccid(900001)])))).all()
        )
    assert states == {old: "retired", iccid(900001): "installed"}

    # Refused by the network: the reserve SIM goes back to the reserve.
    harness.network.failing = {number: "the HLR refused the swap"}
    failed, _ = await ops.create(
        harness.manager(), NewOperation("replace_sim", targets=[Target(number, {"iccid": iccid(900002)})])
    )
    await harness.run()
    assert (await ops.get(harness.manager(), failed.id)).state == "failed"
    async with harness.db.sessions() as session:
        assert await session.scalar(sa.select(Sim.state).where(Sim.iccid == iccid(900002))) == "in_stock"
    # Not a SIM of the reserve: failed without asking the network.
    other, _ = await ops.create(
        harness.manager(), NewOperation("replace_sim", targets=[Target(number, {"iccid": iccid(1)})])
    )
    await harness.run()
    [item] = await items_of(harness, other.id)
    assert (item.state, item.code) == ("failed", "SIM_NOT_AVAILABLE")
    with pytest.raises(InvalidArgument):
        await ops.create(
            harness.manager(), NewOperation("replace_sim", targets=[Target(number, {"iccid": "8970199000000000001"})])
        )


async def test_a_number_changes_to_a_free_one_and_the_old_one_rests(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    await harness.inventory.office.import_stock(customer_id="", sims=[], msisdns=["+79995550001", "+79995550002"])
    free = await harness.inventory.lines.free_numbers(harness.manager(), contains="555", page_size_=10)
    assert free == ["+79995550001", "+79995550002"]
    ops = harness.inventory.operations
    operation, _ = await ops.create(
        harness.manager(), NewOperation("change_number", targets=[Target(number, {"msisdn": "+79995550002"})])
    )
    await harness.run()
    assert (await ops.get(harness.manager(), operation.id)).state == "completed"
    line = await harness.inventory.lines.line(harness.manager(), "+79995550002")
    assert line.msisdn == "+79995550002"
    async with harness.db.sessions() as session:
        states = dict(
            (
                await session.execute(
                    sa.select(Number.msisdn, Number.state).where(Number.msisdn.in_([number, "+79995550002"]))
                )
            ).all()
        )
    assert states == {number: "quarantined", "+79995550002": "assigned"}
    assert await harness.inventory.lines.free_numbers(harness.manager(), contains="", page_size_=10) == ["+79995550001"]


async def test_ordered_sims_arrive_as_ready_lines_under_the_node(harness: Harness) -> None:
    await harness.inventory.office.import_stock(
        customer_id="", sims=[sim(800000 + n) for n in range(3)], msisdns=[f"+7999444000{n}" for n in range(3)]
    )
    ops = harness.inventory.operations
    operation, _ = await ops.order_sims(
        harness.manager(),
        node_id=harness.tree.south_account,
        personal_account_id=harness.tree.south_account,
        quantity=4,
        tariff_code="IOT-S",
        idempotency_key="order-1",
    )
    await harness.run()
    done = await ops.get(harness.manager(), operation.id)
    assert (done.state, done.succeeded, done.failed) == ("completed_with_errors", 3, 1)
    items = await items_of(harness, operation.id)
    assert [i.code for i in items if i.state == "failed"] == ["OUT_OF_STOCK"]
    for item in items[:3]:
        line = await harness.inventory.lines.line(harness.manager(), item.msisdn)
        assert (line.state, line.tariff_code, line.node_id) == ("ready", "IOT-S", harness.tree.south_account)
        assert line.services == ["voice", "sms", "data"]  # the basic services, and the network is told so
    registered = [item for item in harness.network.applied if item.action == hlr_pb2.PROVISIONING_ACTION_REGISTER]
    assert len(registered) == 3 and {item.params["services"] for item in registered} == {"voice,sms,data"}
    again, replayed = await ops.order_sims(
        harness.manager(),
        node_id=harness.tree.south_account,
        personal_account_id=harness.tree.south_account,
        quantity=4,
        tariff_code="IOT-S",
        idempotency_key="order-1",
    )
    assert replayed and again.id == operation.id


async def test_apns_forwarding_and_moves(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    ops, manager = harness.inventory.operations, harness.manager()
    for new in (
        NewOperation(
            "add_apn", targets=[Target(number)], params={"apn": "iot.corp", "pdp_type": "ipv4", "static_ip": "10.1.2.3"}
        ),
        NewOperation(
            "set_forwarding", targets=[Target(number)], params={"condition": "busy", "target": "+79990001122"}
        ),
        NewOperation(
            "move",
            targets=[Target(number)],
            params={"node_id": harness.tree.south, "personal_account_id": harness.tree.south_account},
        ),
    ):
        operation, _ = await ops.create(manager, new)
        await harness.run()
        assert (await ops.get(manager, operation.id)).state == "completed", new.type
    line = await harness.inventory.lines.line(manager, number)
    assert [(a["name"], a["static_ip"]) for a in line.apns] == [("iot.corp", "10.1.2.3")]
    assert line.forwarding == {"busy": "+79990001122"}
    assert (line.node_id, line.personal_account_id) == (harness.tree.south, harness.tree.south_account)
    with pytest.raises(InvalidArgument):
        await ops.create(
            manager,
            NewOperation(
                "set_forwarding", targets=[Target(number)], params={"condition": "busy", "target": "+4915112345678"}
            ),
        )
    with pytest.raises(InvalidArgument):
        await ops.create(manager, NewOperation("add_apn", targets=[Target(number)], params={"apn": "bad apn!"}))
    operation, _ = await ops.create(
        manager, NewOperation("remove_apn", targets=[Target(number)], params={"apn": "iot.corp"})
    )
    await harness.run()
    assert (await harness.inventory.lines.line(manager, number)).apns == []


async def test_bad_requests_change_nothing(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    ops, manager = harness.inventory.operations, harness.manager()
    for bad in (
        NewOperation("explode", targets=[Target(number)]),
        block([number], params={}),
        block([number], params={"block_type": "voluntary", "colour": "red"}),
        block([]),
        block([number], selection=Selection(harness.tree.root)),
        block([number, number]),
        block(["not a number"]),
        NewOperation(
            "block", selection=Selection(harness.tree.root, states=["sleeping"]), params={"block_type": "voluntary"}
        ),
    ):
        with pytest.raises(InvalidArgument):
            await ops.create(manager, bad)
    with pytest.raises(PermissionDenied):
        await ops.create(harness.access((harness.tree.root, READER)), block([number]))
    # A node outside the scope is not found, even for a caller who may block nothing anywhere.
    south_reader = harness.access((harness.tree.south, READER))
    by_node = NewOperation("block", selection=Selection(harness.tree.north), params={"block_type": "voluntary"})
    with pytest.raises(NotFound):
        await ops.create(south_reader, by_node)
    with pytest.raises(PermissionDenied):
        await ops.create(harness.access((harness.tree.north, READER)), by_node)
    listed, _ = await ops.find(manager, states=[], type_="", page_size_=100, page_token="")
    assert listed == []


async def test_a_move_to_a_node_outside_the_scope_is_not_found_whatever_the_caller_may_do(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    ops = harness.inventory.operations
    to_south = NewOperation("move", targets=[Target(number)], params={"node_id": harness.tree.south})
    for caller in (
        harness.access((harness.tree.north, READER)),  # may move nothing anywhere
        harness.access((harness.tree.north, frozenset({"lines:read", "lines:move"}))),
    ):
        with pytest.raises(NotFound):
            await ops.create(caller, to_south)
    with pytest.raises(PermissionDenied):
        await ops.create(harness.access((harness.tree.south, READER)), to_south)


async def test_the_same_idempotency_key_returns_the_same_operation(harness: Harness) -> None:
    numbers = await harness.add_lines(2)
    ops, manager = harness.inventory.operations, harness.manager()
    first, replayed = await ops.create_idempotent(manager, block(numbers, idempotency_key="k-1"))
    second, replayed_again = await ops.create_idempotent(manager, block(numbers, idempotency_key="k-1"))
    assert (replayed, replayed_again, second.id, second.total) == (False, True, first.id, 2)
    # The key was used for those two lines: another request under it is refused, not answered with the first.
    for other in (
        block(numbers[:1], idempotency_key="k-1"),
        block(numbers[::-1], idempotency_key="k-1"),
        NewOperation(
            "block", targets=[Target(n) for n in numbers], params={"block_type": "financial"}, idempotency_key="k-1"
        ),
        NewOperation(
            "unblock", targets=[Target(n) for n in numbers], params={"block_type": "voluntary"}, idempotency_key="k-1"
        ),
    ):
        with pytest.raises(InvalidArgument) as reused:
            await ops.create_idempotent(manager, other)
        assert (reused.value.reason, list(reused.value.field_violations)) == (
            "IDEMPOTENCY_KEY_REUSED",
            ["idempotency_key"],
        )
    with pytest.raises(InvalidArgument) as elsewhere:  # nor on another call sharing the key's scope
        await ops.order_sims(
            manager,
            node_id=harness.tree.north_account,
            personal_account_id="",
            quantity=1,
            tariff_code="IOT-S",
            idempotency_key="k-1",
        )
    assert elsewhere.value.reason == "IDEMPOTENCY_KEY_REUSED"
    order = {"node_id": harness.tree.north_account, "personal_account_id": "", "tariff_code": "IOT-S"}
    ordered, _ = await ops.order_sims(manager, quantity=2, idempotency_key="o-1", **order)
    again, replayed_order = await ops.order_sims(manager, quantity=2, idempotency_key="o-1", **order)
    assert (again.id, replayed_order) == (ordered.id, True)
    with pytest.raises(InvalidArgument) as more:
        await ops.order_sims(manager, quantity=3, idempotency_key="o-1", **order)
    assert more.value.reason == "IDEMPOTENCY_KEY_REUSED"
    other_user = harness.access((harness.tree.root, EVERYTHING), user_id="another0000000000000000001")
    third, replayed_third = await ops.create_idempotent(other_user, block(numbers, idempotency_key="k-1"))
    assert third.id != first.id and not replayed_third


async def test_who_sees_an_operation(harness: Harness) -> None:
    numbers = await harness.add_lines(1)
    south = await harness.add_lines(1, node=harness.tree.south_account)
    ops = harness.inventory.operations
    operation, _ = await ops.create(harness.manager(), block(numbers))
    assert (await ops.get(harness.access((harness.tree.north, READER)), operation.id)).id == operation.id
    with pytest.raises(NotFound):
        await ops.get(harness.access((harness.tree.south, READER)), operation.id)
    with pytest.raises(NotFound):
        await ops.items(
            harness.access((harness.tree.south, READER)), operation.id, states=[], page_size_=10, page_token=""
        )
    mine, _ = await ops.create(
        harness.access((harness.tree.south, EVERYTHING), user_id="south000000000000000000001"), block(south)
    )
    listed, _ = await ops.find(
        harness.access((harness.tree.south, READER)), states=[], type_="", page_size_=10, page_token=""
    )
    assert [o.id for o in listed] == [mine.id]
    everything, _ = await ops.find(harness.manager(), states=["scheduled"], type_="block", page_size_=10, page_token="")
    assert [o.id for o in everything] == [mine.id, operation.id]


async def test_an_sms_reaches_the_active_lines_and_completes_on_its_receipt(harness: Harness) -> None:
    active = await harness.add_lines(2)
    blocked = await harness.add_lines(1, state="blocked", block_type="financial")
    ops, manager = harness.inventory.operations, harness.manager()
    text = "Fleet meeting at 9:00\nBring your SIM cards"
    operation, _ = await ops.create(
        manager, NewOperation("send_sms", targets=[Target(n) for n in active + blocked], params={"text": text})
    )
    await harness.inventory.engine.step()
    sent = await harness.drain_sms()
    assert sorted(s.to_msisdn for s in sent) == active
    assert {(s.text, s.sender) for s in sent} == {(text, "SIMfleet")}
    running = await ops.get(manager, operation.id)
    assert (running.state, running.in_progress, running.skipped) == ("running", 2, 1)
    for sms in sent:
        await harness.deliver(sms)
        await harness.deliver(sms)  # a repeated receipt changes nothing
    done = await ops.get(manager, operation.id)
    assert (done.state, done.succeeded, done.skipped) == ("completed", 2, 1)
    items = {i.msisdn: i.code for i in await items_of(harness, operation.id)}
    assert items[blocked[0]] == "LINE_BLOCKED"
    for bad in (
        {"text": ""},
        {"text": "x" * 671},
        {"text": "hi", "sender": "Far too long a name"},
        {"text": "hi", "to": "x"},
    ):
        with pytest.raises(InvalidArgument):
            await ops.create(manager, NewOperation("send_sms", targets=[Target(active[0])], params=bad))


async def test_lines_are_billed_only_to_personal_accounts(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    tree, ops, manager = harness.tree, harness.inventory.operations, harness.manager()

    def move_to(**params: str) -> NewOperation:
        return NewOperation("move", targets=[Target(number)], params=params)

    # A department named as the personal account: refused, naming the field and the reason.
    with pytest.raises(InvalidArgument) as refused:
        await ops.create(manager, move_to(personal_account_id=tree.south))
    assert refused.value.reason == "NOT_A_PERSONAL_ACCOUNT"
    assert list(refused.value.field_violations) == ["params.personal_account_id"]
    with pytest.raises(InvalidArgument) as refused:
        await ops.order_sims(
            manager,
            node_id=tree.south,
            personal_account_id=tree.root,
            quantity=1,
            tariff_code="IOT-S",
            idempotency_key="",
        )
    assert (refused.value.reason, list(refused.value.field_violations)) == (
        "NOT_A_PERSONAL_ACCOUNT",
        ["personal_account_id"],
    )
    # An order for a node that is not one must say which account pays.
    with pytest.raises(InvalidArgument) as refused:
        await ops.order_sims(
            manager, node_id=tree.south, personal_account_id="", quantity=1, tariff_code="IOT-S", idempotency_key=""
        )
    assert (refused.value.reason, list(refused.value.field_violations)) == (
        "PERSONAL_ACCOUNT_REQUIRED",
        ["personal_account_id"],
    )
    # A personal account outside the caller's scope is not found, whatever it is.
    north_mover = harness.access((tree.north, EVERYTHING), user_id="north000000000000000000001")
    with pytest.raises(NotFound):
        await ops.create(north_mover, move_to(personal_account_id=tree.south_account))
    with pytest.raises(NotFound):
        await ops.order_sims(
            north_mover,
            node_id=tree.north,
            personal_account_id=tree.south_account,
            quantity=1,
            tariff_code="IOT-S",
            idempotency_key="",
        )
    listed, _ = await ops.find(manager, states=[], type_="", page_size_=100, page_token="")
    assert listed == []  # nothing refused was made

    # A personal account is accepted; an order for one bills it by default.
    moved, _ = await ops.create(manager, move_to(node_id=tree.south, personal_account_id=tree.south_account))
    ordered, _ = await ops.order_sims(
        manager, node_id=tree.north_account, personal_account_id="", quantity=1, tariff_code="IOT-S", idempotency_key=""
    )
    assert moved.params["personal_account_id"] == tree.south_account
    assert (ordered.node_id, ordered.params["personal_account_id"]) == (tree.north_account, tree.north_account)


async def test_a_node_projected_before_kinds_were_kept_is_not_refused(harness: Harness) -> None:
    """Its kind is not known (NULL): the lines already billed to it keep being movable to it."""
    [number] = await harness.add_lines(1)
    tree, ops, manager = harness.tree, harness.inventory.operations, harness.manager()
    async with harness.db.transaction() as session:
        await session.execute(sa.update(NODE_PATHS).where(NODE_PATHS.c.node_id == tree.south).values(kind=None))
    operation, _ = await ops.create(
        manager, NewOperation("move", targets=[Target(number)], params={"personal_account_id": tree.south})
    )
    assert operation.params["personal_account_id"] == tree.south
    # Not known is not known to be one either: an order cannot derive its account from it.
    with pytest.raises(InvalidArgument) as refused:
        await ops.order_sims(
            manager, node_id=tree.south, personal_account_id="", quantity=1, tariff_code="IOT-S", idempotency_key=""
        )
    assert refused.value.reason == "PERSONAL_ACCOUNT_REQUIRED"


async def test_activate_brings_ready_lines_live_through_the_hlr_and_skips_the_rest(harness: Harness) -> None:
    ready = await harness.add_lines(2, state="ready")
    [active] = await harness.add_lines(1)
    [blocked] = await harness.add_lines(1, state="blocked", block_type="financial")
    [terminated] = await harness.add_lines(1)
    async with harness.db.transaction() as session:
        await session.execute(sa.update(Line).where(Line.msisdn == terminated).values(state="terminated"))
    harness.network.failing = {ready[1]: "the HLR refused the activation"}
    ops, manager = harness.inventory.operations, harness.manager()
    operation, _ = await ops.create(
        manager, NewOperation("activate", targets=[Target(n) for n in [*ready, active, blocked, terminated]])
    )

    await harness.inventory.engine.step()
    commands = await harness.drain_commands()
    sent = [item for command in commands for item in command.items]
    # Only the ready lines go to the network, each as an ACTIVATE of its subscriber.
    assert sorted((i.msisdn, i.action) for i in sent) == [
        (n, hlr_pb2.PROVISIONING_ACTION_ACTIVATE) for n in sorted(ready)
    ]
    first = await harness.inventory.lines.line(manager, ready[0])
    assert {(i.imsi, i.iccid) for i in sent if i.msisdn == ready[0]} == {(first.imsi, first.iccid)}
    assert (first.state, first.pending_operation_id) == ("ready", operation.id)  # live only on the HLR's yes
    for command in commands:
        await harness.answer(harness.result_of(command))

    done = await ops.get(manager, operation.id)
    assert (done.state, done.succeeded, done.failed, done.skipped) == ("completed_with_errors", 1, 1, 3)
    items = {i.msisdn: i for i in await items_of(harness, operation.id)}
    outcome = {n: (i.state, i.code) for n, i in items.items()}
    assert outcome[ready[0]] == ("succeeded", None)
    assert outcome[ready[1]][0] == "failed"
    assert outcome[active] == ("skipped", "ALREADY_ACTIVE")
    # A blocked line is not active: activating it does not lift its blocks (that is unblock's, under its own
    # permissions), and it says so instead of calling the line active.
    assert outcome[blocked] == ("skipped", "LINE_BLOCKED")
    assert "unblock" in (items[blocked].reason or "")
    assert outcome[terminated] == ("skipped", "LINE_TERMINATED")
    numbers = [*ready, active, blocked, terminated]
    states = {n: (await harness.inventory.lines.line(manager, n)).state for n in numbers}
    assert states == {
        ready[0]: "active",
        ready[1]: "ready",
        active: "active",
        blocked: "blocked",
        terminated: "terminated",
    }
    assert [b["type"] for b in (await harness.inventory.lines.line(manager, blocked)).blocks] == ["financial"]
    assert [i.msisdn for i in harness.network.applied if i.action == hlr_pb2.PROVISIONING_ACTION_ACTIVATE] == [ready[0]]


async def test_lifting_a_financial_or_lost_block_needs_its_own_permission(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    ops = harness.inventory.operations
    blocker = harness.access((harness.tree.root, frozenset({"lines:read", "lines:block"})))
    lifter = harness.access(
        (harness.tree.root, frozenset({"lines:read", "lines:block", "lines:lift-protected-blocks"}))
    )
    for kind in ("financial", "lost_or_stolen"):
        unblock = NewOperation("unblock", targets=[Target(number, {})], params={"block_type": kind})
        with pytest.raises(PermissionDenied) as refused:
            await ops.create(blocker, unblock)
        assert refused.value.metadata["permission"] == "lines:lift-protected-blocks"
        accepted, _ = await ops.create(lifter, unblock)
        assert accepted.type == "unblock"
    # A voluntary block is still lifted by whoever may block.
    voluntary = NewOperation("unblock", targets=[Target(number, {})], params={"block_type": "voluntary"})
    assert (await ops.create(blocker, voluntary))[0].type == "unblock"


async def test_sim_orders_take_known_tariffs_and_a_customer_cannot_empty_the_shared_stock(harness: Harness) -> None:
    tree, manager = harness.tree, harness.manager()
    ops = OperationService(
        db=harness.inventory.runtime.db,
        clock=harness.inventory.runtime.clock,
        outbox=harness.inventory.runtime.outbox,
        max_lines=1000,
        tariffs=["IOT-S"],
        order_quota_per_day=10,
    )

    async def order(quantity: int, tariff: str = "IOT-S") -> object:
        return await ops.order_sims(
            manager,
            node_id=tree.north_account,
            personal_account_id="",
            quantity=quantity,
            tariff_code=tariff,
            idempotency_key="",
        )

    with pytest.raises(InvalidArgument) as unknown:
        await order(1, "NO-SUCH-TARIFF")
    assert (unknown.value.reason, list(unknown.value.field_violations)) == ("UNKNOWN_TARIFF", ["tariff_code"])
    await order(6)
    with pytest.raises(ResourceExhausted) as quota:
        await order(5)
    assert quota.value.reason == "SIM_ORDER_QUOTA" and quota.value.metadata["left"] == "4"
    await order(4)
    harness.set_clock_offset(24 * 3600 + 1)  # the window moves on
    harness.inventory.runtime.clock._checked = float("-inf")  # type: ignore[attr-defined]
    await order(10)


async def test_a_scheduled_operation_runs_with_the_authority_its_requester_has_when_it_starts(harness: Harness) -> None:
    north = await harness.add_lines(2, node=harness.tree.north)
    south = await harness.add_lines(2, node=harness.tree.south)
    ops, requester = harness.inventory.operations, harness.manager()
    at = harness.inventory.runtime.clock.now() + timedelta(hours=1)
    narrowed, _ = await ops.create(requester, block(north + south, scheduled_at=at))
    by_selection, _ = await ops.create(
        requester,
        NewOperation(
            "block", selection=Selection(harness.tree.root), params={"block_type": "voluntary"}, scheduled_at=at
        ),
    )
    # Meanwhile the requester kept lines:block over north only.
    harness.authority.known[requester.user_id] = UserAccess(
        True, (Grant(harness.tree.north, frozenset({"lines:read", "lines:block"}), "custom"),)
    )
    harness.authority.down = True  # identity unreachable: nothing starts on the old authority
    harness.set_clock_offset(3600 + 1)
    await harness.run()
    assert (await ops.get(requester, narrowed.id)).state == "scheduled"
    harness.authority.down = False
    await harness.run()
    items = {i.msisdn: (i.state, i.code) for i in await items_of(harness, narrowed.id)}
    assert [items[n] for n in north] == [("succeeded", None)] * 2
    assert [items[n][0] for n in south] == ["skipped"] * 2
    selected = {i.msisdn for i in await items_of(harness, by_selection.id)}
    assert selected == set(north)  # the selection now reaches north only

    # A disabled requester's operation is refused line by line.
    later = harness.inventory.runtime.clock.now() + timedelta(hours=1)
    refused, _ = await ops.create(requester, block(north, scheduled_at=later, params={"block_type": "financial"}))
    harness.authority.known[requester.user_id] = UserAccess(False, ())
    harness.set_clock_offset(2 * 3600 + 2)
    await harness.run()
    done = await ops.get(requester, refused.id)
    assert (done.skipped, done.succeeded, done.pending) == (2, 0, 0) and done.state not in ("scheduled", "running")
    assert {i.code for i in await items_of(harness, refused.id)} == {"REQUESTER_NOT_ALLOWED"}


async def test_a_large_operation_keeps_its_numbers_until_it_starts(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accepting 200,000 numbers must not wait for 200,000 item rows: they are written when it starts."""
    monkeypatch.setattr(operations_service, "INLINE_TARGETS", 3)
    monkeypatch.setattr(operations_service, "TARGETS_PER_CHUNK", 2)
    numbers = await harness.add_lines(5)
    ops = harness.inventory.operations
    unknown = "+79990999999"
    operation, _ = await ops.create(harness.manager(), block([*numbers, unknown]))
    assert (operation.total, operation.pending) == (6, 6)
    async with harness.db.sessions() as session:
        chunks = (await session.scalars(sa.select(TargetChunk).order_by(TargetChunk.chunk))).all()
    assert [c.targets for c in chunks] == [numbers[:2], numbers[2:4], [numbers[4], unknown]]  # numbers alone
    assert await items_of(harness, operation.id) == []
    await harness.run()
    items = await items_of(harness, operation.id)
    assert [i.msisdn for i in items] == [*numbers, unknown]  # in the order given
    assert [i.position for i in items] == [1, 2, 3, 4, 5, 6]
    assert {i.msisdn: i.code for i in items}[unknown] == "NOT_FOUND"
    done = await ops.get(harness.manager(), operation.id)
    assert (done.state, done.succeeded, done.skipped, done.pending) == ("completed", 5, 1, 0)
    async with harness.db.sessions() as session:
        assert (await session.scalars(sa.select(TargetChunk))).all() == []

    # Started, it makes its items a chunk at a time; cancelled midway, the numbers left are skipped too.
    running, _ = await ops.create(harness.manager(), block(numbers, params={"block_type": "lost_or_stolen"}))
    await harness.inventory.engine._start_due()
    assert [i.position for i in await items_of(harness, running.id)] == [1, 2]
    await ops.cancel(harness.manager(), running.id)
    await harness.run()
    stopped = await ops.get(harness.manager(), running.id)
    assert (stopped.state, stopped.skipped, stopped.pending, stopped.in_progress) == ("cancelled", 5, 0, 0)
    async with harness.db.sessions() as session:
        assert (await session.scalars(sa.select(TargetChunk))).all() == []

    # A number with params of its own keeps them in its chunk until it is made an item.
    await harness.inventory.office.import_stock(customer_id="", sims=[], msisdns=["+79995550001", "+79995550002"])
    change, _ = await ops.create(
        harness.manager(),
        NewOperation("change_number", targets=[Target(numbers[0], {"msisdn": "+79995550002"})], numbers=numbers[1:4]),
    )
    async with harness.db.sessions() as session:
        kept = (await session.scalars(sa.select(TargetChunk.targets).order_by(TargetChunk.chunk))).all()
    assert kept == [[[numbers[0], {"msisdn": "+79995550002"}], numbers[1]], numbers[2:4]]
    await harness.run()
    changed = {i.msisdn: i.params.get("new_msisdn") for i in await items_of(harness, change.id)}
    assert [changed[n] for n in numbers[:2]] == ["+79995550002", "+79995550001"]  # its own, then a free one

    # Cancelled before it starts, a large operation skips every number and keeps none.
    at = harness.inventory.runtime.clock.now() + timedelta(hours=1)
    later, _ = await ops.create(harness.manager(), block(numbers, scheduled_at=at, params={"block_type": "financial"}))
    skipped_before = REGISTRY.get_sample_value("simfleet_inventory_operation_items_total", {"outcome": "skipped"}) or 0
    cancelled = await ops.cancel(harness.manager(), later.id)
    assert (cancelled.state, cancelled.skipped, cancelled.pending) == ("cancelled", 5, 0)
    skipped = REGISTRY.get_sample_value("simfleet_inventory_operation_items_total", {"outcome": "skipped"})
    assert skipped == skipped_before + 5  # its items ended, skipped: the metric says so as its counts do
    async with harness.db.sessions() as session:
        assert (await session.scalars(sa.select(TargetChunk))).all() == []


async def test_numbers_given_as_one_list_mean_what_targets_would(harness: Harness) -> None:
    """A bulk operation's numbers come as one list (msisdns): the same lines, order and idempotency as targets."""
    numbers = await harness.add_lines(3)
    ops = harness.inventory.operations
    voluntary = {"block_type": "voluntary"}
    first = NewOperation("block", targets=[Target(numbers[0])], numbers=numbers[1:], params=voluntary)
    operation, _ = await ops.create(harness.manager(), replace(first, idempotency_key="k-list"))
    assert (operation.total, operation.pending) == (3, 3)
    await harness.run()
    assert [(i.msisdn, i.state) for i in await items_of(harness, operation.id)] == [(n, "succeeded") for n in numbers]

    # Sent as targets, it is the same request for its idempotency key; another order is another request.
    again, replayed = await ops.create(harness.manager(), block(numbers, idempotency_key="k-list"))
    assert (again.id, replayed) == (operation.id, True)
    with pytest.raises(InvalidArgument) as reused:
        await ops.create(harness.manager(), block(numbers[::-1], idempotency_key="k-list"))
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"

    # A bad or repeated number is named where it was given.
    with pytest.raises(InvalidArgument) as bad:
        await ops.create(harness.manager(), replace(first, numbers=[numbers[1], "12x"]))
    assert list(bad.value.field_violations) == ["msisdns[1]"]
    with pytest.raises(InvalidArgument) as twice:
        await ops.create(harness.manager(), replace(first, numbers=[numbers[1], numbers[0]]))
    assert list(twice.value.field_violations) == ["msisdns[1]"]
    with pytest.raises(InvalidArgument) as both:
        await ops.create(harness.manager(), replace(first, selection=Selection(harness.tree.root)))
    assert list(both.value.field_violations) == ["targets"]


async def test_a_selection_with_control_or_bidi_characters_is_refused(harness: Harness) -> None:
    for field, selection in (
        ("selection.label", Selection("", label="vip\u202e")),
        ("selection.group", Selection("", group="fl\u0000eet")),
        ("selection.tariff_code", Selection("", tariff_code="\u2066BIZ-M\u2069")),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await harness.inventory.operations.create(
                harness.manager(), NewOperation("block", selection=selection, params={"block_type": "voluntary"})
            )
        assert list(refused.value.field_violations) == [field]


async def test_imported_labels_and_groups_with_control_or_bidi_characters_are_refused(harness: Harness) -> None:
    from inventory.admin.service import ImportedLine

    (number,) = harness.numbers(1)
    tree = harness.tree
    for field, changes in (
        ("lines[0].labels[1]", {"labels": ("vip", "v\u202eip")}),
        ("lines[0].group", {"group": "a\x1bb"}),
    ):
        line = ImportedLine(
            number, sim(int(number[5:])), tree.north_account, tree.north_account, "BIZ-M", "active", **changes
        )
        with pytest.raises(InvalidArgument) as refused:
            await harness.inventory.office.import_lines(customer_id=tree.customer, lines=[line])
        assert list(refused.value.field_violations) == [field]


async def test_an_operation_is_scheduled_at_most_the_horizon_ahead(harness: Harness) -> None:
    from inventory.operations.service import SCHEDULE_HORIZON

    [number] = await harness.add_lines(1)
    now = harness.inventory.runtime.clock.now()
    too_far = NewOperation(
        "block",
        targets=[Target(number)],
        params={"block_type": "voluntary"},
        scheduled_at=now + SCHEDULE_HORIZON + timedelta(minutes=1),
    )
    with pytest.raises(InvalidArgument) as refused:
        await harness.inventory.operations.create(harness.manager(), too_far)
    assert list(refused.value.field_violations) == ["scheduled_at"]
    within = NewOperation(
        "block",
        targets=[Target(number)],
        params={"block_type": "voluntary"},
        scheduled_at=now + SCHEDULE_HORIZON - timedelta(minutes=1),
    )
    operation, _ = await harness.inventory.operations.create(harness.manager(), within)
    assert operation.state == "scheduled"


async def audit_actions(harness: Harness) -> list[tuple[str, str, list[tuple[str, str]]]]:
    async with harness.db.sessions() as session:
        rows = await session.execute(
            sa.select(BUS.outbox.c.payload)
            .where(BUS.outbox.c.subject == "simfleet.inventory.audit.recorded")
            .order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
        )
        events = [audit_pb2.AuditRecorded.FromString(payload) for (payload,) in rows]
    return [(e.action, e.actor_id, [(o.kind, o.id) for o in e.objects]) for e in events]


async def test_a_command_writes_its_audit_event_in_the_transaction_of_its_change(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    [number] = await harness.add_lines(1)
    ops, manager = harness.inventory.operations, harness.manager()
    operation, _ = await ops.create(
        manager, block([number], scheduled_at=harness.inventory.runtime.clock.now() + timedelta(hours=1))
    )
    order, _ = await ops.order_sims(
        manager,
        node_id=harness.tree.north_account,
        personal_account_id="",
        quantity=1,
        tariff_code="IOT-S",
        idempotency_key="",
    )
    await ops.cancel(manager, operation.id)
    # Written with the change, not after the answer by the interceptor: a crash in between loses neither.
    assert await audit_actions(harness) == [
        ("operations.create", manager.user_id, [("operation", operation.id)]),
        ("operations.order_sims", manager.user_id, [("operation", order.id)]),
        ("operations.cancel", manager.user_id, [("operation", operation.id)]),
    ]

    # And an event that cannot be written takes the change with it.
    audit = harness.inventory.runtime.audit
    assert audit is not None

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the outbox is not writable")

    monkeypatch.setattr(audit, "add", broken)
    async with harness.db.sessions() as session:
        before = await session.scalar(sa.select(sa.func.count()).select_from(Operation))
    with pytest.raises(RuntimeError):
        await ops.create(manager, block([number]))
    async with harness.db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Operation)) == before


async def test_a_back_office_import_writes_its_audit_event_under_the_customer_in_its_transaction(
    harness: Harness,
) -> None:
    set_actor("staff0000000000000000000001", "", OPERATOR)
    [number] = harness.numbers(1)
    line = ImportedLine(
        msisdn=number,
        sim=sim(int(number[5:])),
        node_id=harness.tree.north_account,
        personal_account_id=harness.tree.north_account,
        tariff_code="BIZ-M",
        state="active",
    )
    assert await harness.inventory.office.import_lines(customer_id=harness.tree.customer, lines=[line]) == 1
    async with harness.db.sessions() as session:
        payload = await session.scalar(
            sa.select(BUS.outbox.c.payload).where(BUS.outbox.c.subject == "simfleet.inventory.audit.recorded")
        )
    assert payload is not None
    event = audit_pb2.AuditRecorded.FromString(payload)
    assert (event.action, event.actor_kind, event.customer_id) == (
        "inventory.lines.import",
        OPERATOR,
        harness.tree.customer,
    )


def test_every_command_is_declared_to_write_its_success_in_its_own_transaction() -> None:
    from inventory.audit_commands import COMMANDS

    assert [method for method, command in COMMANDS.items() if not command.in_transaction] == []


async def test_terminate_ends_lines_for_good_retires_their_sims_and_rests_their_numbers(harness: Harness) -> None:
    [ready] = await harness.add_lines(1, state="ready")
    [active, other] = await harness.add_lines(2)
    [blocked] = await harness.add_lines(1, state="blocked", block_type="financial")
    ops, manager = harness.inventory.operations, harness.manager()
    lines = harness.inventory.lines
    iccids = {n: (await lines.line(manager, n)).iccid for n in (ready, active, blocked)}
    other_id = (await lines.line(manager, other)).id

    # It needs its own permission: managing blocks, numbers or SIMs is not ending lines.
    number_manager = harness.access(
        (harness.tree.root, EVERYTHING - {"lines:terminate"}), user_id="numbermanager0000000000001"
    )
    with pytest.raises(PermissionDenied) as refused:
        await ops.create(number_manager, NewOperation("terminate", targets=[Target(active)]))
    assert refused.value.metadata == {"permission": "lines:terminate"}

    terminate = NewOperation("terminate", targets=[Target(n) for n in (ready, active, blocked)])
    operation, _ = await ops.create(manager, terminate)
    await harness.inventory.engine.step()
    commands = await harness.drain_commands()
    sent = sorted((i.msisdn, i.action) for c in commands for i in c.items)
    assert sent == [(n, hlr_pb2.PROVISIONING_ACTION_DEREGISTER) for n in sorted((ready, active, blocked))]
    for command in commands:
        await harness.answer(harness.result_of(command))
    done = await ops.get(manager, operation.id)
    assert (done.state, done.succeeded) == ("completed", 3)
    now = harness.inventory.runtime.clock.now()
    async with harness.db.sessions() as session:
        numbers = {
            n: (state, until)
            for n, state, until in (
                await session.execute(
                    sa.select(Number.msisdn, Number.state, Number.quarantined_until).where(
                        Number.msisdn.in_([ready, active, blocked])
                    )
                )
            ).all()
        }
        sims = dict(
            (await session.execute(sa.select(Sim.iccid, Sim.state).where(Sim.iccid.in_(iccids.values())))).all()
        )
    for number in (ready, active, blocked):
        assert (await lines.line(manager, number)).state == "terminated"
        state, until = numbers[number]
        assert state == "quarantined" and until is not None
        assert until.replace(tzinfo=now.tzinfo) - now > timedelta(days=89)  # it rests before anyone gets it
    assert set(sims.values()) == {"retired"}

    # A terminated line stays terminated: terminating it again, or anything else, is skipped.
    again, _ = await ops.create(manager, NewOperation("terminate", targets=[Target(active)]))
    activate, _ = await ops.create(manager, NewOperation("activate", targets=[Target(ready)]))
    await harness.run()
    for op in (again, activate):
        [item] = await items_of(harness, op.id)
        assert (item.state, item.code) == ("skipped", "LINE_TERMINATED")
    assert await lines.free_numbers(manager, contains=active[-7:], page_size_=10) == []

    # Once its rest is over the number is the pool's again; the terminated line that held it leaves the list.
    async with harness.db.transaction() as session:
        await session.execute(
            sa.update(Number).where(Number.msisdn == active).values(quarantined_until=now - timedelta(seconds=1))
        )
    assert await lines.free_numbers(manager, contains=active[-7:], page_size_=10) == [active]
    change, _ = await ops.create(manager, NewOperation("change_number", targets=[Target(other, {"msisdn": active})]))
    await harness.run()
    assert (await ops.get(manager, change.id)).state == "completed"
    line = await lines.line(manager, active)
    assert (line.id, line.state) == (other_id, "active")
    async with harness.db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).where(Line.msisdn == active)) == 1


async def _terminated_line(harness: Harness) -> str:
    [number] = await harness.add_lines(1)
    operation, _ = await harness.inventory.operations.create(
        harness.manager(), NewOperation("terminate", targets=[Target(number)])
    )
    await harness.run()
    assert (await harness.inventory.operations.get(harness.manager(), operation.id)).state == "completed"
    return number


async def test_a_tariff_change_is_inventorys_alone_and_tells_billing_when_it_happened(harness: Harness) -> None:
    numbers = await harness.add_lines(2)
    terminated = await _terminated_line(harness)
    ops, manager, lines = harness.inventory.operations, harness.manager(), harness.inventory.lines

    # It needs tariffs:change: managing lines is not changing what they cost.
    line_manager = harness.access((harness.tree.root, EVERYTHING - {"tariffs:change"}))
    with pytest.raises(PermissionDenied) as refused:
        await ops.create(line_manager, NewOperation("change_tariff", targets=[Target(numbers[0])], params={}))
    assert refused.value.metadata == {"permission": "tariffs:change"}
    # Only a tariff the operator offers, checked when asked, not line by line.
    with pytest.raises(InvalidArgument) as unknown:
        await ops.create(
            manager, NewOperation("change_tariff", targets=[Target(numbers[0])], params={"tariff_code": "GOLD"})
        )
    assert unknown.value.reason == "UNKNOWN_TARIFF"
    assert list(unknown.value.field_violations) == ["params.tariff_code"]
    with pytest.raises(InvalidArgument) as missing:
        await ops.create(manager, NewOperation("change_tariff", targets=[Target(numbers[0])], params={}))
    assert list(missing.value.field_violations) == ["params.tariff_code"]

    change = NewOperation(
        "change_tariff", targets=[Target(n) for n in [*numbers, terminated]], params={"tariff_code": "BIZ-L"}
    )
    operation, _ = await ops.create(manager, change)
    assert operation.params == {"tariff_code": "BIZ-L", "notify_subscribers": "false"}
    before = len(await harness.lines_changed())
    await harness.inventory.engine.step()
    assert await harness.drain_commands() == []  # the network does not hold tariffs
    ran_at = harness.inventory.runtime.clock.now()
    done = await ops.get(manager, operation.id)
    assert (done.state, done.succeeded, done.skipped) == ("completed", 2, 1)
    items = {i.msisdn: (i.state, i.code, i.params) for i in await items_of(harness, operation.id)}
    assert items[terminated] == ("skipped", "LINE_TERMINATED", {})
    assert items[numbers[0]] == ("succeeded", None, {"old_tariff_code": "BIZ-M"})
    for number in numbers:
        assert (await lines.line(manager, number)).tariff_code == "BIZ-L"
    changed = (await harness.lines_changed())[before:]
    assert sorted((c.msisdn, c.tariff_code, c.cause, c.operation_id) for c in changed) == [
        (n, "BIZ-L", "change_tariff", operation.id) for n in numbers
    ]
    for event in changed:
        assert abs(event.occurred_at.ToDatetime(tzinfo=ran_at.tzinfo) - ran_at) < timedelta(seconds=5)

    # A line already on the tariff has nothing to change.
    again, _ = await ops.create(
        manager, NewOperation("change_tariff", targets=[Target(numbers[0])], params={"tariff_code": "BIZ-L"})
    )
    await harness.run()
    [item] = await items_of(harness, again.id)
    assert (item.state, item.code, item.reason) == ("skipped", "ALREADY_ON_TARIFF", "the line is already on BIZ-L")


async def test_a_scheduled_tariff_change_applies_at_its_date(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    ops, manager = harness.inventory.operations, harness.manager()
    accepted_at = harness.inventory.runtime.clock.now()
    at = accepted_at + timedelta(days=3)
    operation, _ = await ops.create(
        manager,
        NewOperation("change_tariff", targets=[Target(number)], params={"tariff_code": "IOT-S"}, scheduled_at=at),
    )
    before = len(await harness.lines_changed())
    await harness.run()
    assert (await ops.get(manager, operation.id)).state == "scheduled"
    assert (await harness.inventory.lines.line(manager, number)).tariff_code == "BIZ-M"

    harness.set_clock_offset(3 * 24 * 3600 + 5)
    await harness.run()
    done = await ops.get(manager, operation.id)
    assert done.state == "completed" and done.started_at is not None and done.started_at >= at
    assert (await harness.inventory.lines.line(manager, number)).tariff_code == "IOT-S"
    [event] = (await harness.lines_changed())[before:]
    # Billing keeps the new term from when the line changed: the date it ran, not when it was asked.
    occurred = event.occurred_at.ToDatetime(tzinfo=at.tzinfo)
    assert (event.tariff_code, event.cause) == ("IOT-S", "change_tariff")
    assert at <= occurred < at + timedelta(minutes=1)


async def test_services_go_to_the_hlr_as_the_whole_new_list_and_change_on_its_yes(harness: Harness) -> None:
    [plain] = await harness.add_lines(1, services=("voice", "sms", "data"))
    [roaming] = await harness.add_lines(1, services=("voice", "sms", "roaming"))
    [refused] = await harness.add_lines(1, services=("voice", "sms", "data"))
    terminated = await _terminated_line(harness)
    ops, manager, lines = harness.inventory.operations, harness.manager(), harness.inventory.lines
    harness.network.failing[refused] = "the HLR is busy"

    change = NewOperation(
        "set_services",
        targets=[Target(n) for n in (plain, roaming, refused, terminated)],
        params={"connect": "roaming,international", "disconnect": "data"},
    )
    operation, _ = await ops.create(manager, change)
    await harness.inventory.engine.step()
    commands = await harness.drain_commands()
    sent = {i.msisdn: (i.action, dict(i.params)) for c in commands for i in c.items}
    assert sent == {
        plain: (hlr_pb2.PROVISIONING_ACTION_SET_SERVICES, {"services": "voice,sms,roaming,international"}),
        roaming: (hlr_pb2.PROVISIONING_ACTION_SET_SERVICES, {"services": "voice,sms,roaming,international"}),
        refused: (hlr_pb2.PROVISIONING_ACTION_SET_SERVICES, {"services": "voice,sms,roaming,international"}),
    }
    # Nothing changes on the line before the network has said yes.
    assert (await lines.line(manager, plain)).services == ["voice", "sms", "data"]
    for command in commands:
        await harness.answer(harness.result_of(command))
    done = await ops.get(manager, operation.id)
    assert (done.state, done.succeeded, done.failed, done.skipped) == ("completed_with_errors", 2, 1, 1)
    assert (await lines.line(manager, plain)).services == ["voice", "sms", "roaming", "international"]
    assert (await lines.line(manager, roaming)).services == ["voice", "sms", "roaming", "international"]
    assert (await lines.line(manager, refused)).services == ["voice", "sms", "data"]  # the network said no
    items = {i.msisdn: (i.state, i.code) for i in await items_of(harness, operation.id)}
    assert items[refused] == ("failed", "SYSTEM_FAILURE")
    assert items[terminated] == ("skipped", "LINE_TERMINATED")
    *_, changed = await harness.lines_changed()
    assert (changed.cause, list(changed.services)) == ("set_services", ["voice", "sms", "roaming", "international"])

    # Nothing to connect or disconnect: skipped, nothing sent.
    again, _ = await ops.create(
        manager, NewOperation("set_services", targets=[Target(plain)], params={"connect": "roaming"})
    )
    await harness.inventory.engine.step()
    assert await harness.drain_commands() == []
    [item] = await items_of(harness, again.id)
    assert (item.state, item.code) == ("skipped", "NO_CHANGE")
    assert item.reason == "nothing to change: the line's services are voice, sms, roaming, international"


async def test_services_are_checked_before_anything_is_accepted(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    ops, manager = harness.inventory.operations, harness.manager()
    for params, field in (
        ({"connect": "roaming,teleport"}, "params.connect[1]"),
        ({"connect": "roaming", "disconnect": "voice,roaming"}, "params.disconnect[1]"),
        ({}, "params"),
        ({"notify_subscribers": "true"}, "params"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await ops.create(manager, NewOperation("set_services", targets=[Target(number)], params=params))
        assert list(refused.value.field_violations) == [field], params
    no_tariffs = harness.access((harness.tree.root, EVERYTHING - {"tariffs:change"}))
    with pytest.raises(PermissionDenied) as denied:
        await ops.create(no_tariffs, NewOperation("set_services", targets=[Target(number)], params={"connect": "sms"}))
    assert denied.value.metadata == {"permission": "tariffs:change"}
    async with harness.db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Operation)) == 0


async def test_subscribers_are_told_by_sms_of_the_changes_that_succeeded_when_asked(harness: Harness) -> None:
    active = await harness.add_lines(2, services=("voice", "sms", "data"))
    [blocked] = await harness.add_lines(1, state="blocked", block_type="voluntary", services=("voice", "sms"))
    ops, manager = harness.inventory.operations, harness.manager()
    harness.network.failing[active[1]] = "the HLR is busy"

    tariff, _ = await ops.create(
        manager,
        NewOperation(
            "change_tariff",
            targets=[Target(n) for n in [*active, blocked]],
            params={"tariff_code": "BIZ-L", "notify_subscribers": "true"},
        ),
    )
    await harness.run()
    assert (await ops.get(manager, tariff.id)).succeeded == 3
    # A blocked line's handset cannot receive: its subscriber is not told.
    assert sorted((s.to_msisdn, s.text, s.sender) for s in harness.sent_sms) == [
        (n, "Your tariff is now BIZ-L.", "SIMfleet") for n in active
    ]
    harness.sent_sms.clear()

    services, _ = await ops.create(
        manager,
        NewOperation(
            "set_services",
            targets=[Target(n) for n in active],
            params={"connect": "roaming", "disconnect": "data", "notify_subscribers": "true"},
        ),
    )
    await harness.inventory.engine.step()
    assert await harness.drain_sms() == []  # nothing is told before the network has said yes
    await harness.run()
    done = await ops.get(manager, services.id)
    assert (done.succeeded, done.failed) == (1, 1)
    # Only the line whose change went through is told; the receipt of a notice ends no item.
    assert [(s.to_msisdn, s.text) for s in harness.sent_sms] == [
        (active[0], "Your services have changed: connected roaming; disconnected data.")
    ]

    # Without notify_subscribers nobody is told.
    quiet, _ = await ops.create(
        manager, NewOperation("change_tariff", targets=[Target(active[0])], params={"tariff_code": "BIZ-S"})
    )
    harness.sent_sms.clear()
    await harness.run()
    assert (await ops.get(manager, quiet.id)).succeeded == 1 and harness.sent_sms == []
