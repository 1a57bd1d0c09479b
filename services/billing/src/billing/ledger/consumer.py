"""Every personal account of the hierarchy gets its ledger account when accounts says it was created.

The handler of billing's node consumer: it keeps billing's copy of the tree
(:class:`simfleet_runtime.nodepaths.ProjectedNodePaths`) and, for a new
personal account, opens its ledger account in the same transaction, so the
two never disagree and a redelivered event opens nothing twice (the runtime
records the event once; opening an account that exists answers it).
"""

from __future__ import annotations

from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.ledger.models import PERSONAL
from billing.ledger.service import LedgerService, NewAccount
from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime import nodepaths
from simfleet_runtime.bus import Event, EventHandler, PermanentError


def node_events_handler(
    *, paths: nodepaths.ProjectedNodePaths, ledger: LedgerService, currency: str, settlement_method: str
) -> EventHandler:
    """The tree's copy, then the ledger account of each new personal account (``currency``, ``settlement_method``)."""
    keep_paths = paths.handler()

    async def handle(session: AsyncSession, event: Event) -> None:
        await keep_paths(session, event)
        if event.subject != nodepaths.CREATED:
            return
        try:
            node = ev.NodeCreated.FromString(event.data).node
        except DecodeError as exc:
            raise PermanentError(f"not a NodeCreated: {exc}") from exc
        if node.kind != nodepaths.PERSONAL_ACCOUNT:
            return
        await ledger.open_account(
            NewAccount(
                kind=PERSONAL,
                currency=currency,
                customer_id=node.customer_id,
                personal_account_id=node.node_id,
                settlement_method=settlement_method,
            ),
            session=session,
        )

    return handle
