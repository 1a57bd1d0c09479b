"""Spending limits (BI-10): set, read, and the sweep that warns or blocks when one is reached.

- A limit counts the spend of its lines in the current period (a calendar
  month, UTC): the sum of ``line_spend`` (usage rated, monthly fees and line
  data packages bought, moved with each charge; a group package counts for no
  line) over a line, the lines under a node (its sub-nodes
  included, by billing's copy of the tree) or every line of the customer. A
  line counts under the node it is in now.
- The sweep (``BILLING_LIMITS_INTERVAL_SECONDS``) finds the limits reached
  (spend at or above the amount). Once per limit and period (the
  ``limit_notices`` row is the guard) it publishes ``limit.reached`` and, for
  a limit that warns, an SMS to each phone number it names through netsim's
  SMSC (through the outbox) and an email to each address it names (a
  ``limit_emails`` row, sent by :mod:`billing.limits.emails` through the SMTP
  relay), all in the transaction of the guard.
- A limit that blocks gives its lines in service the hold reason
  ``limit:<id>`` (:mod:`billing.holds.lines`) and publishes
  ``account.lines.held`` for those not held already; a line that left its
  scope, and every line once the limit is no longer reached (raised,
  deleted, a new period), loses the reason, and ``account.lines.released``
  names those it was the last reason of. inventory blocks and unblocks them.
- Changing a limit forgets its notices: reached again at its new amount, it
  warns again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics, money
from billing.db import NODE_PATHS
from billing.holds import lines as holds
from billing.ledger.models import ACCOUNTS, PERSONAL
from billing.limits.models import (
    ACTIONS,
    BLOCK,
    COMPANY,
    EMAILS,
    LIMITS,
    LINE,
    MONTH,
    NODE,
    NOTICES,
    PERIODS,
    SPEND,
    WARN,
    SpendingLimit,
)
from billing.lines.models import LINES
from simfleet.events.v1 import billing_pb2 as ev
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime import nodepaths
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import InvalidArgument, NotFound
from simfleet_runtime.idempotency import check_same_request, fingerprint
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import BillingSubjects, NetsimSubjects

log = logging.getLogger(__name__)

IN_SERVICE = ("active", "blocked")
MAX_NOTIFY = 10
SMS_ORIGIN = "billing"
"""Receipts of billing's warnings go to ``simfleet.netsim.sms.delivered.billing`` (nobody else reads them)."""
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_LIMIT_PREFIX = "limit:"


def month_of(when: datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def current_period(period: str, now: datetime) -> str:
    """The key of ``period``'s current instance (only months so far)."""
    return month_of(now)


def written(amount: int, currency: str) -> str:
    """``amount`` minor units as plain text for an SMS (``1500.00 RUB``), without floats."""
    digits = money.exponent(currency) if currency in money.EXPONENTS else 0
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**digits)
    return f"{sign}{whole}.{part:0{digits}d} {currency}" if digits else f"{sign}{whole} {currency}"


@dataclass(frozen=True, slots=True)
class Settings:
    """What a limit's owner chooses (validated): the amount, the action, who is told, the period."""

    amount: int
    currency: str
    action: str
    notify: tuple[str, ...]
    period: str = MONTH


@dataclass(frozen=True, slots=True)
class Target:
    """What a limit counts: its scope, its node and, for a line, the line."""

    scope: str
    node_id: str
    line_id: str | None = None
    msisdn: str | None = None


@dataclass(frozen=True, slots=True)
class LimitView:
    """A limit with its spend in the current period."""

    limit: SpendingLimit
    period: str
    spent: int

    @property
    def reached(self) -> bool:
        return self.spent >= self.limit.amount


