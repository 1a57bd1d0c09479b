"""The lease that lets one process at a time run the continuous generator (the choice: :mod:`netsim.usage.models`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from netsim.usage.models import LEASE_ROW_ID, UsageLease
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.ids import new_id

_NEVER = datetime(2000, 1, 1, tzinfo=UTC)


class Lease:
    """This process's side of the ``usage_lease`` row: take or renew it, let it go, tell whether it is held."""

    def __init__(self, db: Database, clock: Clock, *, seconds: float, holder: str | None = None) -> None:
        self._db = db
        self._clock = clock
        self._seconds = seconds
        self.holder = holder or new_id()
        """This process's id in the row (a ULID: unique across restarts and replicas)."""
        self._held_until = 0.0  # time.monotonic(): held while before it
        self._created = False

    @property
    def seconds(self) -> float:
        return self._seconds

    @property
    def held(self) -> bool:
        """Whether this process holds the lease now (it may have lapsed without a renewal)."""
        return time.monotonic() < self._held_until

    async def acquire(self) -> bool:
        """Take the lease when it is free or expired, or renew it when this process holds it; True when held."""
        started = time.monotonic()
        now = self._clock.now()
        table = UsageLease.__table__
        async with self._db.transaction() as session:
            if not self._created:
                await session.execute(
                    insert_ignoring_conflicts(session, table),  # type: ignore[arg-type]
                    {"id": LEASE_ROW_ID, "holder": "", "expires_at": _NEVER},
                )
                self._created = True
            result = await session.execute(
                sa.update(UsageLease)
                .where(
                    UsageLease.id == LEASE_ROW_ID,
                    sa.or_(UsageLease.holder == self.holder, UsageLease.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + timedelta(seconds=self._seconds))
            )
            taken = bool(result.rowcount == 1)  # type: ignore[attr-defined]
        # Counted from before the statement: a slow write never makes this process believe it longer than the row.
        self._held_until = started + self._seconds if taken else 0.0
        return taken

    async def release(self) -> None:
        """Let the lease go (it expires now), if this process holds it."""
        self._held_until = 0.0
        async with self._db.transaction() as session:
            await session.execute(
                sa.update(UsageLease)
                .where(UsageLease.id == LEASE_ROW_ID, UsageLease.holder == self.holder)
                .values(expires_at=self._clock.now())
            )

    async def current_holder(self) -> str | None:
        """Who holds the lease now (None: nobody)."""
        async with self._db.sessions() as session:
            row = await session.get(UsageLease, LEASE_ROW_ID)
        if row is None or not row.holder or row.expires_at <= self._clock.now():
            return None
        return row.holder
