"""Bought data packages (BI-7, BI-8): the purchases, the packages they made, and the receipts to send.

A purchase is written once, with its packages and the journal entries that
charged it, in one transaction; only a package's ``used`` changes later (rating
consumes it). A line package names its line; a group package names the node
whose lines (its sub-nodes' included) share it.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from simfleet_runtime.db import UtcDateTime


class PackagePurchase(Base):
    __tablename__ = "package_purchases"
    __table_args__ = (Index(None, "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    offer_code: Mapped[str] = mapped_column(String(32))
    offer_name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(8))
    # The group's node for a group package; "" for line packages.
    node_id: Mapped[str] = mapped_column(String(26))
    # The node whose subtree holds all it was bought for (the lines' nearest common node, or the group's):
    # who sees it may read the purchase.
    scope_node_id: Mapped[str] = mapped_column(String(26))
    # Who paid a group package; "" for line packages (each line's own account paid).
    personal_account_id: Mapped[str] = mapped_column(String(26))
    bytes: Mapped[int] = mapped_column(BigInteger)
    validity_days: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    buyer_id: Mapped[str] = mapped_column(String(64))
    receipt_email: Mapped[str] = mapped_column(String(254))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The journal entries that charged it (one per 63 personal accounts).
    entry_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DataPackage(Base):
    __tablename__ = "data_packages"
    __table_args__ = (
        Index(None, "line_id", "expires_at"),
        Index(None, "node_id", "expires_at"),
        Index(None, "purchase_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    purchase_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64))
    offer_code: Mapped[str] = mapped_column(String(32))
    # A line package: its line and number ("" for a group package).
    line_id: Mapped[str] = mapped_column(String(26))
    msisdn: Mapped[str] = mapped_column(String(16))
    # A group package: its node ("" for a line package).
    node_id: Mapped[str] = mapped_column(String(26))
    bytes: Mapped[int] = mapped_column(BigInteger)
    used: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PackageReceipt(Base):
    """A receipt to email after its purchase committed; ``sent_at`` once the mail server took it."""

    __tablename__ = "package_receipts"
    __table_args__ = (Index(None, "sent_at", "next_attempt_at"),)

    purchase_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(200))


PURCHASES = cast(Table, PackagePurchase.__table__)
PACKAGES = cast(Table, DataPackage.__table__)
RECEIPTS = cast(Table, PackageReceipt.__table__)
