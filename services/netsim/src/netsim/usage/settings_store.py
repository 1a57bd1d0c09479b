"""The usage generator's settings as netsim's state: one row every replica applies (see :mod:`netsim.usage.models`).

The shape of the HLR's :class:`~netsim.hlr.fault_store.FaultStore`:
:meth:`UsageSettingsStore.set` writes the row (one more ``version``) and
applies it in this process at once; :meth:`UsageSettingsStore.run`, a runtime
task, reads the row's version every ``refresh_seconds`` and applies the row
when the version is not the one this process holds. On a fresh database the
first read writes the initial settings (``NETSIM_USAGE_*``) as the row; once
the row exists, the row wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from netsim import metrics
from netsim.usage.models import SETTINGS_ROW_ID, StoredUsageSettings
from netsim.usage.settings import UsageSettings
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts

log = logging.getLogger(__name__)

_VERSION = sa.select(StoredUsageSettings.version).where(StoredUsageSettings.id == SETTINGS_ROW_ID)


def settings_of(row: StoredUsageSettings) -> UsageSettings:
    return UsageSettings(
        records_per_second=row.records_per_second,
        voice_weight=row.voice_weight,
        sms_weight=row.sms_weight,
        data_weight=row.data_weight,
        roaming_share=row.roaming_share,
        international_share=row.international_share,
        msisdn_prefixes=tuple(row.msisdn_prefixes),
    )


def _columns(settings: UsageSettings) -> dict[str, object]:
    return {
        "records_per_second": settings.records_per_second,
        "voice_weight": settings.voice_weight,
        "sms_weight": settings.sms_weight,
        "data_weight": settings.data_weight,
        "roaming_share": settings.roaming_share,
        "international_share": settings.international_share,
        "msisdn_prefixes": list(settings.msisdn_prefixes),
    }


class UsageSettingsStore:
    """Reads and writes the stored settings, and holds the ones this process applies (:attr:`current`)."""

    def __init__(self, db: Database, clock: Clock, *, initial: UsageSettings, refresh_seconds: float) -> None:
        self._db = db
        self._clock = clock
        self._initial = initial
        self._refresh_seconds = refresh_seconds
        self._lock = asyncio.Lock()
        self.current = initial
        """The settings this process applies (the initial ones until the row is first read)."""
        self.version: int | None = None
        """The stored row's version applied here; None before the row was first read."""
        self.changed = asyncio.Event()
        """Set on every change applied here (the generator clears it): it wakes at once."""

    def _apply(self, settings: UsageSettings, version: int | None) -> None:
        self.current, self.version = settings, version
        metrics.USAGE_SETTINGS_VERSION.set(version or 0)
        self.changed.set()

    async def get(self) -> UsageSettings:
        """The settings in force: the row's (before it exists, the initial ones)."""
        async with self._db.sessions() as session:
            row = await session.get(StoredUsageSettings, SETTINGS_ROW_ID)
            return self._initial if row is None else settings_of(row)

    async def set(self, settings: UsageSettings) -> UsageSettings:
        """Store ``settings`` (validated) and apply them here at once."""
        async with self._lock:
            async with self._db.transaction() as session:
                await self._create_row(session)
                version = await session.scalar(
                    sa.update(StoredUsageSettings)
                    .where(StoredUsageSettings.id == SETTINGS_ROW_ID)
                    .values(**_columns(settings), version=StoredUsageSettings.version + 1, updated_at=self._clock.now())
                    .returning(StoredUsageSettings.version)
                )
            self._apply(settings, version)
        log.info("usage settings set", extra={"usage_settings_version": version, **_logged(settings)})
        return settings

    async def refresh(self) -> bool:
        """Apply the row when its version is not the one applied here (writing it first on a fresh database)."""
        async with self._lock:
            async with self._db.sessions() as session:
                version = await session.scalar(_VERSION)
            if version is not None and version == self.version:
                return False
            async with self._db.transaction() as session:
                if version is None:
                    await self._create_row(session)
                row = await session.get(StoredUsageSettings, SETTINGS_ROW_ID)
                assert row is not None, "the settings' row was just written"
                settings, version = settings_of(row), row.version
            self._apply(settings, version)
        log.info(
            "usage settings applied from the store", extra={"usage_settings_version": version, **_logged(settings)}
        )
        return True

    async def _create_row(self, session: AsyncSession) -> None:
        await session.execute(
            insert_ignoring_conflicts(session, StoredUsageSettings.__table__),  # type: ignore[arg-type]
            {"id": SETTINGS_ROW_ID, **_columns(self._initial), "version": 1, "updated_at": self._clock.now()},
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh until ``stop``; a database away keeps the settings in hand and is tried again."""
        failing = False
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a while
                if not failing:
                    log.warning("reading the usage settings failed: %s; keeping the ones in hand", exc)
                failing = True
            else:
                if failing:
                    log.info("reading the usage settings again")
                failing = False
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._refresh_seconds)


def _logged(settings: UsageSettings) -> dict[str, object]:
    return {
        "records_per_second": settings.records_per_second,
        "voice_weight": settings.voice_weight,
        "sms_weight": settings.sms_weight,
        "data_weight": settings.data_weight,
        "roaming_share": settings.roaming_share,
        "international_share": settings.international_share,
        "msisdn_prefixes": len(settings.msisdn_prefixes),
    }
