"""The mediation's tables: the generator's settings in force, and the lease of the one replica generating.

Settings: one row (id 1) of ``usage_settings``, with a ``version`` raised by
every change, like the HLR's faults (:class:`~netsim.hlr.models.StoredFaults`):
``UsageService.SetUsageSettings`` and the console write it, every process reads
the version every ``usage_settings_refresh_seconds`` and applies the row when
its version changed (:mod:`netsim.usage.settings_store`).

Lease: the continuous generator runs in one replica at a time, or the rate
would be multiplied by the number of replicas. The choice is a lease row, one
row (id 1) of ``usage_lease``: ``holder`` (a process's random id) and
``expires_at``. A process generates only while it holds an unexpired lease; it
takes it with one conditional ``UPDATE ... WHERE holder = me OR expires_at <
now`` (atomic on both backends: PostgreSQL re-checks the condition after a
concurrent update's row lock, SQLite runs one writer), renews it every third
of its ``usage_lease_seconds`` and lets it go (expires it now) when the rate
drops to 0 or it stops. A process that dies holding it is replaced once the
lease expires. Times are the processes' clocks: their skew must stay well
under the lease's length (seconds). Leader election through NATS (a KV bucket)
would do as well; the row keeps everything netsim owns in its database, and
``GenerateUsage`` bursts need no lease (they run in the replica that took the
call).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from netsim.db import Base
from simfleet_runtime.db import UtcDateTime

SETTINGS_ROW_ID = 1
LEASE_ROW_ID = 1
HOLDER_MAX = 64


class StoredUsageSettings(Base):
    """The usage generator's settings in force for every replica: one row (id 1)."""

    __tablename__ = "usage_settings"
    __table_args__ = (CheckConstraint(f"id = {SETTINGS_ROW_ID}", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    records_per_second: Mapped[float] = mapped_column(Float)
    voice_weight: Mapped[float] = mapped_column(Float)
    sms_weight: Mapped[float] = mapped_column(Float)
    data_weight: Mapped[float] = mapped_column(Float)
    roaming_share: Mapped[float] = mapped_column(Float)
    international_share: Mapped[float] = mapped_column(Float)
    # E.164 prefixes ("+7999"), validated and de-duplicated; empty: every subscriber.
    msisdn_prefixes: Mapped[list[str]] = mapped_column(JSON)
    # One more on every change: replicas compare it with the version they apply.
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UsageLease(Base):
    """Which process runs the continuous generator, until when: one row (id 1)."""

    __tablename__ = "usage_lease"
    __table_args__ = (CheckConstraint(f"id = {LEASE_ROW_ID}", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The holding process's id ("" before anyone took it).
    holder: Mapped[str] = mapped_column(String(HOLDER_MAX))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
