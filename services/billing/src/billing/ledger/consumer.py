"""Every personal account of the hierarchy gets its ledger account when accounts says it was created.

The handler of billing's node consumer: it keeps billing's copy of the tree
(:class:`simfleet_runtime.nodepaths.ProjectedNodePaths`) and, for a new
personal account, opens its ledger account in the same transaction, so the
two never disagree and a redelivered event opens nothing twice (the runtime
records the event once; opening an account that exists answers it). The
account is opened in the customer's currency and settlement method, which
accounts puts in the event from the customer's onboarding; events without them
(from before customers chose) open in billing's defaults.
"""

from __future__ import annotations

import logging

from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.ledger.models import PERSONAL
from billing.ledger.service import LedgerService, NewAccount
from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime import nodepaths
from simfleet_runtime.bus import Event, EventHandler, PermanentError
from simfleet_runtime.errors import InvalidArgument

log = logging.getLogger(__name__)


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
            created = ev.NodeCreated.FromString(event.data)
        except DecodeError as exc:
            raise PermanentError(f"not a NodeCreated: {exc}") from exc
        node = created.node
        if node.kind != nodepaths.PERSONAL_ACCOUNT:
            return
        try:
            await ledger.open_account(
                NewAccount(
                    kind=PERSONAL,
                    currency=created.currency or currency,
                    customer_id=node.customer_id,
                    personal_account_id=node.node_id,
                    settlement_method=created.settlement_method or settlement_method,
                ),
                session=session,
            )
        except InvalidArgument as exc:
            # A currency or method the ledger does not keep (refused before anything is written): no retry
            # helps, and the tree's copy must stay. The account answers NOT_FOUND and its usage NO_LEDGER_ACCOUNT.
            log.error("personal account %s not opened: %s %s", node.node_id, exc.message, exc.field_violations)

    return handle
