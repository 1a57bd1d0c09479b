from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accounts.db import Base
from simfleet_runtime.db import UtcDateTime
from simfleet_runtime.nodepaths import path_ids

COMPANY = "company"
GENERAL_ACCOUNT = "general_account"
BUSINESS_ACCOUNT = "business_account"
PERSONAL_ACCOUNT = "personal_account"
DEPARTMENT = "department"
BRANCH = "branch"
CITY = "city"

BILLING_KINDS = (COMPANY, GENERAL_ACCOUNT, BUSINESS_ACCOUNT, PERSONAL_ACCOUNT)
"""The operator's part of the tree: created at onboarding and by the back-office only."""
CUSTOMER_KINDS = (DEPARTMENT, BRANCH, CITY)
"""The part the customer draws, renames, moves and deletes."""
ACCOUNT_KINDS = (GENERAL_ACCOUNT, BUSINESS_ACCOUNT, PERSONAL_ACCOUNT)


class Node(Base):
    """A node of a customer's tree; ``path`` is the ids from the root down to it, ``/a/b/c/``."""

    __tablename__ = "nodes"
    __table_args__ = (
        # Sibling names are unique whatever their case ("Sales" and "sales" would confuse everyone).
        Index("uq_nodes_parent_id_name_key", "customer_id", "parent_id", "name_key", unique=True),
        # Subtrees are path prefixes (LIKE 'prefix%'): PostgreSQL uses a btree for that only with pattern ops.
        Index("ix_nodes_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(26), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("nodes.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(1024))
    depth: Mapped[int] = mapped_column(Integer)
    account_number: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def ids(self) -> tuple[str, ...]:
        return path_ids(self.path)


class NodeFigure(Base):
    """A figure another service keeps for a node (lines by state, balances): the place AC-2's summaries read."""

    __tablename__ = "node_figures"

    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
