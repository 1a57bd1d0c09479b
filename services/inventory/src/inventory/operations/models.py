"""Operations and their items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inventory.db import Base
from simfleet_runtime.db import UtcDateTime

# Operation states.
SCHEDULED = "scheduled"
RUNNING = "running"
COMPLETED = "completed"
COMPLETED_WITH_ERRORS = "completed_with_errors"
FAILED = "failed"
CANCELLED = "cancelled"
OPERATION_STATES = (SCHEDULED, RUNNING, COMPLETED, COMPLETED_WITH_ERRORS, FAILED, CANCELLED)
FINAL_STATES = frozenset({COMPLETED, COMPLETED_WITH_ERRORS, FAILED, CANCELLED})

# Item states.
PENDING = "pending"
IN_PROGRESS = "in_progress"
SUCCEEDED = "succeeded"
ITEM_FAILED = "failed"
SKIPPED = "skipped"
ITEM_STATES = (PENDING, IN_PROGRESS, SUCCEEDED, ITEM_FAILED, SKIPPED)

IDEMPOTENCY_KEY_MAX = 200


class Operation(Base):
    __tablename__ = "operations"
    __table_args__ = (
        UniqueConstraint("customer_id", "requested_by", "idempotency_key"),
        Index(None, "state", "scheduled_at"),
        Index(None, "customer_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    # {"node_id", "states", "tariff_code", "label", "group"} when the lines were chosen by a filter.
    selection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(26))
    # The node it hangs under: what decides who sees it.
    node_id: Mapped[str] = mapped_column(String(26))
    # The nodes whose subtrees the requester could change with this operation's permission.
    scope_roots: Mapped[list[str]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    # What the key was used for (simfleet_runtime.idempotency): a reuse for another request is refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    in_progress: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Item(Base):
    """One line of an operation."""

    __tablename__ = "operation_items"
    __table_args__ = (
        UniqueConstraint("operation_id", "position"),
        Index(None, "operation_id", "state", "position"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    msisdn: Mapped[str] = mapped_column(String(16))
    line_id: Mapped[str | None] = mapped_column(String(26))
    state: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TargetChunk(Base):
    """Numbers a large operation was given, kept as accepted until it starts and makes them its items.

    Writing 200,000 item rows took seconds; the caller waited for them. An operation on more than
    ``INLINE_TARGETS`` numbers is accepted with its numbers in a few rows like this one, and the engine
    makes each chunk its items as the operation runs, a chunk per transaction, so that no transaction
    holds the database for all 200,000.
    """

    __tablename__ = "operation_target_chunks"

    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The position its first number's item takes.
    first_position: Mapped[int] = mapped_column(Integer)
    # In the order given, each number as [msisdn, {item params}], or as the msisdn alone when it has no
    # item params (what nearly every number of a bulk operation is: a string each, not a list and a dict).
    targets: Mapped[list[Any]] = mapped_column(JSON)
