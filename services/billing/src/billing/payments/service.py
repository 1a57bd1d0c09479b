"""Top-ups by card and automatic payments, credited exactly once.

1. :meth:`Payments.pay` records the payment (its id: ``pay:`` and a hash of
   the customer, the user and their idempotency key), then settles it.
2. :meth:`Payments.settle` walks the provider's steps under that id:
   authorise, then capture. Each step is idempotent at the provider, and how
   far it got is stored (``provider_step``), so a step whose answer was lost
   is simply asked again. The capture's answer is recorded in one
   transaction with the ledger entry ``payment:<id>`` (debit the operator's
   payments clearing, credit the personal account), by a conditional update
   of the payment's state: two settlers racing credit once. The same
   transaction writes ``payment.received`` to the outbox (notices of payments
   received): the event commits with the credit, once per payment.
3. A payment the provider did not answer stays ``pending``; the reconciler
   (:meth:`Payments.run`) asks again with growing pauses and gives up after
   ``give_up_after`` (releasing an authorisation), marking it ``failed``.
4. Automatic payments: when an account's balance is below its automatic
   payment's threshold and none of its automatic payments is pending, a
   payment of its amount is made (at most ``daily_limit`` a day, UTC).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics, money
from billing.ledger.models import ACCOUNTS, PAYMENT_ENTRY, PAYMENTS_CLEARING, LedgerAccount
from billing.ledger.service import CREDIT, DEBIT, LedgerService, Leg, NewEntry
from billing.payments.models import (
    AUTHORIZED,
    AUTO_PAYMENTS,
    AUTOMATIC,
    CAPTURED,
    CARD,
    CREDITED,
    DECLINED,
    FAILED,
    NOT_ASKED,
    PAYMENTS,
    PENDING,
    AutoPayment,
    Payment,
)
from billing.payments.provider import PaymentProvider, ProviderAnswer
from simfleet.events.v1 import billing_pb2 as ev
from simfleet.netsim.v1 import payments_pb2 as provider_pb
from simfleet_runtime import paging
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import InvalidArgument, NotFound
from simfleet_runtime.idempotency import check_same_request, fingerprint
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import BillingSubjects

log = logging.getLogger(__name__)

CARD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PAYMENTS_LIST = "billing.payments"
RECONCILE_BATCH = 100
MAX_DAILY_LIMIT = 10
DEFAULT_DAILY_LIMIT = 3
P = PAYMENTS.c


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    states: Sequence[str] = ()
    kinds: Sequence[str] = ()
    created_from: datetime | None = None
    created_before: datetime | None = None
    amount_min: int = 0
    amount_max: int = 0


def payment_id(customer_id: str, user_id: str, key: str) -> str:
    """A payment's id: the caller's idempotency key scoped to them (hashed to fit), or a new one."""
    if not key:
        return f"pay:{new_id()}"
    digest = hashlib.sha256(f"{customer_id}\x1f{user_id}\x1f{key}".encode()).hexdigest()
    return f"pay:{digest[:48]}"


def _card(token: str, field: str = "card_token") -> str:
    if not CARD_TOKEN.match(token):
        raise InvalidArgument(
            "a card token is 1 to 64 letters, digits, '_' or '-' (the frontend's token, never a card number)",
            reason="INVALID_CARD_TOKEN",
            field_violations={field: "1 to 64 of [A-Za-z0-9_-]"},
        )
    return token


class Payments:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        ledger: LedgerService,
        outbox: Outbox,
        provider: PaymentProvider,
        max_amount: int,
        retry_seconds: float,
        give_up_after: timedelta,
        interval: float,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._outbox = outbox
        self._provider = provider
        self._max_amount = max_amount
        self._retry = retry_seconds
        self._give_up_after = give_up_after
        self._interval = interval

    # ---------------------------------------------------------------- paying
    def _checked(self, account: LedgerAccount, amount: int, currency: str, card_token: str) -> None:
        money.amount(amount, field="amount")
        if amount > self._max_amount:
            raise InvalidArgument(
                f"one payment is at most {self._max_amount} minor units",
                reason="AMOUNT_TOO_LARGE",
                field_violations={"amount": f"at most {self._max_amount}"},
            )
        money.currency(currency)
        if currency != account.currency:
            raise InvalidArgument(
                f"the account holds {account.currency}",
                reason="CURRENCY_MISMATCH",
                field_violations={"currency": f"the account's currency, {account.currency}"},
            )
        _card(card_token)

    async def pay(
        self,
        *,
        account: LedgerAccount,
        user_id: str,
        amount: int,
        currency: str,
        card_token: str,
        key: str,
    ) -> tuple[Payment, bool]:
        """Record a top-up and settle it; (the payment, whether it was there already)."""
        self._checked(account, amount, currency, card_token)
        digest = fingerprint(
            "Pay",
            {"account": account.personal_account_id, "amount": amount, "currency": currency, "card": card_token},
        )
        made = await self._record(
            payment_id(account.customer_id, user_id, key), account, CARD, amount, card_token, user_id, digest
        )
        if made is None:
            async with self._db.sessions() as session:
                existing = await session.get(Payment, payment_id(account.customer_id, user_id, key))
            assert existing is not None
            check_same_request(existing.fingerprint, digest, field="idempotency_key")
            if existing.state == PENDING:
                existing = await self.settle(existing.id)
            return existing, True
        return await self.settle(made), False

    async def _record(
        self,
        pid: str,
        account: LedgerAccount | Any,
        kind: str,
        amount: int,
        card_token: str,
        requested_by: str,
        digest: str,
        *,
        session: AsyncSession | None = None,
    ) -> str | None:
        """Insert the payment; its id, or None when the id was taken."""
        now = self._clock.now()
        values = {
            "id": pid,
            "customer_id": account.customer_id,
            "personal_account_id": account.personal_account_id,
            "account_id": account.id,
            "kind": kind,
            "state": PENDING,
            "provider_step": NOT_ASKED,
            "amount": amount,
            "currency": account.currency,
            "card_token": card_token,
            "reason": "",
            "requested_by": requested_by,
            "fingerprint": digest,
            "entry_id": None,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
            "credited_at": None,
        }
        if session is not None:
            claimed = await session.execute(insert_ignoring_conflicts(session, PAYMENTS), values)
        else:
            async with self._db.transaction() as own:
                claimed = await own.execute(insert_ignoring_conflicts(own, PAYMENTS), values)
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return None
        metrics.PAYMENTS.labels(kind, "requested").inc()
        return pid

    # -------------------------------------------------------------- settling
    async def settle(self, pid: str) -> Payment:
        """Take the payment as far as the provider lets it now (see the module's docstring)."""
        payment = await self._payment(pid)
        if payment.state != PENDING:
            return payment
        if payment.provider_step == NOT_ASKED:
            answer = await self._provider.authorize(
                payment.id, payment.amount, payment.currency, payment.card_token, "SIMfleet top-up"
            )
            if not answer.answered:
                return await self._later(payment, answer)
            if answer.state == provider_pb.PAYMENT_STATE_DECLINED:
                return await self._end(payment, DECLINED, answer.reason or "declined")
            if answer.state not in (provider_pb.PAYMENT_STATE_AUTHORIZED, provider_pb.PAYMENT_STATE_CAPTURED):
                return await self._end(payment, FAILED, answer.reason or "the provider refused the authorisation")
            payment = await self._step(payment, AUTHORIZED)
        answer = await self._provider.capture(payment.id)
        if not answer.answered:
            return await self._later(payment, answer)
        if answer.state == provider_pb.PAYMENT_STATE_CAPTURED:
            return await self._credit(payment)
        return await self._end(payment, FAILED, answer.reason or "the provider refused the capture")

    async def _payment(self, pid: str) -> Payment:
        async with self._db.sessions() as session:
            found = await session.get(Payment, pid, populate_existing=True)
        if found is None:
            raise NotFound("no such payment", reason="PAYMENT_NOT_FOUND")
        return found

    async def _step(self, payment: Payment, step: str) -> Payment:
        async with self._db.transaction() as session:
            await session.execute(
                sa.update(PAYMENTS)
                .where(P.id == payment.id, P.state == PENDING)
                .values(provider_step=step, updated_at=self._clock.now())
            )
        return await self._payment(payment.id)

    async def _later(self, payment: Payment, answer: ProviderAnswer) -> Payment:
        """The provider did not answer: try again later, or give up when it has been too long."""
        now = self._clock.now()
        if now - payment.created_at >= self._give_up_after:
            if payment.provider_step == AUTHORIZED:
                await self._provider.void(payment.id)
            return await self._end(payment, FAILED, "the payment provider did not answer in time")
        pause = min(self._retry * 2 ** min(payment.attempts, 8), 600.0)
        async with self._db.transaction() as session:
            await session.execute(
                sa.update(PAYMENTS)
                .where(P.id == payment.id, P.state == PENDING)
                .values(
                    attempts=P.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=pause),
                    reason=answer.reason,
                    updated_at=now,
                )
            )
        metrics.PAYMENTS.labels(payment.kind, "unanswered").inc()
        return await self._payment(payment.id)

    async def _end(self, payment: Payment, state: str, reason: str) -> Payment:
        async with self._db.transaction() as session:
            ended = await session.execute(
                sa.update(PAYMENTS)
                .where(P.id == payment.id, P.state == PENDING)
                .values(state=state, reason=reason[:200], next_attempt_at=None, updated_at=self._clock.now())
            )
        if ended.rowcount:  # type: ignore[attr-defined]
            metrics.PAYMENTS.labels(payment.kind, state).inc()
        return await self._payment(payment.id)

    async def _credit(self, payment: Payment) -> Payment:
        """Record the capture and credit the account in one transaction; once, whoever else settles it."""
        now = self._clock.now()
        entry_id = f"payment:{payment.id.removeprefix('pay:')}"[:64]
        async with self._db.transaction() as session:
            moved = await session.execute(
                sa.update(PAYMENTS)
                .where(P.id == payment.id, P.state == PENDING)
                .values(
                    state=CREDITED,
                    provider_step=CAPTURED,
                    entry_id=entry_id,
                    next_attempt_at=None,
                    reason="",
                    credited_at=now,
                    updated_at=now,
                )
            )
            if moved.rowcount:  # type: ignore[attr-defined]
                clearing = await self._ledger.operator_account_id(session, PAYMENTS_CLEARING, payment.currency)
                await self._ledger.post_charges(
                    session,
                    NewEntry(
                        id=entry_id,
                        kind=PAYMENT_ENTRY,
                        currency=payment.currency,
                        legs=(Leg(clearing, DEBIT, payment.amount), Leg(payment.account_id, CREDIT, payment.amount)),
                        description="top-up by card" if payment.kind == CARD else "automatic payment",
                    ),
                    customer_id=payment.customer_id,
                )
                balance = await session.scalar(sa.select(ACCOUNTS.c.balance).where(ACCOUNTS.c.id == payment.account_id))
                await self._outbox.add(
                    session,
                    BillingSubjects.PAYMENT_RECEIVED,
                    ev.PaymentReceived(
                        customer_id=payment.customer_id,
                        payment_id=payment.id,
                        personal_account_id=payment.personal_account_id,
                        amount=payment.amount,
                        currency=payment.currency,
                        kind=payment.kind,
                        balance=int(balance or 0),
                        occurred_at=timestamp(now),
                    ),
                    tenant=payment.customer_id,
                )
        if moved.rowcount:  # type: ignore[attr-defined]
            metrics.PAYMENTS.labels(payment.kind, CREDITED).inc()
        return await self._payment(payment.id)

    # ------------------------------------------------------------ the clock
    async def reconcile_once(self) -> int:
        """Settle the pending payments whose next attempt is due; answers how many were tried."""
        now = self._clock.now()
        async with self._db.sessions() as session:
            due = list(
                (
                    await session.execute(
                        sa.select(P.id)
                        .where(P.state == PENDING, P.next_attempt_at <= now)
                        .order_by(P.next_attempt_at)
                        .limit(RECONCILE_BATCH)
                    )
                ).scalars()
            )
        for pid in due:
            await self.settle(pid)
        return len(due)

    async def auto_pay_once(self) -> int:
        """Start the automatic payments of accounts below their thresholds; answers how many were started."""
        now = self._clock.now()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        a, u = ACCOUNTS.c, AUTO_PAYMENTS.c
        async with self._db.sessions() as session:
            rules = (
                await session.execute(
                    sa.select(AUTO_PAYMENTS, a.balance)
                    .join(ACCOUNTS, a.id == u.account_id)
                    .where(u.enabled.is_(True), a.balance < u.threshold)
                )
            ).all()
        started = 0
        for rule in rules:
            async with self._db.transaction() as session:
                counts = (
                    await session.execute(
                        sa.select(
                            sa.func.count().filter(P.state == PENDING),
                            sa.func.count().filter(P.created_at >= day),
                        ).where(P.account_id == rule.account_id, P.kind == AUTOMATIC)
                    )
                ).one()
                if counts[0] or counts[1] >= rule.daily_limit:
                    continue
                pid = f"auto:{rule.personal_account_id}:{day:%Y%m%d}:{counts[1] + 1}"
                digest = fingerprint("AutoPay", {"account": rule.personal_account_id, "n": counts[1] + 1})
                made = await self._record(
                    pid, _RuleAccount(rule), AUTOMATIC, rule.amount, rule.card_token, "", digest, session=session
                )
                if made is None:
                    continue
                await session.execute(
                    sa.update(AUTO_PAYMENTS)
                    .where(u.personal_account_id == rule.personal_account_id)
                    .values(last_paid_at=now)
                )
            started += 1
            await self.settle(pid)
        return started

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.reconcile_once()
                await self.auto_pay_once()
            except Exception:  # the next pass tries again
                log.exception("settling payments failed; trying again")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue

    # --------------------------------------------------------------- reading
    async def get(self, personal_account_id: str, pid: str) -> Payment:
        payment = await self._payment(pid) if pid else None
        if payment is None or payment.personal_account_id != personal_account_id:
            raise NotFound("no such payment", reason="PAYMENT_NOT_FOUND")
        return payment

    async def list(
        self, personal_account_id: str, flt: PaymentFilter, *, page_size: int, page_token: str
    ) -> tuple[list[Payment], str]:
        size = paging.page_size(page_size)
        order = paging.parse_order("", allowed=("created_at",), default="-created_at")
        after = paging.decode_token(page_token, order, list_name=PAYMENTS_LIST, size=2)
        query = sa.select(Payment).where(Payment.personal_account_id == personal_account_id)
        if flt.states:
            query = query.where(Payment.state.in_(list(flt.states)))
        if flt.kinds:
            query = query.where(Payment.kind.in_(list(flt.kinds)))
        if flt.created_from is not None:
            query = query.where(Payment.created_at >= flt.created_from)
        if flt.created_before is not None:
            query = query.where(Payment.created_at < flt.created_before)
        if flt.amount_min:
            query = query.where(Payment.amount >= flt.amount_min)
        if flt.amount_max:
            query = query.where(Payment.amount <= flt.amount_max)
        query = paging.keyset(query, [Payment.created_at, Payment.id], order=order, after=after, limit=size)
        async with self._db.sessions() as session:
            rows = list((await session.scalars(query)).all())
        return paging.next_token(
            rows, order=order, limit=size, key=lambda p: [p.created_at, p.id], list_name=PAYMENTS_LIST
        )

    # -------------------------------------------------------- automatic ones
    async def auto_payment(self, personal_account_id: str) -> AutoPayment | None:
        async with self._db.sessions() as session:
            return await session.get(AutoPayment, personal_account_id)

    async def set_auto_payment(
        self,
        *,
        account: LedgerAccount,
        threshold: int,
        amount: int,
        currency: str,
        card_token: str,
        daily_limit: int,
        set_by: str,
    ) -> AutoPayment:
        self._checked(account, amount, currency, card_token)
        if not -money.MAX_AMOUNT <= threshold <= money.MAX_AMOUNT:
            raise InvalidArgument(
                "the threshold is out of range",
                reason="INVALID_THRESHOLD",
                field_violations={"threshold": f"between -{money.MAX_AMOUNT} and {money.MAX_AMOUNT}"},
            )
        limit = daily_limit or DEFAULT_DAILY_LIMIT
        if not 1 <= limit <= MAX_DAILY_LIMIT:
            raise InvalidArgument(
                f"at most {MAX_DAILY_LIMIT} automatic payments a day",
                reason="INVALID_DAILY_LIMIT",
                field_violations={"daily_limit": f"1 to {MAX_DAILY_LIMIT}"},
            )
        now = self._clock.now()
        values = {
            "customer_id": account.customer_id,
            "account_id": account.id,
            "threshold": threshold,
            "amount": amount,
            "currency": currency,
            "card_token": card_token,
            "daily_limit": limit,
            "enabled": True,
            "set_by": set_by,
            "updated_at": now,
        }
        async with self._db.transaction() as session:
            changed = await session.execute(
                sa.update(AUTO_PAYMENTS)
                .where(AUTO_PAYMENTS.c.personal_account_id == account.personal_account_id)
                .values(**values)
            )
            if not changed.rowcount:  # type: ignore[attr-defined]
                await session.execute(
                    sa.insert(AUTO_PAYMENTS).values(
                        personal_account_id=account.personal_account_id, last_paid_at=None, **values
                    )
                )
        found = await self.auto_payment(account.personal_account_id)
        assert found is not None
        return found

    async def delete_auto_payment(self, personal_account_id: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                sa.delete(AUTO_PAYMENTS).where(AUTO_PAYMENTS.c.personal_account_id == personal_account_id)
            )


class _RuleAccount:
    """An automatic payment's row, seen as the account its payments are for."""

    def __init__(self, rule: Any) -> None:
        self.id = rule.account_id
        self.customer_id = rule.customer_id
        self.personal_account_id = rule.personal_account_id
        self.currency = rule.currency
