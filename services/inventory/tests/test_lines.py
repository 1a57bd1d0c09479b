"""Lines as a customer's users read them: scope, filters, pagination, PUK codes, location; the back-office import."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from inventory.lines.service import LineFilter
from inventory.models import BUS
from inventory.stock.models import Sim
from simfleet.events.v1 import audit_pb2
from simfleet_runtime.errors import InvalidArgument, NotFound, PermissionDenied

from .conftest import EVERYTHING, READER, Harness, sim  # type: ignore[import-not-found]


async def test_a_manager_sees_every_line_a_department_reader_only_its_own(harness: Harness) -> None:
    north = await harness.add_lines(5)
    south = await harness.add_lines(3, node=harness.tree.south_account)
    lines = harness.inventory.lines

    everything, token = await lines.find(harness.manager(), LineFilter(), page_size_=100, page_token="", order_by="")
    assert [line.msisdn for line in everything] == sorted(north + south) and token == ""

    reader = harness.access((harness.tree.south, READER))
    seen, _ = await lines.find(reader, LineFilter(), page_size_=100, page_token="", order_by="")
    assert [line.msisdn for line in seen] == south
    with pytest.raises(NotFound):
        await lines.line(reader, north[0])
    assert (await lines.line(reader, south[0])).node_id == harness.tree.south_account

    stranger = harness.access((harness.tree.root, EVERYTHING), customer_id="01J0000000000000000000STRG")
    assert (await lines.find(stranger, LineFilter(), page_size_=100, page_token="", order_by=""))[0] == []
    with pytest.raises(NotFound):
        await lines.line(stranger, north[0])


async def test_pages_follow_each_other_in_a_stable_order(harness: Harness) -> None:
    numbers = await harness.add_lines(7)
    lines, seen, token = harness.inventory.lines, [], ""
    while True:
        page, token = await lines.find(
            harness.manager(), LineFilter(), page_size_=3, page_token=token, order_by="msisdn"
        )
        seen.extend(line.msisdn for line in page)
        if not token:
            break
    assert seen == numbers
    backwards, _ = await lines.find(
        harness.manager(), LineFilter(), page_size_=100, page_token="", order_by="-created_at"
    )
    assert len(backwards) == 7
    with pytest.raises(InvalidArgument):
        await lines.find(harness.manager(), LineFilter(), page_size_=3, page_token="garbage", order_by="msisdn")


@pytest.mark.parametrize("order", ["created_at", "-created_at", "updated_at", "-msisdn"])
async def test_pages_in_every_order_follow_each_other(harness: Harness, order: str) -> None:
    """A next page continues after its token's key, the time and the id (or the number), whatever the order."""
    await harness.add_lines(4)
    await harness.add_lines(3, state="blocked", block_type="voluntary")
    lines, manager = harness.inventory.lines, harness.manager()
    everything, last = await lines.find(manager, LineFilter(), page_size_=100, page_token="", order_by=order)
    seen, token = [], ""
    while True:
        page, token = await lines.find(manager, LineFilter(), page_size_=2, page_token=token, order_by=order)
        seen.extend(line.id for line in page)
        if not token:
            break
    assert last == ""
    assert seen == [line.id for line in everything] and len(seen) == 7
    field = order.lstrip("-")
    keys = [getattr(line, field) for line in everything]
    assert keys == sorted(keys, reverse=order.startswith("-"))
    other = "msisdn" if field != "msisdn" else "created_at"
    _, token = await lines.find(manager, LineFilter(), page_size_=2, page_token="", order_by=other)
    with pytest.raises(InvalidArgument):  # a token of another order
        await lines.find(manager, LineFilter(), page_size_=2, page_token=token, order_by=order)


async def test_filters_by_tariff_and_group_and_take_like_characters_literally(harness: Harness) -> None:
    numbers = await harness.add_lines(2)
    lines, manager = harness.inventory.lines, harness.manager()

    async def count(flt: LineFilter) -> int:
        return len((await lines.find(manager, flt, page_size_=100, page_token="", order_by=""))[0])

    assert await count(LineFilter(tariff_code="BIZ-M")) == 2
    assert await count(LineFilter(tariff_code="BIZ-%")) == 0
    assert await count(LineFilter(group="no-such-group")) == 0
    assert await count(LineFilter(query=numbers[0][:-2])) == 2


