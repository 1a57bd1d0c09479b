"""Tickets, their conversation and history, and the counters their registration numbers come from.

``ticket_counters`` holds one row per year: a number is taken by incrementing
that row in the transaction that files the ticket (an ``UPDATE ... RETURNING``,
which locks the row on PostgreSQL until the ticket commits), so numbers are
unique, sequential per year and leave no gap, whatever creators race.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from simfleet_runtime.db import UtcDateTime
from ticketing.db import Base


class TicketCounter(Base):
    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("number", name="uq_tickets_number"),
        UniqueConstraint("created_by", "idempotency_key", name="uq_tickets_created_by_idempotency_key"),
        Index(None, "customer_id", "created_at"),
        Index(None, "customer_id", "node_id"),
        Index(None, "state", "auto_close_at"),
        Index(None, "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    number: Mapped[str] = mapped_column(String(24))
    customer_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(26))
    type: Mapped[str] = mapped_column(String(24))
    topic: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    related_msisdns: Mapped[list[Any]] = mapped_column(JSON)
    operation_id: Mapped[str] = mapped_column(String(64))
    bill_id: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    contact_msisdn: Mapped[str] = mapped_column(String(20))
    assignee_id: Mapped[str] = mapped_column(String(64))
    # NULL: no key given (every such call files a ticket; NULLs never collide).
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    note_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    response_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolution_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Support's first answer.
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # When it was last resolved, or ended otherwise (cancelled, rejected); NULL while open.
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set while resolved: when the sweep closes it.
    auto_close_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class TicketNote(Base):
    __tablename__ = "ticket_notes"
    __table_args__ = (Index(None, "ticket_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(26), ForeignKey("tickets.id"))
    author_id: Mapped[str] = mapped_column(String(64))
    author_kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TicketHistory(Base):
    __tablename__ = "ticket_history"
    __table_args__ = (Index(None, "ticket_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(26), ForeignKey("tickets.id"))
    # "created", "state_changed", "assigned", "node_changed" (ticketing.tickets.nodes).
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    assignee_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


TICKETS = cast(Table, Ticket.__table__)
COUNTERS = cast(Table, TicketCounter.__table__)
