"""The HLR's faults in force as netsim's state: one row every replica applies (see :mod:`netsim.hlr.faults`).

:meth:`FaultStore.set` writes the row (one more ``version``) and applies it in
this process at once; :meth:`FaultStore.run`, a runtime task, reads the row's
version every ``refresh_seconds`` and applies the row when the version is not
the one this process holds. On a fresh database the first read writes the
initial faults (the settings') as the row. A lock keeps this process's own
writes and reads in order, so a read that raced a write never re-applies older
faults over newer ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from netsim.hlr.faults import FaultInjector, Faults
from netsim.hlr.models import FAULTS_ROW_ID, StoredFaults
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts

log = logging.getLogger(__name__)

_VERSION = sa.select(StoredFaults.version).where(StoredFaults.id == FAULTS_ROW_ID)


def faults_of(row: StoredFaults) -> Faults:
    return Faults(
        latency_ms=row.latency_ms,
        failure_rate=row.failure_rate,
        outage=row.outage,
        failing_msisdns=tuple(row.failing_msisdns),
    )


def _columns(faults: Faults) -> dict[str, object]:
    return {
        "latency_ms": faults.latency_ms,
        "failure_rate": faults.failure_rate,
        "outage": faults.outage,
        "failing_msisdns": list(faults.failing_msisdns),
    }


def _log_applied(message: str, faults: Faults, version: int | None) -> None:
    log.info(
        message,
        extra={
            "faults_version": version,
            "latency_ms": faults.latency_ms,
            "failure_rate": faults.failure_rate,
            "outage": faults.outage,
            "failing_msisdns": len(faults.failing_msisdns),  # how many: numbers stay out of the logs
        },
    )


class FaultStore:
    """Reads and writes the stored faults, and keeps this process's :class:`FaultInjector` in step with them."""

    def __init__(
        self, db: Database, injector: FaultInjector, clock: Clock, *, initial: Faults, refresh_seconds: float
    ) -> None:
        self._db = db
        self._injector = injector
        self._clock = clock
        self._initial = initial
        self._refresh_seconds = refresh_seconds
        self._lock = asyncio.Lock()

    @property
    def injector(self) -> FaultInjector:
        return self._injector

    async def get(self) -> Faults:
        """The faults in force for the service: the row's (before it exists, the initial ones)."""
        async with self._db.sessions() as session:
            row = await session.get(StoredFaults, FAULTS_ROW_ID)
            return self._initial if row is None else faults_of(row)

    async def set(self, faults: Faults) -> Faults:
        """Store ``faults`` (validated: :func:`~netsim.hlr.faults.validate_faults`) and apply them here at once."""
        async with self._lock:
            async with self._db.transaction() as session:
                await self._create_row(session)
                version = await session.scalar(
                    sa.update(StoredFaults)
                    .where(StoredFaults.id == FAULTS_ROW_ID)
                    .values(**_columns(faults), version=StoredFaults.version + 1, updated_at=self._clock.now())
                    .returning(StoredFaults.version)
                )
            self._injector.set(faults, version=version)
        _log_applied("HLR faults set", faults, version)
        return faults

    async def refresh(self) -> bool:
        """Apply the row when its version is not the one applied here (writing it first on a fresh database).

        True when it applied the row. One small read when nothing changed.
        """
        async with self._lock:
            async with self._db.sessions() as session:
                version = await session.scalar(_VERSION)
            if version is not None and version == self._injector.version:
                return False
            async with self._db.transaction() as session:
                if version is None:
                    await self._create_row(session)
                row = await session.get(StoredFaults, FAULTS_ROW_ID)
                assert row is not None, "the faults' row was just written"
                faults, version = faults_of(row), row.version
            self._injector.set(faults, version=version)
        _log_applied("HLR faults applied from the store", faults, version)
        return True

    async def _create_row(self, session: AsyncSession) -> None:
        """Write the initial faults as the row, unless it exists (another process may be writing it now)."""
        await session.execute(
            insert_ignoring_conflicts(session, StoredFaults.__table__),  # type: ignore[arg-type]
            {
                "id": FAULTS_ROW_ID,
                **_columns(self._initial),
                "version": 1,
                "updated_at": self._clock.now(),
            },
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh until ``stop``; a database away keeps the faults in hand and is tried again."""
        failing = False
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a while
                if not failing:
                    log.warning("reading the HLR's faults failed: %s; keeping the ones in hand", exc)
                failing = True
            else:
                if failing:
                    log.info("reading the HLR's faults again")
                failing = False
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._refresh_seconds)