async def test_filters_by_node_state_label_and_search(harness: Harness) -> None:
    active = await harness.add_lines(3, labels=("drivers",))
    blocked = await harness.add_lines(2, state="blocked", block_type="voluntary")
    ready = await harness.add_lines(2, node=harness.tree.south_account, state="ready")
    lines, manager = harness.inventory.lines, harness.manager()

    async def numbers(flt: LineFilter) -> list[str]:
        found, _ = await lines.find(manager, flt, page_size_=100, page_token="", order_by="")
        return [line.msisdn for line in found]

    assert await numbers(LineFilter(states=["blocked"])) == blocked
    assert await numbers(LineFilter(states=["ready", "blocked"])) == sorted(blocked + ready)
    assert await numbers(LineFilter(node_id=harness.tree.south)) == ready
    assert await numbers(LineFilter(label="drivers")) == active
    assert await numbers(LineFilter(query=active[1])) == [active[1]]
    line = await lines.line(manager, blocked[0])
    assert await numbers(LineFilter(query=line.iccid[:-1])) == [blocked[0]]
    assert line.blocks[0]["type"] == "voluntary" and line.state == "blocked"
    with pytest.raises(InvalidArgument):
        await numbers(LineFilter(query="+7abc"))
    with pytest.raises(InvalidArgument):
        await numbers(LineFilter(states=["sleeping"]))
    with pytest.raises(NotFound):
        await numbers(LineFilter(node_id="01J00000000000000000NOSUCH"))


