"""The ledger's use cases: opening accounts, recording entries, posting and voiding pending ones.

How the floor holds under concurrency: every leg moves its account with one
conditional ``UPDATE`` (``... WHERE id = :id AND balance - debits_pending +
:delta >= floor``) that answers the new totals (``RETURNING``), or no row when
the debit would go below the floor; then the whole entry is refused and rolled
back. On PostgreSQL the ``UPDATE`` locks the row and, when another transaction
changed it first, re-checks its condition against the committed row (READ
COMMITTED), so two entries racing on one account never both pass; an entry's
accounts are updated in the order of their ids, so two entries never wait on
each other. SQLite has one writer (``BEGIN IMMEDIATE`` on the service's only
connection), so the same statements run one transaction after another.

Exactly once: an entry is written under the id its caller chose (the cause's
id). The insert claims the id (``ON CONFLICT DO NOTHING``); when it was taken,
the stored entry answers if its fingerprint (a SHA-256 of the validated
content) is the request's, and the request is refused with
``IDEMPOTENCY_KEY_REUSED`` otherwise. A refused entry (insufficient funds)
leaves nothing behind, so its cause may try again.

Payments told: an entry of kind ``payment`` posted through the admin API (at
once, or a pending one when posted) publishes ``payment.received`` for each
personal account it credits, through the outbox in the entry's transaction, as
card and automatic payments do (:mod:`billing.payments`), so notifications tells
the users who chose it. Those go through :meth:`LedgerService.post_charges`,
which tells nothing: their service does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics, money
from billing.db import NODE_PATHS
from billing.ledger.models import (
    ACCOUNTS,
    ENTRIES,
    KINDS,
    METHODS,
    OPERATOR_KINDS,
    PAYMENT_ENTRY,
    PENDING,
    PERSONAL,
    POSTED,
    POSTINGS,
    PREPAID,
    REVENUE,
    VOIDED,
    JournalEntry,
    LedgerAccount,
    Posting,
    floor_of,
)
from billing.settlement.models import SettlementChange
from simfleet.events.v1 import billing_pb2 as ev
from simfleet_runtime import paging
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from simfleet_runtime.idempotency import check_same_request, fingerprint
from simfleet_runtime.ids import new_id
from simfleet_runtime.nodepaths import PERSONAL_ACCOUNT
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.validation import check_text, normalize_email
from simfleet_subjects import BillingSubjects

DEBIT = "debit"
CREDIT = "credit"
MIN_LEGS = 2
MAX_LEGS = 64
DEFAULT_PENDING_TIMEOUT = timedelta(days=1)
MAX_PENDING_TIMEOUT = timedelta(days=30)
SWEEP_BATCH = 500

_ENTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,63}$")
_KIND = re.compile(r"^[a-z][a-z_]{0,31}$")
POSTINGS_LIST = "billing.postings"
POSTINGS_ORDERS = ("sequence",)


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg as a caller gives it: a side and an amount more than 0."""

    account_id: str
    side: str
    amount: int

    @property
    def delta(self) -> int:
        """The change of the account's balance: positive for a credit, negative for a debit."""
        return self.amount if self.side == CREDIT else -self.amount


@dataclass(frozen=True, slots=True)
class NewEntry:
    id: str
    kind: str
    currency: str
    legs: tuple[Leg, ...]
    description: str = ""
    pending: bool = False
    pending_timeout_seconds: int = 0


@dataclass(frozen=True, slots=True)
class Recorded:
    """An entry and its legs (in the order of their accounts' ids); ``replayed`` when it was there already."""

    entry: JournalEntry
    postings: list[Posting]
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class NewAccount:
    kind: str
    currency: str
    customer_id: str = ""
    personal_account_id: str = ""
    settlement_method: str = ""
    credit_limit: int = 0
    bill_email: str = ""


@dataclass(frozen=True, slots=True)
class PostingLine:
    """A posted movement as an account's statement shows it."""

    posting: Posting
    kind: str
    description: str
    currency: str


