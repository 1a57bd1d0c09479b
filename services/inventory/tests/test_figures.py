"""Line counts per node go to accounts: marked with each change, reported once per pass, absolute."""

from __future__ import annotations

import sqlalchemy as sa

from inventory.models import BUS
from inventory.operations.requests import NewOperation, Target
from simfleet.events.v1 import inventory_pb2 as ev

from .conftest import Harness  # type: ignore[import-not-found]


async def reports(harness: Harness) -> dict[str, dict[str, int]]:
    async with harness.db.transaction() as session:
        rows = (
            await session.execute(
                sa.select(BUS.outbox.c.id, BUS.outbox.c.payload)
                .where(BUS.outbox.c.subject == "simfleet.inventory.node.figures", BUS.outbox.c.published_at.is_(None))
                .order_by(BUS.outbox.c.created_at, BUS.outbox.c.id)
            )
        ).all()
        await session.execute(
            sa.update(BUS.outbox)
            .where(BUS.outbox.c.id.in_([r[0] for r in rows]))
            .values(published_at=harness.inventory.runtime.clock.now())
        )
    found = {}
    for _id, payload in rows:
        report = ev.NodeLineFigures.FromString(payload)
        found[report.node_id] = dict(report.figures)
    return found


async def test_counts_by_state_follow_imports_blocks_and_moves(harness: Harness) -> None:
    tree, reporter = harness.tree, harness.inventory.figures
    numbers = await harness.add_lines(3)
    await harness.add_lines(2, node=tree.south_account, state="ready")
    assert await reporter.report() == 2
    assert await reporter.report() == 0  # nothing changed since
    assert await reports(harness) == {
        tree.north_account: {"lines.ready": 0, "lines.active": 3, "lines.blocked": 0, "lines.terminated": 0},
        tree.south_account: {"lines.ready": 2, "lines.active": 0, "lines.blocked": 0, "lines.terminated": 0},
    }

    ops, manager = harness.inventory.operations, harness.manager()
    await ops.create(manager, NewOperation("block", targets=[Target(numbers[0])], params={"block_type": "financial"}))
    await ops.create(
        manager, NewOperation("move", targets=[Target(numbers[1])], params={"node_id": tree.south_account})
    )
    await harness.run()
    assert await reporter.report() == 2
    after = await reports(harness)
    assert after[tree.north_account]["lines.active"] == 1 and after[tree.north_account]["lines.blocked"] == 1
    assert after[tree.south_account]["lines.active"] == 1 and after[tree.south_account]["lines.ready"] == 2
