"""Usage records for the HLR's subscribers, made and published in batches.

Who is eligible: a subscriber with a number and no barring at all (a line not
activated is barred ``not_activated``), within the settings' number prefixes
(or a ``GenerateUsage`` call's). A kind needs its service (``voice`` for
calls, ``sms``, ``data``); a record made while roaming needs ``roaming`` (then
``roaming_country`` is one of :data:`ROAMING_COUNTRIES`, with the settings'
``roaming_share``); a call or SMS to another country needs ``international``
(with ``international_share``); other calls and SMS go on-net (to another of
the HLR's numbers) or to another national network, half and half.

Scale: the HLR may hold a million subscribers, so they are never all read as
objects. A :class:`Sample` is up to ``sample_size`` eligible subscribers read
as plain rows in keyset pages of the primary key (IMSI), kept as three lists
(IMSIs, numbers, service flags) with one list of indexes per kind; the
continuous generator reads the next window every ``sample_refresh_seconds``
(wrapping round, so over time every subscriber is drawn), a ``GenerateUsage``
call reads a fresh one.

Quantities: calls 5 s to 1 h (log-normal, median about 80 s), data 10 KB to
500 MB (log-normal, median about 2 MB), SMS 1. Destinations: E.164 numbers.
``started_at`` is now, less a jitter under a second. ``record_id`` is a ULID
(:func:`simfleet_runtime.ids.new_ids`, 26 characters, 48 bits of time and 55
random bits drawn per batch plus a counter): unique across restarts and
replicas.

Publishing: a ``UsageRecords`` batch of at most :data:`BATCH_RECORDS` records
on ``simfleet.netsim.usage.recorded`` with JetStream publish, acknowledged by
the stream, with a ``Nats-Msg-Id`` of its own: a publish retried after a lost
acknowledgement is dropped by the stream's duplicate window, so no record is
stored twice. Records are not written to the database first (no outbox): they
are the network's output, not netsim's state, and a batch that cannot be
published after its retries is counted as a publish failure and dropped (a
``GenerateUsage`` call fails UNAVAILABLE).

The continuous generator (:meth:`UsageGenerator.run`) ticks every
``tick_seconds``, adds what the rate owes since the last tick (at most a
second's worth: a stall is not made up in a burst) and publishes the whole
records owed; it runs only in the process holding the lease
(:class:`~netsim.usage.lease.Lease`) and only while ``records_per_second`` is
above 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa
from nats.js.client import JetStreamContext

from netsim import metrics
from netsim.hlr.identifiers import DEFAULT_SERVICES
from netsim.hlr.models import Subscriber
from netsim.usage.lease import Lease
from netsim.usage.settings import UsageSettings
from netsim.usage.settings_store import UsageSettingsStore
from simfleet.events.v1 import netsim_pb2 as events_pb2
from simfleet.netsim.v1 import usage_pb2
from simfleet_runtime import telemetry
from simfleet_runtime.bus import headers as h
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import Unavailable
from simfleet_runtime.ids import new_id, new_ids
from simfleet_subjects import NetsimSubjects

log = logging.getLogger(__name__)

Kind = usage_pb2.UsageKind
Zone = usage_pb2.UsageZone
VOICE, SMS, DATA = Kind.USAGE_KIND_VOICE, Kind.USAGE_KIND_SMS, Kind.USAGE_KIND_DATA
KIND_NAMES: dict[int, str] = {VOICE: "voice", SMS: "sms", DATA: "data"}
KINDS_BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}

BATCH_RECORDS = 1000
PAGE_ROWS = 5000
IN_FLIGHT = 4
"""Batches a burst keeps in flight (published, not yet acknowledged)."""
PUBLISH_ATTEMPTS = 3
PUBLISH_TIMEOUT_SECONDS = 5.0
MAX_OWED_SECONDS = 1.0

FLAG_VOICE, FLAG_SMS, FLAG_DATA, FLAG_ROAMING, FLAG_INTERNATIONAL = 1, 2, 4, 8, 16
_FLAGS = {"voice": FLAG_VOICE, "sms": FLAG_SMS, "data": FLAG_DATA, "roaming": FLAG_ROAMING}
_FLAGS["international"] = FLAG_INTERNATIONAL
_KIND_FLAG = {VOICE: FLAG_VOICE, SMS: FLAG_SMS, DATA: FLAG_DATA}
DEFAULT_FLAGS = sum(_FLAGS[s] for s in DEFAULT_SERVICES)

ROAMING_COUNTRIES = ("TR", "AE", "DE", "FR", "IT", "ES", "TH", "GE", "AM", "KZ", "CN", "EG", "FI", "US")
"""ISO 3166-1 alpha-2 codes of the countries subscribers roam in."""
NATIONAL_PREFIXES = ("+7903", "+7916", "+7925", "+7963", "+7985")
"""Other networks of the home country (+7), 7 digits follow."""
INTERNATIONAL_NUMBERS = (("+44", 10), ("+49", 10), ("+33", 9), ("+1", 10), ("+86", 11), ("+90", 10), ("+971", 9))
"""Country codes and how many digits follow them."""

VOICE_SECONDS = (5, 3600, math.log(80.0), 1.3)
"""Calls: min, max, and the log-normal's mu and sigma."""
DATA_BYTES = (10_000, 500_000_000, math.log(2_000_000.0), 2.0)
"""Data sessions: min, max, and the log-normal's mu and sigma."""

