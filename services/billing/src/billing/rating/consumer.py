"""Rating's consumer: each ``UsageRecords`` batch from netsim's mediation, rated in the transaction that claims it.

The runtime claims the batch's event id in the same transaction (a batch that
comes again changes nothing), and the records' own ids keep a record that
comes again in another batch from being charged twice. Until the catalogue
is loaded, batches wait (the ``before`` hook, holding no connection).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics
from billing.catalogue.service import Catalogue
from billing.rating.service import Rater
from simfleet.events.v1 import netsim_pb2 as ev
from simfleet_runtime.bus import BeforeHook, Event, EventHandler, GroupHandler, PermanentError

MAX_BATCH = 1000


def _records(event: Event) -> Sequence[Any]:
    try:
        records = ev.UsageRecords.FromString(event.data).records
    except DecodeError as exc:
        raise PermanentError(f"not a UsageRecords batch: {exc}") from exc
    if len(records) > MAX_BATCH:
        raise PermanentError(f"a batch of {len(records)} records; at most {MAX_BATCH}")
    return records


def usage_handler(rater: Rater) -> EventHandler:
    async def handle(session: AsyncSession, event: Event) -> None:
        records = _records(event)
        with metrics.RATING_BATCH_SECONDS.time():
            await rater.rate(session, records, event.id)

    return handle


def usage_group_handler(rater: Rater) -> GroupHandler:
    """Several batches rated as one, in the transaction that claims them all (a bad one fails the group, and the
    consumer then takes each batch on its own)."""

    async def handle(session: AsyncSession, events: Sequence[Event]) -> None:
        batches = [(event.id, _records(event)) for event in events]
        with metrics.RATING_BATCH_SECONDS.time():
            await rater.rate_batches(session, batches)

    return handle


def catalogue_loaded(catalogue: Catalogue) -> BeforeHook:
    async def wait(event: Event) -> None:
        await catalogue.wait_loaded()

    return wait
