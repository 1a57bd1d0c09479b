"""Settlement methods (BI-13): a change is asked for with a date, kept in the history, and moves the floor then.

A change effective now (or in the past) is applied in the transaction that
records it; a later one waits in ``settlement_changes`` until the sweep
(:meth:`SettlementService.apply_due`, every ``BILLING_LEDGER_SWEEP_SECONDS``)
finds it due. Changes apply in the order of their dates. Moving the floor
never moves money: an account left below its new floor (a postpaid debt when
it turns prepaid) takes credits but no debits until it is above it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics, money
from billing.ledger.models import ACCOUNTS, METHODS, PERSONAL, PREPAID, LedgerAccount, floor_of
from billing.settlement.models import CHANGES, SettlementChange
from simfleet_runtime import paging
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from simfleet_runtime.ids import new_id
from simfleet_runtime.validation import check_text, normalize_email

HORIZON = timedelta(days=366)
"""How far ahead a change may be dated."""
CHANGES_LIST = "billing.settlement_changes"
SWEEP_BATCH = 500


@dataclass(frozen=True, slots=True)
class Change:
    account_id: str
    method: str
    credit_limit: int = 0
    effective_at: datetime | None = None
    note: str = ""


def validate_change(change: Change, now: datetime) -> Change:
    problems: dict[str, str] = {}
    if change.method not in METHODS:
        problems["method"] = "prepaid, postpaid or credit"
    try:
        money.limit(change.credit_limit, field="credit_limit")
    except InvalidArgument as refused:
        problems.update(refused.field_violations)
    else:
        if change.method == PREPAID and change.credit_limit:
            problems["credit_limit"] = "a prepaid account has no credit limit"
    if change.effective_at is not None and change.effective_at > now + HORIZON:
        problems["effective_at"] = "at most a year ahead"
    note = change.note
    if len(note) > 200:
        problems["note"] = "at most 200 characters"
    else:
        try:
            note = check_text(note, field="note")
        except InvalidArgument as refused:
            problems.update(refused.field_violations)
    if problems:
        raise InvalidArgument(
            "the settlement change is not valid", reason="INVALID_SETTLEMENT", field_violations=problems
        )
    effective = now if change.effective_at is None or change.effective_at < now else change.effective_at
    return Change(change.account_id, change.method, change.credit_limit, effective, note)


class SettlementService:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def change(self, change: Change, *, actor: str) -> tuple[SettlementChange, LedgerAccount]:
        """Record a change; apply it now when it is due now. Answers the change and the account as it stands."""
        now = self._clock.now()
        change = validate_change(change, now)
        async with self._db.transaction() as session:
            account = await self._personal(session, change.account_id)
            assert change.effective_at is not None
            row = SettlementChange(
                id=new_id(),
                account_id=account.id,
                method=change.method,
                credit_limit=change.credit_limit,
                effective_at=change.effective_at,
                requested_at=now,
                requested_by=actor[:64],
                note=change.note,
                applied_at=None,
            )
            session.add(row)
            await session.flush()
            if change.effective_at <= now:
                await self._apply(session, row.id, now)
            await session.refresh(row)
            await session.refresh(account)
            return row, account

    async def _personal(self, session: AsyncSession, account_id: str) -> LedgerAccount:
        account = await session.get(LedgerAccount, account_id) if account_id else None
        if account is None:
            raise NotFound("the account does not exist", reason="ACCOUNT_NOT_FOUND")
        if account.kind != PERSONAL:
            raise FailedPrecondition("only a personal account has a settlement method", reason="NOT_A_PERSONAL_ACCOUNT")
        return account

    async def _apply(self, session: AsyncSession, change_id: str, now: datetime) -> bool:
        """Apply a change once (a conditional update claims it); moves the account's floor."""
        c = CHANGES.c
        claimed = await session.execute(
            sa.update(CHANGES)
            .where(c.id == change_id, c.applied_at.is_(None))
            .values(applied_at=now)
            .returning(c.account_id, c.method, c.credit_limit)
        )
        row = claimed.first()
        if row is None:
            return False
        a = ACCOUNTS.c
        await session.execute(
            sa.update(ACCOUNTS)
            .where(a.id == row.account_id)
            .values(
                settlement_method=row.method,
                credit_limit=row.credit_limit,
                floor=floor_of(row.method, row.credit_limit),
                updated_at=now,
            )
        )
        metrics.SETTLEMENT_CHANGES.labels(row.method).inc()
        return True

    async def apply_due(self) -> int:
        """Apply the changes whose date came (a batch, oldest first); how many were applied."""
        now = self._clock.now()
        c = CHANGES.c
        async with self._db.sessions() as session:
            due = list(
                await session.scalars(
                    sa.select(c.id)
                    .where(c.applied_at.is_(None), c.effective_at <= now)
                    .order_by(c.effective_at, c.id)
                    .limit(SWEEP_BATCH)
                )
            )
        applied = 0
        for change_id in due:
            async with self._db.transaction() as session:
                applied += await self._apply(session, change_id, now)
        return applied

    async def scheduled(self, account_id: str) -> SettlementChange | None:
        """The next change waiting for its date, if any."""
        async with self._db.sessions() as session:
            return await session.scalar(
                sa.select(SettlementChange)
                .where(SettlementChange.account_id == account_id, SettlementChange.applied_at.is_(None))
                .order_by(SettlementChange.effective_at, SettlementChange.id)
                .limit(1)
            )

    async def history(self, account_id: str, *, page_size: int, page_token: str) -> tuple[list[SettlementChange], str]:
        """The account's changes, newest request first."""
        async with self._db.sessions() as session:
            await self._personal(session, account_id)
            size = paging.page_size(page_size)
            order = paging.Order("requested_at", descending=True)
            after = paging.decode_token(page_token, order, list_name=CHANGES_LIST, size=2)
            query = paging.keyset(
                sa.select(SettlementChange).where(SettlementChange.account_id == account_id),
                [SettlementChange.requested_at, SettlementChange.id],
                order=order,
                after=after,
                limit=size,
            )
            rows = list(await session.scalars(query))
        return paging.next_token(
            rows, order=order, limit=size, key=lambda c: [c.requested_at, c.id], list_name=CHANGES_LIST
        )

    async def set_bill_email(self, account_id: str, email: str) -> LedgerAccount:
        """Where the account's bills are emailed ("" stops it)."""
        address = normalize_email(email, field="email") if email else ""
        async with self._db.transaction() as session:
            account = await self._personal(session, account_id)
            account.bill_email = address
            account.updated_at = self._clock.now()
            await session.flush()
            return account
