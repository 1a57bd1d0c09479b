"""Financial blocks: billing says a personal account ran out (or is back), inventory blocks (or unblocks) its lines.

billing's ``account.exhausted`` names the account's lines in service; this
consumer makes a ``block`` operation of type ``financial`` over them, as the
system (``SYSTEM_BILLING``): the action history shows it like any other
operation, its items say what became of each line, and a customer cannot
lift it (a financial block is a protected one). ``account.replenished`` makes
the matching ``unblock``. The operation's idempotency key is the hold's id:
an event delivered again finds its operation and makes no second one.

``account.lines.held`` and ``account.lines.released`` (a spending limit
reached, then raised, deleted or over with its period) are the same message
and are blocked and unblocked the same way. billing names a line held for
several reasons once, when the first appears, and unblocks it when the last
goes.
"""

from __future__ import annotations

import math

from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.lines.models import FINANCIAL
from inventory.operations.requests import NewOperation
from inventory.operations.service import OperationService
from simfleet.events.v1 import billing_pb2 as ev
from simfleet_runtime import nodepaths
from simfleet_runtime.auth import Principal
from simfleet_runtime.authz import LIFT_PROTECTED_BLOCKS, Access, Grant
from simfleet_runtime.bus import Event, EventHandler, PermanentError
from simfleet_runtime.db import Database
from simfleet_subjects import BillingSubjects

SYSTEM_BILLING = "system:billing"
"""Who requests the financial blocks billing asks for (an operation's ``requested_by``)."""
BLOCK = "lines:block"
BLOCKING = (BillingSubjects.ACCOUNT_EXHAUSTED, BillingSubjects.LINES_HELD)
UNBLOCKING = (BillingSubjects.ACCOUNT_REPLENISHED, BillingSubjects.LINES_RELEASED)


class CustomerUnknown(Exception):
    """inventory has not heard of the customer's tree yet: the event is tried again later."""


def financial_blocks_handler(
    *, operations: OperationService, paths: nodepaths.ProjectedNodePaths, db: Database
) -> EventHandler:
    async def handle(session: AsyncSession, event: Event) -> None:
        try:
            message = ev.AccountFundsChanged.FromString(event.data)
        except DecodeError as exc:
            raise PermanentError(f"not an AccountFundsChanged: {exc}") from exc
        if event.subject not in BLOCKING and event.subject not in UNBLOCKING:
            return
        if not message.msisdns or not message.customer_id or not message.hold_id:
            return
        async with db.sessions() as own:
            root = await paths.root(own, message.customer_id)
        if root is None:
            raise CustomerUnknown(f"no tree of customer {message.customer_id} yet")
        system = Access(
            Principal(
                user_id=SYSTEM_BILLING,
                customer_id=message.customer_id,
                session_id="",
                token_id="",
                expires_at=math.inf,
            ),
            (Grant(root, frozenset({BLOCK, LIFT_PROTECTED_BLOCKS}), "system"),),
        )
        exhausted = event.subject in BLOCKING
        await operations.create_idempotent(
            system,
            NewOperation(
                type="block" if exhausted else "unblock",
                numbers=list(message.msisdns),
                params={"block_type": FINANCIAL},
                idempotency_key=f"{'hold' if exhausted else 'release'}:{message.hold_id}",
            ),
        )

    return handle
