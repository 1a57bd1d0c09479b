"""billing's financial holds as inventory applies them: an exhausted account and a spending limit block lines the
same way, as the system, once per event; their release unblocks them."""

from __future__ import annotations

import sqlalchemy as sa

from inventory.operations.financial import SYSTEM_BILLING, financial_blocks_handler
from inventory.operations.models import Operation
from simfleet.events.v1 import billing_pb2 as ev
from simfleet_runtime.bus import Event
from simfleet_runtime.ids import new_id
from simfleet_subjects import BillingSubjects

from .conftest import Harness  # type: ignore[import-not-found]


async def deliver(harness: Harness, subject: str, message: ev.AccountFundsChanged) -> None:
    handle = financial_blocks_handler(
        operations=harness.inventory.operations, paths=harness.inventory.paths, db=harness.db
    )
    event = Event(new_id(), subject, message.SerializeToString(), {}, message.customer_id, 1)
    async with harness.db.transaction() as session:
        await handle(session, event)


async def by_billing(harness: Harness) -> list[tuple[str, str | None]]:
    async with harness.db.sessions() as session:
        rows = await session.execute(
            sa.select(Operation.type, Operation.idempotency_key)
            .where(Operation.requested_by == SYSTEM_BILLING)
            .order_by(Operation.created_at)
        )
        return [(row.type, row.idempotency_key) for row in rows]


async def test_a_spending_limits_block_and_release_are_financial_operations_made_once(harness: Harness) -> None:
    held, other = await harness.add_lines(2)
    manager = harness.manager()
    customer = harness.tree.customer
    block = ev.AccountFundsChanged(customer_id=customer, msisdns=[held], hold_id="h-1", reason="limit:l-1")
    await deliver(harness, BillingSubjects.LINES_HELD, block)
    await deliver(harness, BillingSubjects.LINES_HELD, block)  # delivered again: no second operation
    await harness.run()
    assert await by_billing(harness) == [("block", "hold:h-1")]
    line = await harness.inventory.lines.line(manager, held)
    assert (line.state, [b["type"] for b in line.blocks]) == ("blocked", ["financial"])
    assert (await harness.inventory.lines.line(manager, other)).state == "active"

    # Nothing named (every line held for another reason already): nothing to do.
    await deliver(
        harness, BillingSubjects.ACCOUNT_EXHAUSTED, ev.AccountFundsChanged(customer_id=customer, hold_id="h-2")
    )
    assert len(await by_billing(harness)) == 1

    release = ev.AccountFundsChanged(customer_id=customer, msisdns=[held], hold_id="h-3", reason="limit:l-1")
    await deliver(harness, BillingSubjects.LINES_RELEASED, release)
    await harness.run()
    assert await by_billing(harness) == [("block", "hold:h-1"), ("unblock", "release:h-3")]
    assert (await harness.inventory.lines.line(manager, held)).state == "active"

    # An account's exhaustion still blocks the same way.
    exhausted = ev.AccountFundsChanged(customer_id=customer, msisdns=[other], hold_id="h-4", reason="account:a")
    await deliver(harness, BillingSubjects.ACCOUNT_EXHAUSTED, exhausted)
    await harness.run()
    assert (await harness.inventory.lines.line(manager, other)).state == "blocked"