_ELIGIBLE = sa.select(Subscriber.imsi, Subscriber.msisdn, sa.cast(Subscriber.services, sa.Text)).where(
    Subscriber.msisdn.is_not(None), sa.cast(Subscriber.barrings, sa.Text) == "[]"
)


def service_flags(stored: object) -> int:
    """A subscriber's ``services`` column as read (JSON text, a decoded list, or NULL: the default) → flags."""
    names = orjson.loads(stored) if isinstance(stored, str | bytes) else stored
    if not isinstance(names, list):
        return DEFAULT_FLAGS  # NULL (never given)
    return sum(_FLAGS.get(str(name), 0) for name in set(names))


@dataclass
class Sample:
    """Eligible subscribers as three parallel lists, and per kind the indexes of those that may make it."""

    imsis: list[str] = field(default_factory=list)
    msisdns: list[str] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    by_kind: dict[int, list[int]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.imsis)

    def add(self, imsi: str, msisdn: str, flags: int) -> None:
        index = len(self.imsis)
        self.imsis.append(imsi)
        self.msisdns.append(msisdn)
        self.flags.append(flags)
        for kind, flag in _KIND_FLAG.items():
            if flags & flag:
                self.by_kind.setdefault(kind, []).append(index)


async def load_sample(db: Database, *, prefixes: Sequence[str], limit: int, after: str = "") -> tuple[Sample, str]:
    """Up to ``limit`` eligible subscribers from the first IMSI after ``after`` on (wrapping round once).

    Returns them and the IMSI to continue after next time.
    """
    query = _ELIGIBLE
    if prefixes:
        query = query.where(sa.or_(*(Subscriber.msisdn.startswith(p, autoescape=True) for p in prefixes)))
    sample = Sample()
    flags_of: dict[object, int] = {}
    cursor, wrapped = after, False
    async with db.sessions() as session:
        while sample.size < limit:
            page = min(PAGE_ROWS, limit - sample.size)
            paged = query.where(Subscriber.imsi > cursor)
            if wrapped:
                paged = paged.where(Subscriber.imsi <= after)  # the second pass stops where the first began
            rows = (await session.execute(paged.order_by(Subscriber.imsi).limit(page))).all()
            for imsi, msisdn, services in rows:
                # The backend gives the column's text (it was cast); a few distinct values, each decoded once.
                flags = flags_of.get(services)
                if flags is None:
                    flags = flags_of[services] = service_flags(services)
                sample.add(imsi, msisdn or "", flags)
            if rows:
                cursor = rows[-1][0]
            if len(rows) < page:
                if wrapped or not after:
                    break
                wrapped, cursor = True, ""
    return sample, cursor


@dataclass(frozen=True)
class Mix:
    """The kinds to draw and their cumulative weights (only kinds some subscriber of the sample may make)."""

    kinds: tuple[int, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, settings: UsageSettings, sample: Sample, only: Sequence[int] = ()) -> Mix:
        weights = {KINDS_BY_NAME[name]: w for name, w in settings.weights().items()}
        if only:
            weights = {kind: weights.get(kind, 0.0) for kind in only}
            if not any(weights.values()):
                weights = dict.fromkeys(only, 1.0)
        kinds, cumulative, total = [], [], 0.0
        for kind, weight in weights.items():
            if weight > 0 and sample.by_kind.get(kind):
                total += weight
                kinds.append(kind)
                cumulative.append(total)
        return cls(tuple(kinds), tuple(cumulative))


@dataclass
class Counts:
    """What this process generated since it started (the console shows them)."""

    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KIND_NAMES.values(), 0))
    batches: int = 0
    publish_failures: int = 0


