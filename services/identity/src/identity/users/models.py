from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from identity.db import Base
from simfleet_runtime.db import UtcDateTime

ACTIVE = "active"
DISABLED = "disabled"
OPERATOR_CUSTOMER = ""
"""Operator staff belong to no customer."""


class User(Base):
    """A person's membership of one customer (or of the operator's staff).

    A phone number may be a user of several customers (a manager of two
    companies): one row per customer, each with its own grants, password and
    email, and a sign-in enters one of them (``UserService.member``).
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("customer_id", "phone"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    operator_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """Set for operator staff (back-office users), who belong to no customer."""
    request_id: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    """The creating caller's idempotency key, when it gave one."""
    request_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """What the key was used for (simfleet_runtime.idempotency): a reuse for another user is refused."""
    grants_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped whenever what the user's grants mean changes; tokens carry it (claim ``gv``)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


class SignInUser(Protocol):
    """What a sign-in needs of the user it enters: a stored :class:`User` or a :class:`Member` read directly."""

    @property
    def id(self) -> str: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def password_hash(self) -> str | None: ...
    @property
    def operator_role(self) -> str | None: ...
    @property
    def grants_version(self) -> int: ...
    @property
    def active(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Member:
    """A user's columns as a sign-in reads them: one Core statement, no unit of work (the hot path)."""

    id: str
    customer_id: str
    phone: str
    email: str
    display_name: str
    status: str
    password_hash: str | None
    operator_role: str | None
    grants_version: int

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


USERS: sa.Table = User.__table__  # type: ignore[assignment]
MEMBER_COLUMNS = tuple(USERS.c[name] for name in Member.__slots__)
"""The columns of a :class:`Member`, in its fields' order (``Member(*row)``)."""
