"""The HLR's consumer: ``simfleet.netsim.cmd.hlr.provision`` on the NETSIM_CMD work queue.

Two steps per command, run by the runtime's :class:`DurableConsumer`:

* :meth:`ProvisionConsumer.before`, outside any transaction: waits while an
  outage is on (the command is held, its ack deadline kept alive; it is neither
  redelivered nor counted as a failed delivery, so no outage, however long,
  dead-letters it) and sleeps the injected latency, so that a slow HLR never
  holds the database (netsim's SMSC writes to it too).
* :meth:`ProvisionConsumer.handle`, in the consumer's transaction (which also
  records the event id: a redelivered command changes nothing): applies the
  items in order and writes one ``ProvisioningResult`` to the outbox, with the
  command's tenant.

A command that can never be taken (undecodable, no command_id, too many items)
raises :class:`PermanentError` and is dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from netsim import metrics
from netsim.hlr.faults import FaultInjector
from netsim.hlr.service import FAILURE_NAMES, Answer, provision, validate_command
from simfleet.events.v1 import netsim_pb2 as events_pb2
from simfleet.netsim.v1 import hlr_pb2
from simfleet_runtime.bus import Event, Outbox, PermanentError
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import after_commit
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import NetsimSubjects

CONSUMER_NAME = "netsim-hlr"


class ProvisionConsumer:
    """The ``before`` hook and the handler of the HLR's durable consumer."""

    def __init__(self, *, outbox: Outbox, clock: Clock, faults: FaultInjector) -> None:
        self._outbox = outbox
        self._clock = clock
        self._faults = faults
        # The consumer takes one message at a time: the command in hand and when it was taken.
        self._taken: tuple[str, float] | None = None

    async def before(self, event: Event) -> None:
        self._taken = (event.id, time.perf_counter())
        await self._faults.wait_available()
        delay = self._faults.latency_seconds(_item_count(event.data))
        if delay > 0:
            await asyncio.sleep(delay)
            await self._faults.wait_available()  # an outage that began meanwhile holds it too

    async def handle(self, session: AsyncSession, event: Event) -> None:
        taken = self._taken[1] if self._taken is not None and self._taken[0] == event.id else time.perf_counter()
        try:
            command = hlr_pb2.ProvisionCommand.FromString(event.data)
        except DecodeError as exc:
            raise PermanentError(f"not a ProvisionCommand: {exc}") from exc
        try:
            validate_command(command)
        except InvalidArgument as exc:
            fields = ", ".join(f"{k}: {v}" for k, v in exc.field_violations.items())
            raise PermanentError(f"{exc.reason}: {exc.message} ({fields})") from exc
        answers = await provision(session, command, faults=self._faults, clock=self._clock)
        result = events_pb2.ProvisioningResult(
            command_id=command.command_id.strip(),
            correlation_id=command.correlation_id,
            results=[a.result for a in answers],
            completed_at=timestamp(self._clock.now()),
        )
        await self._outbox.add(session, NetsimSubjects.PROVISIONING_RESULT, result, tenant=event.tenant)
        after_commit(session, _count(answers, taken))


def _item_count(data: bytes) -> int:
    """How many items a command holds (0 when it does not decode: the handler refuses it)."""
    try:
        return len(hlr_pb2.ProvisionCommand.FromString(data).items)
    except DecodeError:
        return 0


def _count(answers: list[Answer], taken: float) -> Callable[[], None]:
    items = Counter((a.action, "duplicate" if a.duplicate else "applied" if a.result.ok else "failed") for a in answers)
    failures = Counter(FAILURE_NAMES[a.result.failure] for a in answers if not a.duplicate and not a.result.ok)

    def count() -> None:
        for (action, result), n in items.items():
            metrics.HLR_ITEMS.labels(action, result).inc(n)
        for failure, n in failures.items():
            metrics.HLR_FAILURES_TOTAL.labels(failure).inc(n)
        metrics.HLR_LATENCY.observe(time.perf_counter() - taken)

    return count
