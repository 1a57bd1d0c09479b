"""The scale seed writes lines the rest of inventory reads like any other, and registers them in the HLR."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from inventory.admin import scale
from inventory.admin.scale import seed_lines
from inventory.lines.models import Line
from inventory.lines.service import LineFilter
from simfleet.netsim.v1 import hlr_pb2
from simfleet_runtime.errors import InvalidArgument

from .conftest import Harness  # type: ignore[import-not-found]


async def test_seeded_lines_are_lines_like_any_other(harness: Harness) -> None:
    settings = harness.inventory.runtime.settings
    tree = harness.tree
    kwargs = {
        "customer_id": tree.customer,
        "node_ids": [tree.south],
        "personal_account_id": tree.south_account,
        "count": 45,
        "msisdn_prefix": "+7995",
        "serial_base": 10_000_000,
    }
    first = await seed_lines(settings, **kwargs)  # type: ignore[arg-type]
    assert (first.added, first.existing) == (45, 0)
    again = await seed_lines(settings, **kwargs)  # type: ignore[arg-type]
    assert (again.added, again.existing, again.commands) == (0, 45, 0)
    lines, _ = await harness.inventory.lines.find(
        harness.manager(), LineFilter(node_id=tree.south), page_size_=100, page_token="", order_by=""
    )
    assert len(lines) == 45 and {line.state for line in lines} == {"active", "blocked", "ready"}
    assert lines[0].msisdn == "+79950000000" and lines[-1].msisdn == "+79950000044"
    assert {line.personal_account_id for line in lines} == {tree.south_account}
    puk = await harness.inventory.lines.puk(harness.manager(), lines[3].msisdn)
    assert puk.puk1 == "00000003"


async def test_seeded_lines_are_registered_through_the_outbox_in_commands_of_500(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scale, "CHUNK", 700)  # two chunks: 700 and 503 lines, each with its own commands
    tree = harness.tree
    seeded = await seed_lines(
        harness.inventory.runtime.settings,
        customer_id=tree.customer,
        node_ids=[tree.north_account, tree.south_account],
        count=1203,
        msisdn_prefix="+7994",
        serial_base=30_000_000,
    )
    assert (seeded.added, seeded.registered, seeded.commands) == (1203, 1203, 4)
    commands = await harness.drain_commands()
    assert [len(c.items) for c in commands] == [500, 200, 500, 3]
    for command in commands:
        assert command.correlation_id == f"import:{command.command_id}"
    async with harness.db.sessions() as session:
        lines = {line.msisdn: line for line in (await session.scalars(sa.select(Line))).all()}
    items = [item for c in commands for item in c.items]
    assert [item.msisdn for item in items] == [f"+7994{n:07d}" for n in range(1203)]
    assert {item.item_id for item in items} == {f"import:{line.id}" for line in lines.values()}
    for item in items:
        line = lines[item.msisdn]
        assert item.action == hlr_pb2.PROVISIONING_ACTION_REGISTER
        assert (item.item_id, item.imsi, item.iccid) == (f"import:{line.id}", line.imsi, line.iccid)
        expected = {
            "state": line.state,
            "services": "voice,sms,data",
            **({"block_type": "voluntary"} if line.state == "blocked" else {}),
        }
        assert dict(item.params) == expected
    assert {item.params["state"] for item in items} == {"active", "blocked", "ready"}
    # Round-robin over the nodes given, each line billed to its own node (a personal account).
    assert [lines[f"+7994{n:07d}"].node_id for n in range(4)] == [tree.north_account, tree.south_account] * 2
    assert all(line.personal_account_id == line.node_id for line in lines.values())

    again = await seed_lines(
        harness.inventory.runtime.settings,
        customer_id=tree.customer,
        node_ids=[tree.north_account, tree.south_account],
        count=1203,
        msisdn_prefix="+7994",
        serial_base=30_000_000,
    )
    assert (again.added, again.existing, again.commands) == (0, 1203, 0)
    assert await harness.drain_commands() == []


async def test_no_register_seeds_lines_without_any_command(harness: Harness) -> None:
    seeded = await seed_lines(
        harness.inventory.runtime.settings,
        customer_id=harness.tree.customer,
        node_ids=[harness.tree.north_account],
        count=30,
        msisdn_prefix="+7993",
        serial_base=40_000_000,
        register=False,
    )
    assert (seeded.added, seeded.registered, seeded.commands) == (30, 0, 0)
    assert await harness.drain_commands() == []


async def test_numbers_that_would_not_be_phone_numbers_are_refused(harness: Harness) -> None:
    with pytest.raises(InvalidArgument, match="do not fit"):
        await seed_lines(
            harness.inventory.runtime.settings,
            customer_id=harness.tree.customer,
            node_ids=[harness.tree.north_account],
            count=10_001,  # four digits after the prefix
            msisdn_prefix="+79950000",
            serial_base=1,
        )
