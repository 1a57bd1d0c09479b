"""Promised payments (BI-9): a temporary credit on a personal account, taken back when it falls due.

Taking one (:meth:`PromisedPayments.take`) checks the limits, records the row
(``open``) and posts ``promised:<id>`` (debit the operator's promised credit
account, credit the personal account) in one transaction. Repaying
(:meth:`PromisedPayments.repay`, by the sweep at ``due_at`` or by the
customer earlier) moves the row from ``open`` to ``repaid`` by a conditional
``UPDATE`` and posts ``promised-repay:<id>`` back in the same transaction,
without the floor check (the money is owed, as a charge for usage is): two
sweeps racing repay once, the loser's update finds no open row. The account's
financial hold follows from its balance: the holds sweep lifts it when the
credit brings the account back to its floor and places it again when the
repayment takes it below.

Limits (settings): at most ``max_amount`` minor units each, at most one open
per account (``open_slot``'s unique constraint decides between racing takes),
at most ``per_30_days`` taken in any 30 days.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing import money
from billing.db import NODE_PATHS
from billing.ledger.models import ACCOUNTS, PERSONAL, PROMISED_CREDIT, LedgerAccount
from billing.ledger.service import CREDIT, DEBIT, LedgerService, Leg, NewEntry
from billing.lines.models import LINES
from billing.promised.models import CUSTOMER, DUE, OPEN, PROMISED, REPAID, PromisedPayment
from simfleet_runtime import paging
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from simfleet_runtime.idempotency import check_same_request, fingerprint
from simfleet_runtime.ids import new_id
from simfleet_runtime.nodepaths import PERSONAL_ACCOUNT

log = logging.getLogger(__name__)

WINDOW = timedelta(days=30)
SWEEP_BATCH = 500
PROMISED_LIST = "billing.promised_payments"
T = PROMISED.c
_LINE_BY_NUMBER = (
    sa.select(LINES.c.node_id, LINES.c.personal_account_id)
    .where(LINES.c.msisdn == sa.bindparam("msisdn"), LINES.c.customer_id == sa.bindparam("customer_id"))
    .order_by((LINES.c.state == "terminated").asc(), LINES.c.changed_at.desc())
    .limit(1)
)
A = ACCOUNTS.c


@dataclass(frozen=True, slots=True)
class Limits:
    max_amount: int = 300_000
    duration: timedelta = timedelta(days=7)
    per_30_days: int = 3


def promised_id(customer_id: str, user_id: str, key: str, personal_account_id: str = "") -> str:
    """A promised payment's id: the caller's idempotency key scoped to them (and the account, for a group)."""
    if not key:
        return f"pp:{new_id()}"
    digest = hashlib.sha256(f"{customer_id}\x1f{user_id}\x1f{key}\x1f{personal_account_id}".encode()).hexdigest()
    return f"pp:{digest[:40]}"  # "promised-repay:" and it fit an entry id (64)


def _open_already() -> FailedPrecondition:
    return FailedPrecondition(
        "the account has an open promised payment already: it is repaid first",
        reason="PROMISED_PAYMENT_OPEN",
    )


class PromisedPayments:
    def __init__(self, *, db: Database, clock: Clock, ledger: LedgerService, limits: Limits, interval: float) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._limits = limits
        self._interval = interval

    @property
    def limits(self) -> Limits:
        return self._limits

    def check_amount(self, amount: int, *, field: str = "amount") -> None:
        """Refuse an amount that is not one, or more than a promised payment may be (naming ``field``)."""
        money.amount(amount, field=field)
        if amount > self._limits.max_amount:
            raise InvalidArgument(
                f"a promised payment is at most {self._limits.max_amount} minor units",
                reason="AMOUNT_TOO_LARGE",
                field_violations={field: f"at most {self._limits.max_amount}"},
            )

    # ---------------------------------------------------------------- taking
    async def take(
        self, *, account: LedgerAccount | Any, user_id: str, amount: int, key: str, group_key: str = ""
    ) -> tuple[PromisedPayment, bool]:
        """Take a promised payment on ``account``; (it, whether it was there already). Refusals change nothing."""
        self.check_amount(amount)
        if account.kind != PERSONAL:
            raise FailedPrecondition(
                "only a personal account takes a promised payment", reason="NOT_A_PERSONAL_ACCOUNT"
            )
        pid = promised_id(account.customer_id, user_id, key, group_key)
        digest = fingerprint("TakePromisedPayment", {"account": account.personal_account_id, "amount": amount})
        now = self._clock.now()
        async with self._db.transaction() as session:
            existing = await session.get(PromisedPayment, pid)
            if existing is not None:
                check_same_request(existing.fingerprint, digest, field="idempotency_key")
                return existing, True
            if await session.scalar(sa.select(T.id).where(T.open_slot == account.id)) is not None:
                raise _open_already()
            taken = await session.scalar(
                sa.select(sa.func.count()).where(T.account_id == account.id, T.taken_at > now - WINDOW)
            )
            if (taken or 0) >= self._limits.per_30_days:
                raise FailedPrecondition(
                    f"at most {self._limits.per_30_days} promised payments in 30 days",
                    reason="PROMISED_PAYMENT_LIMIT",
                    metadata={"per_30_days": str(self._limits.per_30_days)},
                )
            claimed = await session.execute(
                insert_ignoring_conflicts(session, PROMISED),
                {
                    "id": pid,
                    "customer_id": account.customer_id,
                    "personal_account_id": account.personal_account_id,
                    "account_id": account.id,
                    "amount": amount,
                    "currency": account.currency,
                    "status": OPEN,
                    "open_slot": account.id,
                    "taken_by": user_id[:64],
                    "fingerprint": digest,
                    "entry_id": f"promised:{pid}",
                    "repay_entry_id": None,
                    "repaid_by": "",
                    "taken_at": now,
                    "due_at": now + self._limits.duration,
                    "repaid_at": None,
                },
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                # A racing call took the id (answered below, after this transaction) or the open slot.
                raced = True
            else:
                raced = False
                operator = await self._ledger.operator_account_id(session, PROMISED_CREDIT, account.currency)
                await self._ledger.post_charges(
                    session,
                    NewEntry(
                        id=f"promised:{pid}",
                        kind="promised",
                        currency=account.currency,
                        description="promised payment",
                        legs=(Leg(operator, DEBIT, amount), Leg(account.id, CREDIT, amount)),
                    ),
                    customer_id=account.customer_id,
                )
        async with self._db.sessions() as session:
            row = await session.get(PromisedPayment, pid)
        if row is None:
            raise _open_already()
        if raced:
            check_same_request(row.fingerprint, digest, field="idempotency_key")
        return row, raced

    async def personal_accounts_under(self, customer_id: str, node_id: str) -> list[LedgerAccount]:
        """The customer's personal accounts with a ledger account at or under ``node_id``."""
        n = NODE_PATHS.c
        async with self._db.sessions() as session:
            rows = await session.scalars(
                sa.select(LedgerAccount)
                .join(NODE_PATHS, sa.and_(n.node_id == LedgerAccount.personal_account_id, n.customer_id == customer_id))
                .where(
                    LedgerAccount.customer_id == customer_id,
                    LedgerAccount.kind == PERSONAL,
                    n.kind == PERSONAL_ACCOUNT,
                    n.path.contains(f"/{node_id}/", autoescape=True),
                )
                .order_by(LedgerAccount.personal_account_id)
            )
            return list(rows)

    async def line(self, customer_id: str, msisdn: str) -> Any | None:
        """The customer's line holding ``msisdn`` (else the last that did): its node and personal account."""
        return await self._db.direct.first(_LINE_BY_NUMBER, {"msisdn": msisdn, "customer_id": customer_id})

    # -------------------------------------------------------------- repaying
    async def repay(self, promised_payment_id: str, *, by: str = CUSTOMER) -> bool:
        """Take an open promised payment back, once; False when it was not open (any more)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            return await self._repay(session, promised_payment_id, by, now)

    async def _repay(self, session: AsyncSession, pid: str, by: str, now: Any) -> bool:
        claimed = await session.execute(
            sa.update(PROMISED)
            .where(T.id == pid, T.status == OPEN)
            .values(status=REPAID, open_slot=None, repaid_at=now, repaid_by=by, repay_entry_id=f"promised-repay:{pid}")
            .returning(T.customer_id, T.account_id, T.amount, T.currency)
        )
        row = claimed.first()
        if row is None:
            return False
        operator = await self._ledger.operator_account_id(session, PROMISED_CREDIT, row.currency)
        await self._ledger.post_charges(
            session,
            NewEntry(
                id=f"promised-repay:{pid}",
                kind="promised_repay",
                currency=row.currency,
                description="promised payment repaid",
                legs=(Leg(row.account_id, DEBIT, row.amount), Leg(operator, CREDIT, row.amount)),
            ),
            customer_id=row.customer_id,
        )
        return True

    async def repay_due(self) -> int:
        """Take back the open promised payments whose time came (a batch, oldest first); how many."""
        now = self._clock.now()
        async with self._db.sessions() as session:
            due = list(
                await session.scalars(
                    sa.select(T.id).where(T.status == OPEN, T.due_at <= now).order_by(T.due_at, T.id).limit(SWEEP_BATCH)
                )
            )
        repaid = 0
        for pid in due:
            async with self._db.transaction() as session:
                repaid += await self._repay(session, pid, DUE, now)
        return repaid

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.repay_due()
            except Exception:  # the next pass tries again
                log.exception("the promised payments' sweep failed; it runs again")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue

    # --------------------------------------------------------------- reading
    async def get(self, account_id: str, pid: str) -> PromisedPayment:
        async with self._db.sessions() as session:
            found = await session.get(PromisedPayment, pid) if pid else None
        if found is None or found.account_id != account_id:
            raise NotFound("the promised payment does not exist", reason="PROMISED_PAYMENT_NOT_FOUND")
        return found

    async def list(self, account_id: str, *, page_size: int, page_token: str) -> tuple[list[PromisedPayment], str]:
        """The account's promised payments, newest first."""
        size = paging.page_size(page_size)
        order = paging.Order("taken_at", descending=True)
        after = paging.decode_token(page_token, order, list_name=PROMISED_LIST, size=2)
        query = paging.keyset(
            sa.select(PromisedPayment).where(PromisedPayment.account_id == account_id),
            [PromisedPayment.taken_at, PromisedPayment.id],
            order=order,
            after=after,
            limit=size,
        )
        async with self._db.sessions() as session:
            rows = list(await session.scalars(query))
        return paging.next_token(
            rows, order=order, limit=size, key=lambda p: [p.taken_at, p.id], list_name=PROMISED_LIST
        )
