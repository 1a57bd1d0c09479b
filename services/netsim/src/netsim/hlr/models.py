"""The HLR's tables: its subscribers, the record of every provisioning item it answered, its faults in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from netsim.db import Base
from simfleet_runtime.db import UtcDateTime

ITEM_ID_MAX = 100
COMMAND_ID_MAX = 100
ITEM_IMSI_MAX = 32
FAULTS_ROW_ID = 1


class Subscriber(Base):
    """One subscription, keyed by the IMSI of the SIM it uses."""

    __tablename__ = "hlr_subscribers"

    imsi: Mapped[str] = mapped_column(String(15), primary_key=True)
    # E.164; none for a data-only subscription.
    msisdn: Mapped[str | None] = mapped_column(String(16), unique=True)
    iccid: Mapped[str] = mapped_column(String(20), unique=True)
    # The barrings in force (block types, or "not_activated"), in the order they were set.
    barrings: Mapped[list[str]] = mapped_column(JSON)
    apns: Mapped[list[str]] = mapped_column(JSON)
    # condition → E.164 target.
    forwarding: Mapped[dict[str, str]] = mapped_column(JSON)
    # The services it may use (SET_SERVICES, or REGISTER's); NULL: never given, the default voice, sms and data.
    services: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # Changes applied since registration: each applied item adds exactly one.
    version: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AppliedItem(Base):
    """The answer to one provisioning item: what makes a repeated ``item_id`` change nothing."""

    __tablename__ = "hlr_applied_items"
    __table_args__ = (Index(None, "command_id"),)

    item_id: Mapped[str] = mapped_column(String(ITEM_ID_MAX), primary_key=True)
    command_id: Mapped[str] = mapped_column(String(COMMAND_ID_MAX))
    # As the item gave it (it may not have been a valid IMSI).
    imsi: Mapped[str] = mapped_column(String(ITEM_IMSI_MAX))
    # The action's name, lower-case without its prefix ("bar").
    action: Mapped[str] = mapped_column(String(32))
    ok: Mapped[bool] = mapped_column(Boolean)
    # The failure's name, lower-case without its prefix ("number_in_use"); none when ok.
    failure: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StoredFaults(Base):
    """The HLR's fault injection in force for every replica: one row (id 1), see :mod:`netsim.hlr.faults`."""

    __tablename__ = "hlr_faults"
    __table_args__ = (CheckConstraint(f"id = {FAULTS_ROW_ID}", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    latency_ms: Mapped[int] = mapped_column(Integer)
    failure_rate: Mapped[float] = mapped_column(Float)
    outage: Mapped[bool] = mapped_column(Boolean)
    # E.164, validated and de-duplicated (validate_faults), in the order given.
    failing_msisdns: Mapped[list[str]] = mapped_column(JSON)
    # One more on every change: replicas compare it with the version they apply.
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