class RecordMaker:
    """Draws records (a simulation's dice: ``random``, not secrets)."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def batch(
        self, sample: Sample, mix: Mix, settings: UsageSettings, count: int, now: float
    ) -> tuple[events_pb2.UsageRecords, dict[int, int]]:
        """``count`` records (at most a batch) for ``sample``'s subscribers, and how many of each kind."""
        rnd = self._random.random
        lognormal = self._random.lognormvariate
        randrange = self._random.randrange
        kinds = self._random.choices(mix.kinds, cum_weights=mix.cumulative, k=count)
        ids = new_ids(count)
        message = events_pb2.UsageRecords()
        add = message.records.add
        imsis, msisdns, flags_of, by_kind, size = (
            sample.imsis,
            sample.msisdns,
            sample.flags,
            sample.by_kind,
            sample.size,
        )
        roaming_share, international_share = settings.roaming_share, settings.international_share
        v_min, v_max, v_mu, v_sigma = VOICE_SECONDS
        d_min, d_max, d_mu, d_sigma = DATA_BYTES
        seconds = int(now)
        nanos = int((now - seconds) * 1e9)
        tally = dict.fromkeys(mix.kinds, 0)
        for i in range(count):
            kind = kinds[i]
            tally[kind] += 1
            eligible = by_kind[kind]
            j = eligible[int(rnd() * len(eligible))]
            flags = flags_of[j]
            country = (
                ROAMING_COUNTRIES[randrange(len(ROAMING_COUNTRIES))]
                if (flags & FLAG_ROAMING and roaming_share and rnd() < roaming_share)
                else ""
            )
            if kind == DATA:
                quantity = min(max(int(lognormal(d_mu, d_sigma)), d_min), d_max)
                zone, destination = Zone.USAGE_ZONE_NONE, ""
            else:
                quantity = min(max(int(lognormal(v_mu, v_sigma)), v_min), v_max) if kind == VOICE else 1
                if flags & FLAG_INTERNATIONAL and international_share and rnd() < international_share:
                    code, digits = INTERNATIONAL_NUMBERS[randrange(len(INTERNATIONAL_NUMBERS))]
                    zone, destination = Zone.USAGE_ZONE_INTERNATIONAL, f"{code}{randrange(10**digits):0{digits}d}"
                elif size > 1 and rnd() < 0.5:
                    other = randrange(size - 1)
                    zone, destination = Zone.USAGE_ZONE_ON_NET, msisdns[other if other < j else other + 1]
                else:
                    prefix = NATIONAL_PREFIXES[randrange(len(NATIONAL_PREFIXES))]
                    zone, destination = Zone.USAGE_ZONE_NATIONAL, f"{prefix}{randrange(10_000_000):07d}"
            jitter = int(rnd() * 1e9)
            record = add(
                record_id=ids[i],
                imsi=imsis[j],
                msisdn=msisdns[j],
                kind=kind,
                quantity=quantity,
                zone=zone,
                roaming_country=country,
                destination=destination,
            )
            if jitter <= nanos:
                record.started_at.seconds, record.started_at.nanos = seconds, nanos - jitter
            else:
                record.started_at.seconds, record.started_at.nanos = seconds - 1, nanos - jitter + 1_000_000_000
        return message, tally


@dataclass(frozen=True)
class Generated:
    generated: int
    subscribers: int


