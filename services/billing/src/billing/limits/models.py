"""Spending limits, what they have noticed, and what each line spent per period.

- ``spending_limits``: one row per limit. Its ``node_id`` decides who sees it
  (the line's node for a line, the group's node, the company's root node).
- ``limit_notices``: the limit reached in a period, once (the guard of its
  ``limit.reached`` event and its warnings).
- ``limit_emails``: a warning to email, queued with its notice and sent after
  it commits (:mod:`billing.limits.emails`).
- ``line_spend``: what each line was charged per period (usage, monthly
  fees, the data packages bought for it), moved in the transaction of the charge.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from simfleet_runtime.db import UtcDateTime

LINE = "line"
NODE = "node"
COMPANY = "company"
SCOPES = (LINE, NODE, COMPANY)
WARN = "warn"
BLOCK = "block"
ACTIONS = (WARN, BLOCK)
MONTH = "month"
PERIODS = (MONTH,)


class SpendingLimit(Base):
    __tablename__ = "spending_limits"
    __table_args__ = (Index(None, "customer_id", "node_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    # The node whose lines it counts (a group, the company's root) or, for a line, the line's node.
    node_id: Mapped[str] = mapped_column(String(26))
    line_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    msisdn: Mapped[str | None] = mapped_column(String(16), nullable=True)
    period: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    action: Mapped[str] = mapped_column(String(16))
    # For a warning: the phone numbers (E.164) and email addresses told.
    notify: Mapped[list[str]] = mapped_column(JSON)
    set_by: Mapped[str] = mapped_column(String(64))
    # A SHA-256 of the customer, the user and their idempotency key, with the request's fingerprint.
    request_key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LimitNotice(Base):
    """A limit reached in a period: its event and warnings went out once."""

    __tablename__ = "limit_notices"

    limit_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    spent: Mapped[int] = mapped_column(BigInteger)
    reached_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LimitEmail(Base):
    """A limit's warning to email to one address; ``sent_at`` once the mail server took it."""

    __tablename__ = "limit_emails"
    __table_args__ = (Index(None, "sent_at", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    limit_id: Mapped[str] = mapped_column(String(26))
    period: Mapped[str] = mapped_column(String(7))
    email: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(200))


class LineSpend(Base):
    """What a line was charged in a period (``YYYY-MM``, UTC), in its account's currency."""

    __tablename__ = "line_spend"

    line_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)


LIMITS = cast(Table, SpendingLimit.__table__)
NOTICES = cast(Table, LimitNotice.__table__)
SPEND = cast(Table, LineSpend.__table__)
EMAILS = cast(Table, LimitEmail.__table__)