def settings(*, amount: int, currency: str, action: str, notify: Sequence[str], period: str = MONTH) -> Settings:
    """Validate what the owner chose; INVALID_ARGUMENT names the field."""
    money.amount(amount, field="amount")
    money.currency(currency, field="currency")
    if action not in ACTIONS:
        raise InvalidArgument(
            "the action is warn or block", reason="INVALID_ACTION", field_violations={"action": "warn or block"}
        )
    if period not in PERIODS:
        raise InvalidArgument("the period is month", reason="INVALID_PERIOD", field_violations={"period": "month"})
    told = [item.strip() for item in notify]
    if len(told) > MAX_NOTIFY:
        raise InvalidArgument(
            f"at most {MAX_NOTIFY} people are told",
            reason="TOO_MANY_RECIPIENTS",
            field_violations={"notify": f"at most {MAX_NOTIFY}"},
        )
    wrong = {
        f"notify[{i}]": "an E.164 phone number (+79991234567) or an email address"
        for i, item in enumerate(told)
        if not (_PHONE.match(item) or (len(item) <= 254 and _EMAIL.match(item)))
    }
    if wrong:
        raise InvalidArgument("a recipient is not valid", reason="INVALID_RECIPIENT", field_violations=wrong)
    if action == WARN and not told:
        raise InvalidArgument(
            "a limit that warns tells someone: give a phone number or an email address",
            reason="RECIPIENTS_REQUIRED",
            field_violations={"notify": "at least one, for a limit that warns"},
        )
    return Settings(amount, currency, action, tuple(dict.fromkeys(told)), period)


def request_key(customer_id: str, user_id: str, key: str) -> str | None:
    if not key:
        return None
    return hashlib.sha256(f"{customer_id}\x1f{user_id}\x1f{key}".encode()).hexdigest()


def not_found() -> NotFound:
    return NotFound("the spending limit does not exist", reason="SPENDING_LIMIT_NOT_FOUND")