async def test_puk_codes_are_encrypted_at_rest_and_need_their_own_permission(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    lines = harness.inventory.lines
    with pytest.raises(PermissionDenied):
        await lines.puk(harness.access((harness.tree.root, READER)), number)
    puk = await lines.puk(harness.access((harness.tree.root, frozenset({"lines:read", "lines:read-puk"}))), number)
    expected = sim(int(number[5:]))
    assert (puk.iccid, puk.puk1, puk.puk2) == (expected.iccid, expected.puk1, expected.puk2)
    async with harness.db.sessions() as session:
        sealed = await session.scalar(sa.select(Sim.puk).where(Sim.iccid == expected.iccid))
    assert sealed is not None and expected.puk1.encode() not in sealed and expected.puk2.encode() not in sealed


async def audit_events(harness: Harness) -> list[tuple[bytes, audit_pb2.AuditRecorded]]:
    async with harness.db.sessions() as session:
        rows = await session.execute(
            sa.select(BUS.outbox.c.payload)
            .where(BUS.outbox.c.subject == "simfleet.inventory.audit.recorded")
            .order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
        )
        return [(payload, audit_pb2.AuditRecorded.FromString(payload)) for (payload,) in rows]


async def test_a_puk_read_is_recorded_in_its_own_transaction_without_the_codes(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    reader = harness.access(
        (harness.tree.north, frozenset({"lines:read", "lines:read-puk"})), user_id="puk0reader0000000000000001"
    )
    assert await audit_events(harness) == []
    puk = await harness.inventory.lines.puk(reader, number)

    [(payload, event)] = await audit_events(harness)
    assert (event.actor_id, event.actor_kind, event.customer_id) == (
        "puk0reader0000000000000001",
        "user",
        harness.tree.customer,
    )
    assert (event.service, event.action, event.result) == ("inventory", "lines.puk.read", "succeeded")
    assert [(o.kind, o.id, o.node_id) for o in event.objects] == [("line", number, harness.tree.north_account)]
    assert puk.puk1.encode() not in payload and puk.puk2.encode() not in payload

    # A refused read shows nothing and writes no success (the interceptor records the refusal).
    with pytest.raises(NotFound):
        await harness.inventory.lines.puk(harness.access((harness.tree.south, EVERYTHING)), number)
    assert len(await audit_events(harness)) == 1


async def test_a_puk_read_whose_record_cannot_be_written_shows_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    [number] = await harness.add_lines(1)
    outbox = harness.inventory.runtime.outbox

    async def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("the outbox is not writable")

    monkeypatch.setattr(outbox, "add", broken)
    with pytest.raises(RuntimeError, match="outbox"):
        await harness.inventory.lines.puk(harness.manager(), number)
    monkeypatch.undo()
    assert await audit_events(harness) == []


async def test_location_is_the_networks_answer_needs_its_own_permission_and_is_recorded(harness: Harness) -> None:
    [number] = await harness.add_lines(1)
    locator = harness.access(
        (harness.tree.north, frozenset({"lines:read", "lines:locate"})), user_id="locator000000000000000001"
    )
    where = await harness.inventory.lines.location(locator, number)
    assert where.msisdn == number and where.cell_id.startswith("250-01-")
    [(_, event)] = await audit_events(harness)
    assert (event.actor_id, event.action, event.result) == (
        "locator000000000000000001",
        "lines.location.read",
        "succeeded",
    )
    assert [(o.kind, o.id, o.node_id) for o in event.objects] == [("line", number, harness.tree.north_account)]
    with pytest.raises(PermissionDenied):  # sees the line, may not follow its handset
        await harness.inventory.lines.location(harness.access((harness.tree.root, READER)), number)
    with pytest.raises(NotFound):
        await harness.inventory.lines.location(harness.access((harness.tree.south, EVERYTHING)), number)
    assert len(await audit_events(harness)) == 1


async def test_a_location_whose_record_cannot_be_written_is_not_shown(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    [number] = await harness.add_lines(1)

    async def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("the outbox is not writable")

    monkeypatch.setattr(harness.inventory.runtime.outbox, "add", broken)
    with pytest.raises(RuntimeError, match="outbox"):
        await harness.inventory.lines.location(harness.manager(), number)


async def test_import_is_idempotent_by_number_and_registers_each_line_in_the_network(harness: Harness) -> None:
    from inventory.admin.service import ImportedLine

    numbers = harness.numbers(3)
    batch = [
        ImportedLine(n, sim(int(n[5:])), harness.tree.north_account, harness.tree.north_account, "BIZ-M", "active")
        for n in numbers
    ]
    batch[1] = replace(batch[1], services=("data", "voice", "roaming"))
    office = harness.inventory.office
    assert await office.import_lines(customer_id=harness.tree.customer, lines=batch) == 3
    assert await office.import_lines(customer_id=harness.tree.customer, lines=batch) == 0
    commands = await harness.drain_commands()
    assert [(i.msisdn, i.params["state"]) for c in commands for i in c.items] == [(n, "active") for n in numbers]
    # The network is told the line's services ("" for none) and the line's event carries them with the IMSI.
    assert [i.params["services"] for c in commands for i in c.items] == ["", "data,voice,roaming", ""]
    changed = await harness.lines_changed()
    assert [(c.msisdn, c.imsi, list(c.services), c.cause) for c in changed] == [
        (line.msisdn, line.sim.imsi, list(line.services), "imported") for line in batch
    ]
    with pytest.raises(InvalidArgument):
        await office.import_lines(
            customer_id=harness.tree.customer,
            lines=[ImportedLine("+79991112233", sim(5), harness.tree.north, harness.tree.north, "BIZ-M", "blocked")],
        )


async def test_free_numbers_are_refused_to_whoever_may_neither_change_numbers_nor_order_sims(harness: Harness) -> None:
    await harness.inventory.office.import_stock(customer_id="", sims=[], msisdns=["+79995550101"])
    lines = harness.inventory.lines
    # The pool is the operator's: no object of the caller's scope to hide, a missing permission like any other.
    with pytest.raises(PermissionDenied):
        await lines.free_numbers(harness.access((harness.tree.root, READER)), contains="", page_size_=10)
    orderer = harness.access((harness.tree.south, frozenset({"lines:order-sims"})))
    assert await lines.free_numbers(orderer, contains="", page_size_=10) == ["+79995550101"]


async def test_the_reserve_is_for_those_who_may_replace_or_order_sims(harness: Harness) -> None:
    await harness.inventory.office.import_stock(customer_id=harness.tree.customer, sims=[sim(910001)], msisdns=[])
    lines = harness.inventory.lines
    # A department's viewer may read lines, but the customer's reserve ICCIDs and IMSIs are not theirs to see.
    with pytest.raises(PermissionDenied):
        await lines.reserve_sims(harness.access((harness.tree.south, READER)), page_size_=10, page_token="")
    for permission in ("lines:replace-sim", "lines:order-sims"):
        allowed = harness.access((harness.tree.south, frozenset({permission})))
        sims, _ = await lines.reserve_sims(allowed, page_size_=10, page_token="")
        assert [s.iccid for s in sims] == [sim(910001).iccid]