class UsageGenerator:
    """Makes and publishes usage records: bursts on request, and the continuous flow at the settings' rate."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        store: UsageSettingsStore,
        lease: Lease,
        js: Callable[[], JetStreamContext | None],
        tick_seconds: float,
        sample_size: int,
        sample_refresh_seconds: float,
        seed: int | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._store = store
        self._lease = lease
        self._js = js
        self._tick = tick_seconds
        self._sample_size = sample_size
        self._sample_refresh = sample_refresh_seconds
        self._maker = RecordMaker(seed)
        self._sample: tuple[tuple[str, ...], Sample, float] | None = None
        self._cursor = ""
        self._burst_cursor = ""
        self.counts = Counts()

    @property
    def lease(self) -> Lease:
        return self._lease

    # ----------------------------------------------------------------- bursts
    async def generate(self, count: int, *, kinds: Sequence[int] = (), prefixes: Sequence[str] = ()) -> Generated:
        """``count`` records now for a fresh sample, published before this returns (validated arguments)."""
        settings = self._store.current
        sample, self._burst_cursor = await load_sample(
            self._db,
            prefixes=prefixes or settings.msisdn_prefixes,
            limit=self._sample_size,
            after=self._burst_cursor,
        )
        mix = Mix.of(settings, sample, kinds)
        if not mix.kinds:
            return Generated(0, sample.size)
        made = await self._emit(sample, mix, settings, count)
        return Generated(made, sample.size)

    async def _emit(self, sample: Sample, mix: Mix, settings: UsageSettings, count: int) -> int:
        """Make and publish ``count`` records in batches, a few in flight; raises Unavailable when one fails."""
        js = self._js()
        if js is None:
            raise Unavailable("the network's bus is not reachable yet", reason="BUS_UNAVAILABLE")
        in_flight: set[asyncio.Task[int]] = set()
        made, failed = 0, False
        left = count
        while left > 0 and not failed:
            size = min(BATCH_RECORDS, left)
            left -= size
            message, tally = self._maker.batch(sample, mix, settings, size, self._clock.timestamp())
            in_flight.add(asyncio.ensure_future(self._publish(js, message, tally)))
            if len(in_flight) >= IN_FLIGHT:
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task.exception() is None:
                        made += task.result()
                    else:
                        failed = True
        if in_flight:
            for task in (await asyncio.wait(in_flight))[0]:
                if task.exception() is None:
                    made += task.result()
                else:
                    failed = True
        if failed:
            raise Unavailable(f"publishing usage records failed after {made} of {count}", reason="USAGE_PUBLISH_FAILED")
        return made

    async def _publish(self, js: JetStreamContext, message: events_pb2.UsageRecords, tally: dict[int, int]) -> int:
        """One batch, with one ``Nats-Msg-Id`` for all its attempts; returns its records once acknowledged."""
        payload = message.SerializeToString()
        headers = {h.MSG_ID: new_id(), h.EVENT_TYPE: message.DESCRIPTOR.full_name, h.TENANT: ""}
        telemetry.inject_headers(headers)
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                await js.publish(
                    NetsimSubjects.USAGE_RECORDED, payload, timeout=PUBLISH_TIMEOUT_SECONDS, headers=headers
                )
                break
            except Exception as exc:
                if attempt == PUBLISH_ATTEMPTS:
                    self.counts.publish_failures += 1
                    metrics.USAGE_PUBLISH_FAILURES.inc()
                    log.warning("publishing a usage batch failed: %s", exc, extra={"records": len(message.records)})
                    raise
                await asyncio.sleep(0.2 * attempt)
        self.counts.batches += 1
        metrics.USAGE_BATCHES.inc()
        for kind, n in tally.items():
            name = KIND_NAMES[kind]
            self.counts.records[name] += n
            metrics.USAGE_RECORDS.labels(name).inc(n)
        return len(message.records)

    # ----------------------------------------------------------------- the continuous flow
    async def _current_sample(self, prefixes: tuple[str, ...]) -> Sample:
        now = time.monotonic()
        if self._sample is None or self._sample[0] != prefixes or now - self._sample[2] >= self._sample_refresh:
            if self._sample is not None and self._sample[0] != prefixes:
                self._cursor = ""
            sample, self._cursor = await load_sample(
                self._db, prefixes=prefixes, limit=self._sample_size, after=self._cursor
            )
            self._sample = (prefixes, sample, now)
        return self._sample[1]

    async def _holds_lease(self, wanted: bool, next_check: float) -> tuple[bool, float]:
        """Whether this process may generate now, and when to ask the row again."""
        now = time.monotonic()
        if not wanted:
            if self._lease.held:
                await self._lease.release()
            return False, now
        if now >= next_check:
            await self._lease.acquire()
            next_check = now + self._lease.seconds / 3
        return self._lease.held, next_check

    async def tick(self, settings: UsageSettings, count: int) -> int:
        """Publish ``count`` records for the cached sample (the continuous flow's step)."""
        sample = await self._current_sample(settings.msisdn_prefixes)
        mix = Mix.of(settings, sample)
        if not mix.kinds:
            return 0
        return await self._emit(sample, mix, settings, count)

    async def run(self, stop: asyncio.Event) -> None:
        """Generate at the settings' rate while this process holds the lease, until ``stop``."""
        last, owed, next_check, failing = time.monotonic(), 0.0, 0.0, False
        try:
            while not stop.is_set():
                self._store.changed.clear()
                settings = self._store.current
                rate = settings.records_per_second
                try:
                    generating, next_check = await self._holds_lease(rate > 0 and self._js() is not None, next_check)
                    metrics.USAGE_GENERATING.set(1 if generating else 0)
                    now = time.monotonic()
                    if not generating:
                        owed = 0.0
                    else:
                        owed = min(owed + rate * (now - last), rate * MAX_OWED_SECONDS + 1)
                        due = int(owed)
                        owed -= due  # what fails is dropped: the rate is a simulation's, not a debt
                        if due:
                            await self.tick(settings, due)
                    last = now
                except Exception as exc:  # noqa: BLE001 - the database or the bus may be away for a while
                    if not failing:
                        log.warning("generating usage failed: %s; trying again", exc)
                    failing = True
                    next_check = 0.0
                else:
                    failing = False
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(_first(stop, self._store.changed), self._tick)
        finally:
            metrics.USAGE_GENERATING.set(0)
            if self._lease.held:
                with contextlib.suppress(Exception):
                    await self._lease.release()


async def _first(*events: asyncio.Event) -> None:
    """Until one of ``events`` is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