class SpendingLimits:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        paths: nodepaths.ProjectedNodePaths,
        sms_sender: str,
        interval: float,
    ) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._paths = paths
        self._sender = sms_sender
        self._interval = interval

    # ------------------------------------------------------------- setting
    async def target(self, customer_id: str, scope: str, *, node_id: str = "", msisdn: str = "") -> Target:
        """Where a new limit points; NOT_FOUND for a line or node the customer does not have."""
        async with self._db.sessions() as session:
            if scope == LINE:
                line = (
                    await session.execute(
                        sa.select(LINES.c.line_id, LINES.c.node_id, LINES.c.msisdn)
                        .where(
                            LINES.c.customer_id == customer_id,
                            LINES.c.msisdn == msisdn,
                            LINES.c.state != "terminated",
                        )
                        .limit(1)
                    )
                ).first()
                if line is None:
                    raise NotFound("the line does not exist", reason="LINE_NOT_FOUND")
                return Target(LINE, line.node_id, line.line_id, line.msisdn)
            if scope == COMPANY:
                root = await self._paths.root(session, customer_id)
                if root is None:
                    raise NotFound("the company's tree is not known yet", reason="NODE_NOT_FOUND")
                return Target(COMPANY, root)
            if scope == NODE:
                return Target(NODE, node_id)
        raise InvalidArgument(
            "the scope is line, node or company",
            reason="INVALID_SCOPE",
            field_violations={"scope": "line, node or company"},
        )

    async def _check_currency(self, session: AsyncSession, customer_id: str, currency: str) -> None:
        held = set(
            (
                await session.execute(
                    sa.select(ACCOUNTS.c.currency)
                    .where(ACCOUNTS.c.customer_id == customer_id, ACCOUNTS.c.kind == PERSONAL)
                    .distinct()
                )
            ).scalars()
        )
        if held and currency not in held:
            raise InvalidArgument(
                "the limit is in the currency of the customer's personal accounts",
                reason="CURRENCY_MISMATCH",
                field_violations={"currency": f"one of {', '.join(sorted(held))}"},
            )

    async def create(
        self, *, customer_id: str, user_id: str, target: Target, chosen: Settings, key: str
    ) -> tuple[LimitView, bool]:
        """A new limit (or the one made under the same idempotency key: replayed)."""
        now = self._clock.now()
        scoped = request_key(customer_id, user_id, key)
        digest = fingerprint("CreateSpendingLimit", {"target": target, "settings": chosen})
        async with self._db.transaction() as session:
            if scoped is not None:
                existing = await session.scalar(sa.select(SpendingLimit).where(SpendingLimit.request_key == scoped))
                if existing is not None:
                    check_same_request(existing.fingerprint, digest, field="idempotency_key")
                    return await self._view(session, existing, now), True
            await self._check_currency(session, customer_id, chosen.currency)
            limit = SpendingLimit(
                id=new_id(),
                customer_id=customer_id,
                scope=target.scope,
                node_id=target.node_id,
                line_id=target.line_id,
                msisdn=target.msisdn,
                period=chosen.period,
                amount=chosen.amount,
                currency=chosen.currency,
                action=chosen.action,
                notify=list(chosen.notify),
                set_by=user_id,
                request_key=scoped,
                fingerprint=digest if scoped else None,
                created_at=now,
                updated_at=now,
            )
            session.add(limit)
            await session.flush()
            return await self._view(session, limit, now), False

    async def get(self, customer_id: str, limit_id: str) -> SpendingLimit:
        async with self._db.sessions() as session:
            found = await session.scalar(
                sa.select(SpendingLimit).where(SpendingLimit.id == limit_id, SpendingLimit.customer_id == customer_id)
            )
        if found is None:
            raise not_found()
        return found

    async def all(self, customer_id: str) -> list[SpendingLimit]:
        async with self._db.sessions() as session:
            return list(
                (
                    await session.scalars(
                        sa.select(SpendingLimit)
                        .where(SpendingLimit.customer_id == customer_id)
                        .order_by(SpendingLimit.created_at, SpendingLimit.id)
                    )
                ).all()
            )

    async def views(self, found: Sequence[SpendingLimit]) -> list[LimitView]:
        now = self._clock.now()
        async with self._db.sessions() as session:
            return [await self._view(session, limit, now) for limit in found]

    async def update(self, customer_id: str, limit_id: str, chosen: Settings) -> LimitView:
        now = self._clock.now()
        async with self._db.transaction() as session:
            limit = await session.scalar(
                sa.select(SpendingLimit).where(SpendingLimit.id == limit_id, SpendingLimit.customer_id == customer_id)
            )
            if limit is None:
                raise not_found()
            await self._check_currency(session, customer_id, chosen.currency)
            limit.amount = chosen.amount
            limit.currency = chosen.currency
            limit.action = chosen.action
            limit.notify = list(chosen.notify)
            limit.period = chosen.period
            limit.updated_at = now
            # Reached again at its new amount, it says so again.
            await session.execute(sa.delete(NOTICES).where(NOTICES.c.limit_id == limit_id))
            await session.flush()
            return await self._view(session, limit, now)

    async def delete(self, customer_id: str, limit_id: str) -> None:
        """Its lines are unblocked by the next sweep."""
        async with self._db.transaction() as session:
            gone = await session.execute(
                sa.delete(LIMITS).where(LIMITS.c.id == limit_id, LIMITS.c.customer_id == customer_id)
            )
            if not gone.rowcount:  # type: ignore[attr-defined]
                raise not_found()
            await session.execute(sa.delete(NOTICES).where(NOTICES.c.limit_id == limit_id))

    # ------------------------------------------------------------- spend
    async def _scope(self, session: AsyncSession, limit: Any) -> Any:
        """A condition on ``lines`` selecting the limit's lines (None: no line, the node is unknown)."""
        if limit.scope == LINE:
            return LINES.c.line_id == limit.line_id
        if limit.scope == COMPANY:
            return LINES.c.customer_id == limit.customer_id
        path = await session.scalar(
            sa.select(NODE_PATHS.c.path).where(
                NODE_PATHS.c.customer_id == limit.customer_id, NODE_PATHS.c.node_id == limit.node_id
            )
        )
        if path is None:
            return None
        under = sa.select(NODE_PATHS.c.node_id).where(
            NODE_PATHS.c.customer_id == limit.customer_id, NODE_PATHS.c.path.startswith(path)
        )
        return sa.and_(LINES.c.customer_id == limit.customer_id, LINES.c.node_id.in_(under))

    async def spent(self, session: AsyncSession, limit: Any, period: str) -> int:
        """What the limit's lines were charged in ``period``, in its currency."""
        scope = await self._scope(session, limit)
        if scope is None:
            return 0
        total = await session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(SPEND.c.amount), 0)).where(
                SPEND.c.period == period,
                SPEND.c.currency == limit.currency,
                SPEND.c.line_id.in_(sa.select(LINES.c.line_id).where(scope)),
            )
        )
        return int(total or 0)

    async def _view(self, session: AsyncSession, limit: SpendingLimit, now: datetime) -> LimitView:
        period = current_period(limit.period, now)
        return LimitView(limit, period, await self.spent(session, limit, period))

    async def _lines_in_service(self, session: AsyncSession, limit: Any) -> dict[str, str]:
        scope = await self._scope(session, limit)
        if scope is None:
            return {}
        rows = await session.execute(
            sa.select(LINES.c.line_id, LINES.c.msisdn).where(scope, LINES.c.state.in_(IN_SERVICE))
        )
        return {row.line_id: row.msisdn for row in rows}

    # ------------------------------------------------------------- the sweep
    async def sweep(self) -> tuple[int, int, int]:
        """One pass: (limits newly reached this period, lines blocked, lines unblocked)."""
        now = self._clock.now()
        async with self._db.sessions() as session:
            limits = list((await session.scalars(sa.select(SpendingLimit).order_by(SpendingLimit.id))).all())
            spends = [await self.spent(session, limit, current_period(limit.period, now)) for limit in limits]
            reasons = await holds.reasons_of(session, _LIMIT_PREFIX)
        reached = blocked = unblocked = 0
        blocking: set[str] = set()
        for limit, spent in zip(limits, spends, strict=True):
            if spent < limit.amount:
                continue
            reached += await self._notice(limit, current_period(limit.period, now), spent, now)
            if limit.action == BLOCK:
                blocking.add(holds.limit_reason(limit.id))
                held, freed = await self._hold(limit, now)
                blocked += held
                unblocked += freed
        for reason in reasons:
            if reason not in blocking:
                unblocked += await self._release(reason, now)
        metrics.LIMITS.labels("reached").inc(reached)
        metrics.LIMITS.labels("lines_blocked").inc(blocked)
        metrics.LIMITS.labels("lines_unblocked").inc(unblocked)
        return reached, blocked, unblocked

    async def _notice(self, limit: SpendingLimit, period: str, spent: int, now: datetime) -> int:
        """``limit.reached`` and the warnings, once per limit and period."""
        try:
            return await self._notice_once(limit, period, spent, now)
        except _Gone:
            return 0

    async def _notice_once(self, limit: SpendingLimit, period: str, spent: int, now: datetime) -> int:
        async with self._db.transaction() as session:
            claimed = await session.execute(
                insert_ignoring_conflicts(session, NOTICES),
                {"limit_id": limit.id, "period": period, "spent": spent, "reached_at": now},
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return 0
            if not await session.scalar(sa.select(LIMITS.c.id).where(LIMITS.c.id == limit.id)):
                raise _Gone  # deleted since the sweep read it: rolled back, nothing said
            await self._outbox.add(
                session,
                BillingSubjects.LIMIT_REACHED,
                ev.SpendingLimitReached(
                    customer_id=limit.customer_id,
                    limit_id=limit.id,
                    scope=limit.scope,
                    node_id=limit.node_id,
                    msisdn=limit.msisdn or "",
                    period=period,
                    amount=limit.amount,
                    spent=spent,
                    currency=limit.currency,
                    action=limit.action,
                    notify=list(limit.notify),
                    occurred_at=timestamp(now),
                ),
                tenant=limit.customer_id,
            )
            if limit.action == WARN:
                text = self._warning(limit, period, spent)
                for phone in (item for item in limit.notify if _PHONE.match(item)):
                    message_id = new_id()
                    await self._outbox.add(
                        session,
                        NetsimSubjects.SUBMIT_SMS,
                        smsc_pb2.SubmitSmsCommand(
                            message_id=message_id,
                            to_msisdn=phone,
                            sender=self._sender,
                            text=text,
                            submitted_at=timestamp(now),
                            origin=SMS_ORIGIN,
                        ),
                        tenant=limit.customer_id,
                        event_id=message_id,
                    )
                emails = [
                    {
                        "id": new_id(),
                        "customer_id": limit.customer_id,
                        "limit_id": limit.id,
                        "period": period,
                        "email": email,
                        "text": text,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "sent_at": None,
                        "last_error": "",
                    }
                    for email in limit.notify
                    if not _PHONE.match(email)
                ]
                if emails:
                    await session.execute(sa.insert(EMAILS), emails)
        return 1

    @staticmethod
    def _warning(limit: SpendingLimit, period: str, spent: int) -> str:
        what = {LINE: f"line {limit.msisdn}", NODE: f"group {limit.node_id}", COMPANY: "the company"}[limit.scope]
        return (
            f"Spending limit reached for {what}: {written(spent, limit.currency)} spent in {period}, "
            f"limit {written(limit.amount, limit.currency)}."
        )

    async def _hold(self, limit: SpendingLimit, now: datetime) -> tuple[int, int]:
        """Block the limit's lines in service; unblock those that left its scope. (blocked, unblocked)."""
        reason = holds.limit_reason(limit.id)
        async with self._db.sessions() as session:
            wanted = await self._lines_in_service(session, limit)
            held = await holds.held_by(session, reason)
        if set(wanted) == held:
            return 0, 0  # nothing to change: no write
        async with self._db.transaction() as session:
            if not await session.scalar(sa.select(LIMITS.c.id).where(LIMITS.c.id == limit.id)):
                return 0, 0  # deleted meanwhile: the next sweep releases what it held
            first = await holds.hold(
                session, customer_id=limit.customer_id, lines=wanted.items(), reason=reason, now=now
            )
            await self._publish(session, BillingSubjects.LINES_HELD, limit.customer_id, first, reason, now)
            last = await holds.release(session, reason=reason, now=now, only=held - set(wanted))
            await self._publish(session, BillingSubjects.LINES_RELEASED, limit.customer_id, last, reason, now)
        return len(first), len(last)

    async def _release(self, reason: str, now: datetime) -> int:
        """Unblock the lines held by a limit no longer reached (or gone)."""
        async with self._db.transaction() as session:
            customer = await session.scalar(
                sa.select(holds.L.customer_id)
                .where(holds.L.line_id.in_(sa.select(holds.R.line_id).where(holds.R.reason == reason)))
                .limit(1)
            )
            last = await holds.release(session, reason=reason, now=now)
            await self._publish(session, BillingSubjects.LINES_RELEASED, customer or "", last, reason, now)
        return len(last)

    async def _publish(
        self, session: AsyncSession, subject: str, customer_id: str, msisdns: list[str], reason: str, now: datetime
    ) -> None:
        if not msisdns:
            return
        await self._outbox.add(
            session,
            subject,
            ev.AccountFundsChanged(
                customer_id=customer_id,
                msisdns=msisdns,
                occurred_at=timestamp(now),
                hold_id=new_id(),
                reason=reason,
            ),
            tenant=customer_id,
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception:  # the next pass tries again
                log.exception("the spending limits' sweep failed; it runs again")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue


class _Gone(Exception):
    """The limit was deleted while the sweep worked on it."""