def validate_entry(entry: NewEntry) -> NewEntry:
    """The entry when its content is acceptable on its own; every problem named by its field otherwise."""
    problems: dict[str, str] = {}
    reason = "INVALID_ENTRY"
    if not _ENTRY_ID.match(entry.id or ""):
        problems["entry_id"] = "1 to 64 letters, digits and .:_- (starting with a letter or digit)"
    if not _KIND.match(entry.kind or ""):
        problems["kind"] = "a lower-case word (letters and _), at most 32 characters"
    description = entry.description
    if len(description) > 200:
        problems["description"] = "at most 200 characters"
    else:
        try:
            description = check_text(description, field="description")
        except InvalidArgument as refused:
            problems.update(refused.field_violations)
    if entry.currency not in money.EXPONENTS:
        problems["currency"] = "an ISO 4217 currency code, such as RUB"
        reason = "UNKNOWN_CURRENCY"
    if not MIN_LEGS <= len(entry.legs) <= MAX_LEGS:
        problems["legs"] = f"{MIN_LEGS} to {MAX_LEGS} legs"
    seen: set[str] = set()
    debits = credits = 0
    for i, leg in enumerate(entry.legs):
        if not leg.account_id:
            problems[f"legs[{i}].account_id"] = "required"
        elif leg.account_id in seen:
            problems[f"legs[{i}].account_id"] = "an account appears once in an entry"
        seen.add(leg.account_id)
        if leg.side not in (DEBIT, CREDIT):
            problems[f"legs[{i}].side"] = "debit or credit"
        try:
            money.amount(leg.amount, field=f"legs[{i}].amount")
        except InvalidArgument as refused:
            problems.update(refused.field_violations)
            reason = refused.reason
            continue
        if leg.side == DEBIT:
            debits += leg.amount
        elif leg.side == CREDIT:
            credits += leg.amount
    if not problems and debits != credits:
        problems["legs"] = f"debits ({debits}) and credits ({credits}) must sum to the same amount"
        reason = "UNBALANCED_ENTRY"
    if entry.pending_timeout_seconds < 0 or (entry.pending_timeout_seconds > MAX_PENDING_TIMEOUT.total_seconds()):
        problems["pending_timeout_seconds"] = f"0 to {int(MAX_PENDING_TIMEOUT.total_seconds())}"
    elif entry.pending_timeout_seconds and not entry.pending:
        problems["pending_timeout_seconds"] = "only a pending entry has a timeout"
    if problems:
        raise InvalidArgument("the entry is not valid", reason=reason, field_violations=problems)
    return NewEntry(
        id=entry.id,
        kind=entry.kind,
        currency=entry.currency,
        legs=entry.legs,
        description=description,
        pending=entry.pending,
        pending_timeout_seconds=entry.pending_timeout_seconds,
    )


def _entry_fingerprint(entry: NewEntry) -> str:
    return fingerprint(
        "PostEntry",
        {
            "kind": entry.kind,
            "description": entry.description,
            "currency": entry.currency,
            "legs": [[leg.account_id, leg.side, leg.amount] for leg in entry.legs],
            "pending": entry.pending,
            "timeout": entry.pending_timeout_seconds,
        },
    )


def _below_floor(account_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        "the entry would take an account below its floor (the lowest balance its settlement allows)",
        reason="INSUFFICIENT_FUNDS",
        metadata={"account_id": account_id},
    )


A = ACCOUNTS.c

_MOVE_BY_DELTA = (
    sa.update(ACCOUNTS)
    .where(A.id == sa.bindparam("b_id"))
    .values(balance=A.balance + sa.bindparam("b_delta"), postings_count=A.postings_count + 1)
)
"""A posting's move of its account, with no floor (charges for usage that has happened)."""
_PERSONAL = sa.select(ACCOUNTS).where(
    A.owner_key == sa.bindparam("owner_key"), A.customer_id == sa.bindparam("customer_id")
)
P = POSTINGS.c
E = ENTRIES.c


BOOKED_PAYMENT = "booked"
"""``PaymentReceived.kind`` of a payment the operator posted (card and automatic payments are billing.payments')."""


