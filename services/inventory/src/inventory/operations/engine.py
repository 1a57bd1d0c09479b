"""The engine that runs operations: start what is due, send items to the network, apply its answers.

Every step is one transaction, so a crash anywhere loses nothing and repeats
nothing:

* **start**: a due operation's selection is resolved (within the scope its
  requester had) into items, and it turns ``running``;
* **send**: a window of pending items is checked line by line (skipped,
  failed, or changed by inventory alone), the rest turn ``in_progress``, their
  lines are marked as being changed, and the HLR items go into provisioning
  commands written to the outbox in the same transaction (the relay publishes
  them with their id as ``Nats-Msg-Id``);
* **answer**: the consumer of the network's results completes each item's line
  or undoes what it reserved, in the transaction that records the result's
  event id (a redelivered result changes nothing), and an operation with no
  item left open ends.

netsim applies each item at most once (by item id), so a command published
twice — after a crash between the publish and its mark — changes nothing twice.
At most ``max_in_flight`` items of an operation are in the network at once; a
cancelled operation stops sending and skips what it had not sent.

Each step is its own module (:mod:`~inventory.operations.starting`,
:mod:`~inventory.operations.sending`, :mod:`~inventory.operations.answering`);
this one runs them: a loop that starts and sends until nothing is left, then
waits for the clock, a new operation or an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from inventory.operations.answering import Answers
from inventory.operations.availability import Availability
from inventory.operations.sending import Sender
from inventory.operations.starting import RECHECK_AFTER, Starter
from simfleet.events.v1 import netsim_pb2 as net_events
from simfleet_runtime.bus import EventHandler, Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, is_sqlite
from simfleet_runtime.user_access import UserAccessSource

log = logging.getLogger(__name__)


class Engine:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        wake: asyncio.Event,
        max_lines: int,
        batch_size: int,
        max_in_flight: int,
        poll_seconds: float,
        quarantine_days: int,
        authority: UserAccessSource | None = None,
        availability: Availability | None = None,
        recheck_after: timedelta = RECHECK_AFTER,
    ) -> None:
        locking = not is_sqlite(db.url)
        self._wake = wake
        self._poll = poll_seconds
        self._starter = Starter(
            db=db,
            clock=clock,
            outbox=outbox,
            locking=locking,
            max_lines=max_lines,
            authority=authority,
            recheck_after=recheck_after,
        )
        self._sender = Sender(
            db=db,
            clock=clock,
            outbox=outbox,
            locking=locking,
            batch_size=max(1, batch_size),
            window=max(1, max_in_flight),
            quarantine_days=quarantine_days,
            availability=availability,
        )
        self._answers = Answers(clock=clock, outbox=outbox, locking=locking, quarantine_days=quarantine_days, wake=wake)

    # ------------------------------------------------------------ the loop
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            busy = False
            try:
                busy = await self.step()
            except Exception:
                log.exception("operation engine pass failed")
            if busy:
                await asyncio.sleep(0)
                continue
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def step(self) -> bool:
        """One pass: start due operations, then send one window per running operation; True when it did work."""
        started = await self._start_due()
        sent = await self._sender.send_all()
        return started or sent

    async def _start_due(self) -> bool:
        """Only the start of a pass (tests start due operations without sending their first window)."""
        return await self._starter.start_due()

    # ------------------------------------------------------------ answers
    def results_handler(self) -> EventHandler:
        """The consumer of netsim's HLR results (:class:`~inventory.operations.answering.Answers`)."""
        return self._answers.results_handler()

    def receipts_handler(self) -> EventHandler:
        """The consumer of the SMSC's delivery receipts."""
        return self._answers.receipts_handler()

    async def apply_results(self, session: AsyncSession, result: net_events.ProvisioningResult) -> None:
        """One command's results, in the caller's transaction."""
        await self._answers.apply_results(session, result)
