"""The ledger's tables: accounts with their running balances, journal entries and their postings.

Signs: a posting's amount is positive when it credits its account (the
balance rises) and negative when it debits it. An entry's postings sum to 0,
so the balances of all accounts in one currency always sum to 0 as well: a
customer's money (positive balance) is matched by the operator's accounts
(payments clearing, negative).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base
from simfleet_runtime.db import UtcDateTime

# What a ledger account is for.
PERSONAL = "personal"
REVENUE = "revenue"
PAYMENTS_CLEARING = "payments_clearing"
PROMISED_CREDIT = "promised_credit"
OPERATOR_KINDS = (REVENUE, PAYMENTS_CLEARING, PROMISED_CREDIT)
KINDS = (PERSONAL, *OPERATOR_KINDS)

# How a personal account settles (BI-13).
PREPAID = "prepaid"
POSTPAID = "postpaid"
CREDIT = "credit"
METHODS = (PREPAID, POSTPAID, CREDIT)

# A journal entry's state.
POSTED = "posted"
PENDING = "pending"
VOIDED = "voided"

PAYMENT_ENTRY = "payment"
"""The kind of entry that books money paid in: a card or automatic payment captured, or one the operator posts
(a bank transfer booked through the admin API's PostEntry)."""

SERIAL = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit key on PostgreSQL; SQLite numbers rows itself only through an INTEGER PRIMARY KEY."""


def floor_of(method: str | None, credit_limit: int) -> int | None:
    """The lowest balance a debit may leave: 0 prepaid, minus the credit limit otherwise; None: no floor."""
    if method is None:
        return None
    return 0 if method == PREPAID else -credit_limit


class AccountFigures(Protocol):
    balance: int
    debits_pending: int
    floor: int | None


def available_of(account: AccountFigures) -> int | None:
    """What a debit may take from an account (stored, or read as a row); None without a floor."""
    if account.floor is None:
        return None
    return account.balance - account.debits_pending - account.floor


class LedgerAccount(Base):
    """A ledger account and its running totals, changed only in the transaction of the postings that move them.

    ``balance`` is the sum of the posted postings; ``debits_pending`` and
    ``credits_pending`` what pending entries reserve. A debit (posted or
    pending) is taken only while ``balance - debits_pending`` stays at or
    above ``floor``; credits are always taken. ``postings_count`` numbers the
    account's postings (their ``sequence``).
    """

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        # One personal account per node; one operator account per kind and currency.
        UniqueConstraint("owner_key", name="uq_ledger_accounts_owner_key"),
        CheckConstraint("debits_pending >= 0", name="debits_pending_not_negative"),
        CheckConstraint("credits_pending >= 0", name="credits_pending_not_negative"),
        CheckConstraint("credit_limit >= 0", name="credit_limit_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    owner_key: Mapped[str] = mapped_column(String(64))
    """``personal:<node id>`` or ``<kind>:<currency>`` for the operator's accounts."""
    kind: Mapped[str] = mapped_column(String(24))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    personal_account_id: Mapped[str] = mapped_column(String(26))
    currency: Mapped[str] = mapped_column(String(3))
    settlement_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    credit_limit: Mapped[int] = mapped_column(BigInteger)
    floor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    debits_pending: Mapped[int] = mapped_column(BigInteger)
    credits_pending: Mapped[int] = mapped_column(BigInteger)
    postings_count: Mapped[int] = mapped_column(BigInteger)
    bill_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def available(self) -> int | None:
        """What a debit may take now; None for an account without a floor."""
        return available_of(self)


class JournalEntry(Base):
    """A journal entry, recorded once under its caller's id and never changed.

    Only a pending entry's ``state`` moves, once: to ``posted`` or ``voided``
    (``resolved_at``). Its legs are its postings.
    """

    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_state_expires_at", "state", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(8))
    two_phase: Mapped[bool] = mapped_column(Boolean)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Posting(Base):
    """One leg of an entry on one account.

    A leg of a pending entry has no ``sequence`` until the entry is posted (a
    voided entry's legs never get one): the account's postings are the legs
    with a sequence, and ``balance_after`` is the account's balance right after
    the leg moved it.
    """

    __tablename__ = "postings"
    __table_args__ = (
        UniqueConstraint("account_id", "sequence", name="uq_postings_account_id_sequence"),
        UniqueConstraint("entry_id", "account_id", name="uq_postings_entry_id_account_id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # Statements sum an account's postings by when they were posted (billing/statements).
        Index("ix_postings_account_id_posted_at", "account_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    sequence: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    balance_after: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


ACCOUNTS = cast(Table, LedgerAccount.__table__)
ENTRIES = cast(Table, JournalEntry.__table__)
POSTINGS = cast(Table, Posting.__table__)