class LedgerService:
    def __init__(self, *, db: Database, clock: Clock, outbox: Outbox) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox

    # ------------------------------------------------------------- accounts
    async def open_account(self, spec: NewAccount, *, session: AsyncSession | None = None) -> LedgerAccount:
        """Open a ledger account; the same owner again answers its account (ACCOUNT_EXISTS if it differs).

        ``session``: in that transaction (a consumer opening the account of a personal account it just heard of).
        """
        if session is not None:
            return await self._open(session, await self._validate_account(spec, session=session))
        async with self._db.transaction() as own:
            return await self._open(own, await self._validate_account(spec, session=own))

    async def _open(self, session: AsyncSession, spec: NewAccount) -> LedgerAccount:
        now = self._clock.now()
        owner = f"personal:{spec.personal_account_id}" if spec.kind == PERSONAL else f"{spec.kind}:{spec.currency}"
        method = spec.settlement_method if spec.kind == PERSONAL else None
        values: dict[str, Any] = {
            "id": new_id(),
            "owner_key": owner,
            "kind": spec.kind,
            "customer_id": spec.customer_id,
            "personal_account_id": spec.personal_account_id,
            "currency": spec.currency,
            "settlement_method": method,
            "credit_limit": spec.credit_limit,
            "floor": floor_of(method, spec.credit_limit),
            "balance": 0,
            "debits_pending": 0,
            "credits_pending": 0,
            "postings_count": 0,
            "bill_email": spec.bill_email,
            "created_at": now,
            "updated_at": now,
        }
        claimed = await session.execute(insert_ignoring_conflicts(session, ACCOUNTS), values)
        # The history starts with the method it opened with.
        if claimed.rowcount and method is not None:  # type: ignore[attr-defined]
            session.add(
                SettlementChange(
                    id=new_id(),
                    account_id=values["id"],
                    method=method,
                    credit_limit=spec.credit_limit,
                    effective_at=now,
                    requested_at=now,
                    requested_by="operator",
                    note="opened",
                    applied_at=now,
                )
            )
        account = await session.scalar(sa.select(LedgerAccount).where(LedgerAccount.owner_key == owner))
        assert account is not None
        if (account.kind, account.customer_id, account.personal_account_id, account.currency) != (
            spec.kind,
            spec.customer_id,
            spec.personal_account_id,
            spec.currency,
        ):
            raise AlreadyExists(
                "this personal account has a ledger account already, in another currency",
                reason="ACCOUNT_EXISTS",
                metadata={"account_id": account.id},
            )
        return account

    async def _validate_account(self, spec: NewAccount, *, session: AsyncSession) -> NewAccount:
        problems: dict[str, str] = {}
        if spec.kind not in KINDS:
            problems["kind"] = "personal, revenue, payments_clearing or promised_credit"
        if spec.currency not in money.EXPONENTS:
            raise InvalidArgument(
                "the currency is not one the ledger keeps",
                reason="UNKNOWN_CURRENCY",
                field_violations={"currency": "an ISO 4217 currency code, such as RUB"},
            )
        method = spec.settlement_method
        email = spec.bill_email
        if spec.kind == PERSONAL:
            if not spec.customer_id:
                problems["customer_id"] = "required for a personal account"
            if not spec.personal_account_id:
                problems["personal_account_id"] = "required for a personal account"
            method = method or PREPAID
            if method not in METHODS:
                problems["settlement_method"] = "prepaid, postpaid or credit"
            elif method == PREPAID and spec.credit_limit:
                problems["credit_limit"] = "a prepaid account has no credit limit"
            if email:
                try:
                    email = normalize_email(email, field="bill_email")
                except InvalidArgument as refused:
                    problems.update(refused.field_violations)
        elif spec.kind in OPERATOR_KINDS:
            for name, value in (
                ("customer_id", spec.customer_id),
                ("personal_account_id", spec.personal_account_id),
                ("settlement_method", spec.settlement_method),
                ("bill_email", spec.bill_email),
            ):
                if value:
                    problems[name] = "the operator's accounts have none"
            if spec.credit_limit:
                problems["credit_limit"] = "the operator's accounts have none"
        try:
            money.limit(spec.credit_limit, field="credit_limit")
        except InvalidArgument as refused:
            problems.update(refused.field_violations)
        if problems:
            raise InvalidArgument("the account is not valid", reason="INVALID_ACCOUNT", field_violations=problems)
        if spec.kind == PERSONAL:
            await self._require_personal_account(session, spec.customer_id, spec.personal_account_id)
        return NewAccount(
            kind=spec.kind,
            currency=spec.currency,
            customer_id=spec.customer_id,
            personal_account_id=spec.personal_account_id,
            settlement_method=method,
            credit_limit=spec.credit_limit,
            bill_email=email,
        )

    async def _require_personal_account(self, session: AsyncSession, customer_id: str, node_id: str) -> None:
        """The node must be the customer's personal account in billing's copy of the tree."""
        t = NODE_PATHS
        row = (
            await session.execute(sa.select(t.c.kind).where(t.c.customer_id == customer_id, t.c.node_id == node_id))
        ).first()
        if row is None:
            raise NotFound(
                "the customer has no such personal account (or billing has not heard of it yet)",
                reason="PERSONAL_ACCOUNT_NOT_FOUND",
            )
        if row.kind is not None and row.kind != PERSONAL_ACCOUNT:
            raise InvalidArgument(
                "the node is not a personal account",
                reason="NOT_A_PERSONAL_ACCOUNT",
                field_violations={"personal_account_id": "the id of a personal account"},
            )

    async def account(self, account_id: str, *, session: AsyncSession | None = None) -> LedgerAccount:
        if session is not None:
            found = await session.get(LedgerAccount, account_id, populate_existing=True) if account_id else None
        else:
            async with self._db.sessions() as own:
                found = await own.get(LedgerAccount, account_id) if account_id else None
        if found is None:
            raise NotFound("the account does not exist", reason="ACCOUNT_NOT_FOUND")
        return found

    async def personal_account_row(self, customer_id: str, node_id: str) -> Any:
        """The same as :meth:`personal_account`, read on the driver as a row (never behind the service's writes)."""
        found = await self._db.direct.first(_PERSONAL, {"owner_key": f"personal:{node_id}", "customer_id": customer_id})
        if found is None:
            raise NotFound("the personal account does not exist", reason="PERSONAL_ACCOUNT_NOT_FOUND")
        return found

    async def personal_account(self, customer_id: str, node_id: str) -> LedgerAccount:
        """The ledger account of a customer's personal account (NOT_FOUND when it has none)."""
        async with self._db.sessions() as session:
            found = await session.scalar(
                sa.select(LedgerAccount).where(
                    LedgerAccount.owner_key == f"personal:{node_id}", LedgerAccount.customer_id == customer_id
                )
            )
        if found is None:
            raise NotFound("the personal account does not exist", reason="PERSONAL_ACCOUNT_NOT_FOUND")
        return found

    async def customer_currency(self, customer_id: str) -> str | None:
        """The currency the customer's personal accounts hold (onboarding chose it for all of them; should some
        hold another, the one most hold); None while it has none."""
        if not customer_id:
            return None
        async with self._db.sessions() as session:
            found = await session.scalar(
                sa.select(A.currency)
                .where(A.customer_id == customer_id, A.kind == PERSONAL)
                .group_by(A.currency)
                .order_by(sa.func.count().desc(), A.currency)
                .limit(1)
            )
        return str(found) if found is not None else None

    # -------------------------------------------------------------- entries
    async def post(self, entry: NewEntry) -> Recorded:
        """Record an entry: posted now, or pending (its debits reserved) until posted or voided."""
        entry = validate_entry(entry)
        digest = _entry_fingerprint(entry)
        now = self._clock.now()
        try:
            async with self._db.transaction() as session:
                claimed = await session.execute(
                    insert_ignoring_conflicts(session, ENTRIES),
                    {
                        "id": entry.id,
                        "kind": entry.kind,
                        "description": entry.description,
                        "customer_id": "",
                        "currency": entry.currency,
                        "state": PENDING if entry.pending else POSTED,
                        "two_phase": entry.pending,
                        "fingerprint": digest,
                        "created_at": now,
                        "resolved_at": None,
                        "expires_at": (
                            now
                            + (
                                timedelta(seconds=entry.pending_timeout_seconds)
                                if entry.pending_timeout_seconds
                                else DEFAULT_PENDING_TIMEOUT
                            )
                            if entry.pending
                            else None
                        ),
                    },
                )
                if not claimed.rowcount:  # type: ignore[attr-defined]
                    existing = await session.get(JournalEntry, entry.id)
                    assert existing is not None
                    check_same_request(existing.fingerprint, digest, field="entry_id")
                    return Recorded(existing, await self._legs(session, entry.id), replayed=True)
                customer = await self._check_accounts(session, entry)
                if customer:
                    await session.execute(sa.update(ENTRIES).where(E.id == entry.id).values(customer_id=customer))
                postings = await self._apply(session, entry, now)
                if not entry.pending:
                    await self._tell_payments(session, entry.id, entry.kind, entry.currency, now)
                recorded = await session.get(JournalEntry, entry.id)
                assert recorded is not None
        except FailedPrecondition:
            metrics.ENTRIES.labels("refused").inc()
            raise
        metrics.ENTRIES.labels("pending" if entry.pending else "posted").inc()
        if not entry.pending:
            metrics.MONEY_MOVED.labels(entry.currency).inc(sum(leg.amount for leg in entry.legs if leg.side == DEBIT))
        return Recorded(recorded, postings)

    async def _check_accounts(self, session: AsyncSession, entry: NewEntry) -> str:
        """Every leg's account exists and holds the entry's currency; answers the entry's customer ("" if none)."""
        ids = [leg.account_id for leg in entry.legs]
        rows = await session.execute(sa.select(A.id, A.currency, A.customer_id).where(A.id.in_(ids)))
        found = {row.id: row for row in rows}
        problems: dict[str, str] = {}
        reason = "ACCOUNT_NOT_FOUND"
        customers: set[str] = set()
        for i, leg in enumerate(entry.legs):
            row = found.get(leg.account_id)
            if row is None:
                problems[f"legs[{i}].account_id"] = "no such account"
                continue
            if row.currency != entry.currency:
                problems[f"legs[{i}].account_id"] = f"the account holds {row.currency}, not {entry.currency}"
                reason = "CURRENCY_MISMATCH"
            if row.customer_id:
                customers.add(row.customer_id)
        if not problems and len(customers) > 1:
            problems["legs"] = "the accounts of an entry belong to one customer (and the operator)"
            reason = "CUSTOMERS_MIXED"
        if problems:
            raise InvalidArgument("the entry's accounts do not fit it", reason=reason, field_violations=problems)
        return customers.pop() if customers else ""

    async def _apply(self, session: AsyncSession, entry: NewEntry, now: datetime) -> list[Posting]:
        """Move (or reserve) every leg, in the order of the accounts' ids; refuse the whole entry at the floor."""
        await self._move(session, entry, now, enforce_floor=True)
        return await self._legs(session, entry.id)

    async def post_charges(self, session: AsyncSession, entry: NewEntry, *, customer_id: str) -> None:
        """Record a posted entry that cannot be refused, in the caller's transaction, without the floor check.

        For charges for what was already used (the network's usage has happened
        by the time it is rated, so a prepaid account goes negative and is then
        blocked financially) and for payments the provider has captured (the
        money is taken: its credit must land); every other entry is refused at
        the floor. The caller checked the accounts and gives a new
        id (a repeated one fails the transaction: the caller's records are its
        guard against charging twice).
        """
        entry = validate_entry(entry)
        now = self._clock.now()
        await session.execute(
            sa.insert(ENTRIES),
            {
                "id": entry.id,
                "kind": entry.kind,
                "description": entry.description,
                "customer_id": customer_id,
                "currency": entry.currency,
                "state": POSTED,
                "two_phase": False,
                "fingerprint": _entry_fingerprint(entry),
                "created_at": now,
                "resolved_at": None,
                "expires_at": None,
            },
        )
        await self._move_unchecked(session, entry, now)
        metrics.ENTRIES.labels("posted").inc()
        metrics.MONEY_MOVED.labels(entry.currency).inc(sum(leg.amount for leg in entry.legs if leg.side == DEBIT))

    async def post_in(self, session: AsyncSession, entry: NewEntry) -> None:
        """Record a posted entry in the caller's transaction, refused at the floor like :meth:`post`.

        For a purchase whose own rows must commit with its charge (data
        packages): ``FAILED_PRECONDITION`` ``INSUFFICIENT_FUNDS`` leaves the
        caller to roll everything back. The caller's records guard the id
        (a repeated one fails the transaction).
        """
        entry = validate_entry(entry)
        if entry.pending:
            raise InvalidArgument("a purchase is posted at once", reason="PENDING_NOT_ALLOWED")
        now = self._clock.now()
        await session.execute(
            sa.insert(ENTRIES),
            {
                "id": entry.id,
                "kind": entry.kind,
                "description": entry.description,
                "customer_id": "",
                "currency": entry.currency,
                "state": POSTED,
                "two_phase": False,
                "fingerprint": _entry_fingerprint(entry),
                "created_at": now,
                "resolved_at": None,
                "expires_at": None,
            },
        )
        customer = await self._check_accounts(session, entry)
        if customer:
            await session.execute(sa.update(ENTRIES).where(E.id == entry.id).values(customer_id=customer))
        try:
            await self._move(session, entry, now, enforce_floor=True)
        except FailedPrecondition:
            metrics.ENTRIES.labels("refused").inc()
            raise
        metrics.ENTRIES.labels("posted").inc()
        metrics.MONEY_MOVED.labels(entry.currency).inc(sum(leg.amount for leg in entry.legs if leg.side == DEBIT))

    async def _move(self, session: AsyncSession, entry: NewEntry, now: datetime, *, enforce_floor: bool) -> None:
        rows: list[dict[str, Any]] = []
        for leg in sorted(entry.legs, key=lambda leg: leg.account_id):
            delta = leg.delta
            spendable = A.balance - A.debits_pending
            floor_holds = sa.or_(A.floor.is_(None), spendable + delta >= A.floor)
            statement = sa.update(ACCOUNTS).where(A.id == leg.account_id)
            if entry.pending:
                if delta < 0:
                    statement = statement.where(floor_holds).values(debits_pending=A.debits_pending - delta)
                else:
                    statement = statement.values(credits_pending=A.credits_pending + delta)
                moved = await session.execute(statement.values(updated_at=now).returning(A.id))
                if moved.first() is None:
                    raise _below_floor(leg.account_id)
                rows.append({"entry_id": entry.id, "account_id": leg.account_id, "amount": delta})
                continue
            if delta < 0 and enforce_floor:
                statement = statement.where(floor_holds)
            moved = await session.execute(
                statement.values(
                    balance=A.balance + delta, postings_count=A.postings_count + 1, updated_at=now
                ).returning(A.balance, A.postings_count)
            )
            row = moved.first()
            if row is None:
                raise _below_floor(leg.account_id)
            rows.append(
                {
                    "entry_id": entry.id,
                    "account_id": leg.account_id,
                    "amount": delta,
                    "sequence": row.postings_count,
                    "balance_after": row.balance,
                    "posted_at": now,
                }
            )
        for row_values in rows:
            row_values.setdefault("sequence", None)
            row_values.setdefault("balance_after", None)
            row_values.setdefault("posted_at", None)
        await session.execute(sa.insert(POSTINGS), rows)

    async def operator_account_id(self, session: AsyncSession, kind: str, currency: str) -> str:
        """The operator's account of ``kind`` in ``currency`` (revenue, payments clearing), opened on first use."""
        found = await session.scalar(sa.select(A.id).where(A.owner_key == f"{kind}:{currency}"))
        if found is not None:
            return str(found)
        return (await self.open_account(NewAccount(kind=kind, currency=currency), session=session)).id

    async def charge_to_revenue(
        self,
        session: AsyncSession,
        charges: dict[tuple[str, str], dict[str, int]],
        *,
        kind: str,
        seed: str,
        description: str,
    ) -> dict[str, str]:
        """Debit personal accounts and credit revenue, in the caller's transaction (see :meth:`post_charges`).

        ``charges``: (customer, currency) → ledger account → amount. One entry per customer, currency and up
        to 63 accounts, its id ``<kind>:`` and a hash of ``seed`` (which must name what is charged, so an id
        is never reused), the customer, the currency and the chunk. Answers ledger account → its entry's id.
        """
        entry_of: dict[str, str] = {}
        for (customer_id, currency), amounts in sorted(charges.items()):
            revenue = await self.operator_account_id(session, REVENUE, currency)
            accounts = sorted(amounts)
            for chunk, start in enumerate(range(0, len(accounts), MAX_LEGS - 1)):
                part = accounts[start : start + MAX_LEGS - 1]
                digest = hashlib.sha256(f"{seed}\x1f{customer_id}\x1f{currency}\x1f{chunk}".encode()).hexdigest()
                entry_id = f"{kind}:{digest[:48]}"
                legs = [Leg(account_id, DEBIT, amounts[account_id]) for account_id in part]
                legs.append(Leg(revenue, CREDIT, sum(amounts[account_id] for account_id in part)))
                entry = NewEntry(id=entry_id, kind=kind, currency=currency, legs=tuple(legs), description=description)
                await self.post_charges(session, entry, customer_id=customer_id)
                entry_of.update(dict.fromkeys(part, entry_id))
        return entry_of

    async def _move_unchecked(self, session: AsyncSession, entry: NewEntry, now: datetime) -> None:
        """Post every leg without the floor check, in three statements whatever the number of legs.

        The accounts are locked first (in the order of their ids, as every
        writer takes them), so the balances and sequence numbers the postings
        record are exact; SQLite's transactions take the database's write lock
        when they begin.
        """
        legs = sorted(entry.legs, key=lambda leg: leg.account_id)
        query = sa.select(A.id, A.balance, A.postings_count).where(A.id.in_([leg.account_id for leg in legs]))
        if session.get_bind().dialect.name == "postgresql":
            query = query.order_by(A.id).with_for_update()
        current = {row.id: (row.balance, row.postings_count) for row in await session.execute(query)}
        missing = {
            f"legs[{i}].account_id": "no such account" for i, leg in enumerate(legs) if leg.account_id not in current
        }
        if missing:
            raise InvalidArgument(
                "the entry's accounts do not fit it", reason="ACCOUNT_NOT_FOUND", field_violations=missing
            )
        changes: list[dict[str, Any]] = []
        postings: list[dict[str, Any]] = []
        for leg in legs:
            balance, count = current[leg.account_id]
            balance, count = balance + leg.delta, count + 1
            current[leg.account_id] = (balance, count)
            changes.append({"b_id": leg.account_id, "b_delta": leg.delta})
            postings.append(
                {
                    "entry_id": entry.id,
                    "account_id": leg.account_id,
                    "amount": leg.delta,
                    "sequence": count,
                    "balance_after": balance,
                    "posted_at": now,
                }
            )
        await session.execute(_MOVE_BY_DELTA.values(updated_at=now), changes)
        await session.execute(sa.insert(POSTINGS), postings)

    async def _tell_payments(
        self, session: AsyncSession, entry_id: str, kind: str, currency: str, now: datetime
    ) -> None:
        """A posted entry of kind payment: ``payment.received`` for each personal account it credits."""
        if kind != PAYMENT_ENTRY:
            return
        credited = await session.execute(
            sa.select(A.customer_id, A.personal_account_id, P.amount, P.balance_after)
            .join(ACCOUNTS, A.id == P.account_id)
            .where(P.entry_id == entry_id, P.amount > 0, A.kind == PERSONAL)
            .order_by(A.id)
        )
        for row in credited:
            await self._outbox.add(
                session,
                BillingSubjects.PAYMENT_RECEIVED,
                ev.PaymentReceived(
                    customer_id=row.customer_id,
                    payment_id=entry_id,
                    personal_account_id=row.personal_account_id,
                    amount=row.amount,
                    currency=currency,
                    kind=BOOKED_PAYMENT,
                    balance=int(row.balance_after or 0),
                    occurred_at=timestamp(now),
                ),
                tenant=row.customer_id,
            )

    async def _legs(self, session: AsyncSession, entry_id: str) -> list[Posting]:
        found = await session.scalars(
            sa.select(Posting).where(Posting.entry_id == entry_id).order_by(Posting.account_id)
        )
        return list(found)

    async def entry(self, entry_id: str) -> Recorded:
        async with self._db.sessions() as session:
            found = await session.get(JournalEntry, entry_id) if entry_id else None
            if found is None:
                raise NotFound("the entry does not exist", reason="ENTRY_NOT_FOUND")
            return Recorded(found, await self._legs(session, entry_id))

    async def post_pending(self, entry_id: str) -> Recorded:
        """Post a pending entry: its reservations become movements. Posting it again answers it again."""
        return await self._resolve(entry_id, POSTED)

    async def void_pending(self, entry_id: str) -> Recorded:
        """Void a pending entry: its reservations are released. Voiding it again answers it again."""
        return await self._resolve(entry_id, VOIDED)

    async def _resolve(self, entry_id: str, target: str) -> Recorded:
        now = self._clock.now()
        expired = False
        async with self._db.transaction() as session:
            found = await session.get(JournalEntry, entry_id) if entry_id else None
            if found is None:
                raise NotFound("the entry does not exist", reason="ENTRY_NOT_FOUND")
            if not found.two_phase:
                raise FailedPrecondition(
                    "the entry was posted at once: it was never pending", reason="ENTRY_NOT_PENDING"
                )
            if found.state == PENDING and target == POSTED and found.expires_at is not None and found.expires_at <= now:
                target, expired = VOIDED, True
            # None: it was not pending (any more): answered below as it stands.
            state = await self._claim(session, found.id, target, now)
            if state == target:
                if expired:
                    metrics.ENTRIES.labels("expired").inc()
                else:
                    metrics.ENTRIES.labels("pending_posted" if target == POSTED else "voided").inc()
                    if target == POSTED:
                        legs = await self._legs(session, found.id)
                        metrics.MONEY_MOVED.labels(found.currency).inc(sum(-p.amount for p in legs if p.amount < 0))
                        await self._tell_payments(session, found.id, found.kind, found.currency, now)
            result = await session.get(JournalEntry, entry_id, populate_existing=True)
            assert result is not None
            recorded = Recorded(result, await self._legs(session, entry_id), replayed=state is None)
        if expired:
            raise FailedPrecondition(
                "the pending entry expired: it was voided", reason="ENTRY_EXPIRED", metadata={"entry_id": entry_id}
            )
        if recorded.entry.state != target:
            raise FailedPrecondition(
                f"the entry is {recorded.entry.state} already",
                reason="ENTRY_VOIDED" if recorded.entry.state == VOIDED else "ENTRY_POSTED",
                metadata={"entry_id": entry_id},
            )
        return recorded

    async def _claim(self, session: AsyncSession, entry_id: str, target: str, now: datetime) -> str | None:
        """Move a pending entry to ``target`` and its legs with it; None when it was not pending (any more)."""
        claimed = await session.execute(
            sa.update(ENTRIES).where(E.id == entry_id, E.state == PENDING).values(state=target, resolved_at=now)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return None
        legs = await session.execute(
            sa.select(P.id, P.account_id, P.amount).where(P.entry_id == entry_id).order_by(P.account_id)
        )
        for leg in list(legs):
            delta = leg.amount
            release = (
                {"debits_pending": A.debits_pending + delta}
                if delta < 0
                else {"credits_pending": A.credits_pending - delta}
            )
            statement = sa.update(ACCOUNTS).where(A.id == leg.account_id).values(updated_at=now, **release)
            if target == VOIDED:
                await session.execute(statement)
                continue
            # The reservation already holds the floor: the movement needs no check of its own.
            moved = await session.execute(
                statement.values(balance=A.balance + delta, postings_count=A.postings_count + 1).returning(
                    A.balance, A.postings_count
                )
            )
            row = moved.one()
            await session.execute(
                sa.update(POSTINGS)
                .where(P.id == leg.id)
                .values(sequence=row.postings_count, balance_after=row.balance, posted_at=now)
            )
        return target

    async def void_expired(self) -> int:
        """Void the pending entries whose time ran out (a batch); how many were voided."""
        now = self._clock.now()
        async with self._db.sessions() as session:
            ids = list(
                await session.scalars(
                    sa.select(JournalEntry.id)
                    .where(JournalEntry.state == PENDING, JournalEntry.expires_at <= now)
                    .order_by(JournalEntry.expires_at)
                    .limit(SWEEP_BATCH)
                )
            )
        voided = 0
        for entry_id in ids:
            async with self._db.transaction() as session:
                if await self._claim(session, entry_id, VOIDED, now) is not None:
                    voided += 1
                    metrics.ENTRIES.labels("expired").inc()
        return voided

    # ------------------------------------------------------------- reading
    async def postings(
        self, account: LedgerAccount, *, page_size: int, page_token: str, order_by: str
    ) -> tuple[list[PostingLine], str]:
        """The account's posted movements, a page at a time (newest first by default)."""
        size = paging.page_size(page_size)
        order = paging.parse_order(order_by, allowed=POSTINGS_ORDERS, default="-sequence")
        after = paging.decode_token(page_token, order, list_name=POSTINGS_LIST, size=2)
        lines = (
            sa.select(Posting, JournalEntry.kind, JournalEntry.description)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == account.id, Posting.sequence.is_not(None))
        )
        query = paging.keyset(
            cast("sa.Select[Any]", lines), [Posting.sequence, Posting.id], order=order, after=after, limit=size
        )
        async with self._db.sessions() as session:
            result = await session.execute(query)
            rows = [PostingLine(row[0], row[1], row[2], account.currency) for row in result]
        return paging.next_token(
            rows,
            order=order,
            limit=size,
            key=lambda line: [line.posting.sequence, line.posting.id],
            list_name=POSTINGS_LIST,
        )

    async def balances(self, account_ids: Sequence[str]) -> dict[str, int]:
        """The running balances of accounts (tests and figures)."""
        async with self._db.sessions() as session:
            rows = await session.execute(sa.select(A.id, A.balance).where(A.id.in_(list(account_ids))))
            return {row.id: row.balance for row in rows}
