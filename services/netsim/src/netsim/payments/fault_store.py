"""The acquirer's faults in force as netsim's state: one row every replica applies (see :mod:`netsim.payments.faults`).

The shape of the HLR's :class:`~netsim.hlr.fault_store.FaultStore`:
:meth:`PaymentFaultStore.set` writes the row (one more ``version``) and applies
it in this process at once; :meth:`PaymentFaultStore.run`, a runtime task,
reads the row's version every ``refresh_seconds`` and applies the row when the
version is not the one this process holds. On a fresh database the first read
writes the initial faults (``NETSIM_PAYMENTS_*``) as the row; once the row
exists, the row wins. A payment call that comes before the first read reads the
row first (:meth:`PaymentFaultStore.current`), so a restart during an outage
serves no payment meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from netsim.payments.faults import PaymentFaults
from netsim.payments.models import FAULTS_ROW_ID, StoredPaymentFaults
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts

log = logging.getLogger(__name__)

_VERSION = sa.select(StoredPaymentFaults.version).where(StoredPaymentFaults.id == FAULTS_ROW_ID)


def faults_of(row: StoredPaymentFaults) -> PaymentFaults:
    return PaymentFaults(
        latency_ms=row.latency_ms,
        decline_rate=row.decline_rate,
        lost_answer_rate=row.lost_answer_rate,
        outage=row.outage,
        declining_cards=tuple(row.declining_cards),
    )


def _columns(faults: PaymentFaults) -> dict[str, object]:
    return {
        "latency_ms": faults.latency_ms,
        "decline_rate": faults.decline_rate,
        "lost_answer_rate": faults.lost_answer_rate,
        "outage": faults.outage,
        "declining_cards": list(faults.declining_cards),
    }


def _logged(faults: PaymentFaults, version: int | None) -> dict[str, object]:
    return {
        "payment_faults_version": version,
        "latency_ms": faults.latency_ms,
        "decline_rate": faults.decline_rate,
        "lost_answer_rate": faults.lost_answer_rate,
        "outage": faults.outage,
        "declining_cards": len(faults.declining_cards),  # how many: tokens stay out of the logs
    }


class PaymentFaultStore:
    """Reads and writes the stored faults, and holds the ones this process applies."""

    def __init__(self, db: Database, clock: Clock, *, initial: PaymentFaults, refresh_seconds: float) -> None:
        self._db = db
        self._clock = clock
        self._initial = initial
        self._refresh_seconds = refresh_seconds
        self._lock = asyncio.Lock()
        self._faults = initial
        self.version: int | None = None
        """The stored row's version applied here; None before the row was first read."""

    async def current(self) -> PaymentFaults:
        """The faults this process applies; the row is read first when it never was (one read, once)."""
        if self.version is None:
            await self.refresh()
        return self._faults

    async def get(self) -> PaymentFaults:
        """The faults in force for the service: the row's (before it exists, the initial ones)."""
        async with self._db.sessions() as session:
            row = await session.get(StoredPaymentFaults, FAULTS_ROW_ID)
            return self._initial if row is None else faults_of(row)

    async def set(self, faults: PaymentFaults) -> PaymentFaults:
        """Store ``faults`` (validated: :func:`~netsim.payments.faults.validate_payment_faults`), apply them here."""
        async with self._lock:
            async with self._db.transaction() as session:
                await self._create_row(session)
                version = await session.scalar(
                    sa.update(StoredPaymentFaults)
                    .where(StoredPaymentFaults.id == FAULTS_ROW_ID)
                    .values(**_columns(faults), version=StoredPaymentFaults.version + 1, updated_at=self._clock.now())
                    .returning(StoredPaymentFaults.version)
                )
            self._faults, self.version = faults, version
        log.info("payment faults set", extra=_logged(faults, version))
        return faults

    async def refresh(self) -> bool:
        """Apply the row when its version is not the one applied here (writing it first on a fresh database).

        True when it applied the row. One small read when nothing changed.
        """
        async with self._lock:
            async with self._db.sessions() as session:
                version = await session.scalar(_VERSION)
            if version is not None and version == self.version:
                return False
            async with self._db.transaction() as session:
                if version is None:
                    await self._create_row(session)
                row = await session.get(StoredPaymentFaults, FAULTS_ROW_ID)
                assert row is not None, "the faults' row was just written"
                faults, version = faults_of(row), row.version
            self._faults, self.version = faults, version
        log.info("payment faults applied from the store", extra=_logged(faults, version))
        return True

    async def _create_row(self, session: AsyncSession) -> None:
        """Write the initial faults as the row, unless it exists (another process may be writing it now)."""
        await session.execute(
            insert_ignoring_conflicts(session, StoredPaymentFaults.__table__),  # type: ignore[arg-type]
            {"id": FAULTS_ROW_ID, **_columns(self._initial), "version": 1, "updated_at": self._clock.now()},
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh until ``stop``; a database away keeps the faults in hand and is tried again."""
        failing = False
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a while
                if not failing:
                    log.warning("reading the payment faults failed: %s; keeping the ones in hand", exc)
                failing = True
            else:
                if failing:
                    log.info("reading the payment faults again")
                failing = False
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._refresh_seconds)
