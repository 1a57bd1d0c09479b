"""Financial holds (BI-10: prepaid accounts that run out, postpaid ones past their credit limit).

A sweep compares every personal account's spendable balance with its floor:

- below it and not held: a hold is recorded, the account's lines in service
  are given the reason ``account:<id>`` (:mod:`billing.holds.lines`) and
  ``account.exhausted`` is published (through the outbox, in the same
  transaction) naming those not held for another reason already, which
  inventory blocks financially;
- held and back at or above it (a payment, a transfer, a raised limit): the
  hold is deleted, the reason taken from its lines and ``account.replenished``
  published naming those it was the last reason of (a line a spending limit
  still holds stays blocked), which inventory unblocks.

The hold row is the guard: a sweep that races another, or runs again after a
crash, finds it (or its absence) and publishes nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import sqlalchemy as sa

from billing import metrics
from billing.holds import lines
from billing.holds.models import HOLDS
from billing.ledger.models import ACCOUNTS, PERSONAL
from billing.lines.models import LINES
from simfleet.events.v1 import billing_pb2 as ev
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import BillingSubjects

log = logging.getLogger(__name__)
IN_SERVICE = ("active", "blocked")
A = ACCOUNTS.c
H = HOLDS.c


class Holds:
    def __init__(self, *, db: Database, clock: Clock, outbox: Outbox, interval: float) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._interval = interval

    async def sweep(self) -> tuple[int, int]:
        """One pass: (holds placed, holds lifted)."""
        spendable = A.balance - A.debits_pending
        async with self._db.sessions() as session:
            below = (
                await session.execute(
                    sa.select(A.id, A.customer_id, A.personal_account_id, A.balance, A.floor, A.currency)
                    .outerjoin(HOLDS, H.account_id == A.id)
                    .where(A.kind == PERSONAL, A.floor.is_not(None), spendable < A.floor, H.account_id.is_(None))
                )
            ).all()
            back = (
                await session.execute(
                    sa.select(A.id, A.customer_id, A.personal_account_id, A.balance, A.floor, A.currency, H.hold_id)
                    .join(HOLDS, H.account_id == A.id)
                    .where(sa.or_(A.floor.is_(None), spendable >= A.floor))
                )
            ).all()
        placed = lifted = 0
        for row in below:
            placed += await self._change(row, BillingSubjects.ACCOUNT_EXHAUSTED, hold_id=None)
        for held in back:
            lifted += await self._change(held, BillingSubjects.ACCOUNT_REPLENISHED, hold_id=held.hold_id)
        return placed, lifted

    async def _change(self, account: Any, subject: str, hold_id: str | None) -> int:
        """Place or lift one hold with its event, once (``account``: a row of the sweep's query)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            if hold_id is None:
                hold_id = new_id()
                claimed = await session.execute(
                    insert_ignoring_conflicts(session, HOLDS),
                    {
                        "account_id": account.id,
                        "hold_id": hold_id,
                        "customer_id": account.customer_id,
                        "personal_account_id": account.personal_account_id,
                        "since": now,
                    },
                )
            else:
                claimed = await session.execute(sa.delete(HOLDS).where(H.hold_id == hold_id))
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return 0  # another sweep did it
            reason = lines.account_reason(account.id)
            if subject == BillingSubjects.ACCOUNT_EXHAUSTED:
                in_service = await session.execute(
                    sa.select(LINES.c.line_id, LINES.c.msisdn).where(
                        LINES.c.personal_account_id == account.personal_account_id,
                        LINES.c.customer_id == account.customer_id,
                        LINES.c.state.in_(IN_SERVICE),
                    )
                )
                numbers = await lines.hold(
                    session,
                    customer_id=account.customer_id,
                    lines=[(row.line_id, row.msisdn) for row in in_service],
                    reason=reason,
                    now=now,
                )
            else:
                numbers = await lines.release(session, reason=reason, now=now)
            message = ev.AccountFundsChanged(
                customer_id=account.customer_id,
                personal_account_id=account.personal_account_id,
                balance=account.balance,
                floor=account.floor,
                currency=account.currency,
                msisdns=numbers,
                occurred_at=timestamp(now),
                hold_id=hold_id,
                reason=reason,
            )
            await self._outbox.add(session, subject, message, tenant=account.customer_id)
        metrics.HOLDS.labels("placed" if subject == BillingSubjects.ACCOUNT_EXHAUSTED else "lifted").inc()
        return 1

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception:  # the next pass tries again
                log.exception("the financial holds' sweep failed; it runs again")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue
