"""A line: a number and a SIM under a node, and everything the network knows of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from inventory.db import Base
from simfleet_runtime.db import UtcDateTime

READY = "ready"
ACTIVE = "active"
BLOCKED = "blocked"
TERMINATED = "terminated"
LINE_STATES = (READY, ACTIVE, BLOCKED, TERMINATED)

VOLUNTARY = "voluntary"
LOST_OR_STOLEN = "lost_or_stolen"
FINANCIAL = "financial"
SCHEDULED = "scheduled"
BLOCK_TYPES = (VOLUNTARY, LOST_OR_STOLEN, FINANCIAL, SCHEDULED)
PROTECTED_BLOCK_TYPES = (LOST_OR_STOLEN, FINANCIAL)
"""Blocks that only those holding ``lines:lift-protected-blocks`` may lift."""

BASIC_SERVICES = ("voice", "sms", "data")
"""What a new SIM card's line may use until its services are changed: calls, SMS and data at home."""

FORWARDING_CONDITIONS = ("unconditional", "busy", "no_answer", "unreachable")


class LineView(Protocol):
    """A line as read: the stored object, or its columns as a row (a page of lines is read as rows)."""

    id: str
    customer_id: str
    msisdn: str
    iccid: str
    imsi: str
    node_id: str
    personal_account_id: str
    tariff_code: str
    state: str
    blocks: list[dict[str, Any]]
    services: list[str]
    apns: list[dict[str, Any]]
    forwarding: dict[str, str]
    labels: list[str]
    group_name: str | None
    pending_operation_id: str | None
    created_at: datetime
    updated_at: datetime
    group_id: str | None


class Line(Base):
    __tablename__ = "lines"
    __table_args__ = (
        Index(None, "customer_id", "msisdn"),
        Index(None, "customer_id", "state", "msisdn"),
        Index(None, "node_id", "msisdn"),
        Index(None, "customer_id", "iccid"),
        Index(None, "group_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    msisdn: Mapped[str] = mapped_column(String(16), unique=True)
    iccid: Mapped[str] = mapped_column(String(20), unique=True)
    imsi: Mapped[str] = mapped_column(String(15), unique=True)
    node_id: Mapped[str] = mapped_column(String(26))
    personal_account_id: Mapped[str] = mapped_column(String(26))
    tariff_code: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    # [{"type": "voluntary", "since": "2026-..."}]
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    services: Mapped[list[str]] = mapped_column(JSON)
    # [{"name", "pdp_type", "static_ip", "added_at"}]
    apns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # condition → E.164 target
    forwarding: Mapped[dict[str, str]] = mapped_column(JSON)
    labels: Mapped[list[str]] = mapped_column(JSON)
    group_name: Mapped[str | None] = mapped_column(String(100))
    pending_operation_id: Mapped[str | None] = mapped_column(String(26))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The group (line_groups.id) the line is in; group_name is a copy of the group's name.
    group_id: Mapped[str | None] = mapped_column(String(26))


class LineLabel(Base):
    """The labels of lines, one row each, so that a filter by label is an index look-up."""

    __tablename__ = "line_labels"
    __table_args__ = (Index(None, "label", "line_id"),)

    line_id: Mapped[str] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)
