"""Throttling failed sign-ins (docs/architecture.md § Sign-in rules).

Wrong passwords are counted per number *and* client address, so that an
attacker failing from one address makes only that address wait: once a client
has ``free_failures`` failures for a number, it waits ``backoff_base`` before
its next attempt, and each further failure doubles the wait up to
``backoff_cap``. A client's count is forgotten ``client_memory`` after its last
failure, or when the number signs in from it. (Wrong codes are throttled per
client by their challenge: ``identity.otp.service``.)

Across clients, ``account_limit`` consecutive failures with one factor (at
most 100: NIST SP 800-63B §5.2.2) close that factor for the number until the
number signs in; a successful sign-in by any factor clears the number's
ceilings. Whether a ceiling binds every client or only the clients the number
has not signed in from is the caller's choice (:meth:`SignInThrottles.check`).

Rows are kept by number whether or not a user has it, so a throttled unknown
number answers exactly as a throttled known one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from identity.signins.models import SignInThrottle
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import insert_ignoring_conflicts
from simfleet_runtime.errors import ResourceExhausted

PASSWORD = "password"
CODE = "code"
EVERY_CLIENT = "*"

_ACCOUNT_MESSAGES = {
    PASSWORD: "too many wrong passwords for this number; sign in with a one-time code",
    CODE: "too many wrong codes for this number; sign in with your password or from a device you signed in from before",
}


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int
    backoff_base: timedelta
    backoff_cap: timedelta
    client_memory: timedelta
    account_limit: int

    def wait_after(self, failures: int) -> timedelta | None:
        """How long a client waits after its ``failures``-th consecutive failure (None: not at all)."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 40)
        wait: timedelta = self.backoff_base * (2**doublings)
        return min(wait, self.backoff_cap)


def client_key(address: str) -> str:
    return address or "unknown"


def _seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


class SignInThrottles:
    def __init__(self, *, clock: Clock, policy: ThrottlePolicy) -> None:
        self._clock = clock
        self._policy = policy

    async def check(
        self, session: AsyncSession, *, factor: str, phone: str, client: str, account_wide: bool, lock: bool = False
    ) -> None:
        """Raise SIGN_IN_THROTTLED if ``client`` must wait, or the number's ceiling for ``factor`` applies to it.

        ``lock`` (inside the write transaction) claims and holds the rows, so
        that attempts checked side by side are counted one after the other.
        """
        now = self._clock.now()
        addresses = self._addresses(factor, client)
        if lock:
            await self._claim(session, factor=factor, phone=phone, addresses=addresses, now=now)
        query = (
            sa.select(SignInThrottle)
            .where(
                SignInThrottle.phone == phone,
                SignInThrottle.factor == factor,
                SignInThrottle.client_address.in_(addresses),
            )
            .order_by(SignInThrottle.client_address)
            .execution_options(populate_existing=True)
        )
        if lock:
            query = query.with_for_update()
        for row in (await session.scalars(query)).all():
            if row.client_address == EVERY_CLIENT:
                if account_wide and row.failures >= self._policy.account_limit:
                    raise self._refusal(factor, "account", self._policy.backoff_cap, _ACCOUNT_MESSAGES[factor])
            elif row.blocked_until is not None and row.blocked_until > now and not self._forgotten(row, now):
                raise self._refusal(
                    factor,
                    "client",
                    row.blocked_until - now,
                    "too many failed sign-ins from this address; wait before trying again",
                )

    async def failed(self, session: AsyncSession, *, factor: str, phone: str, client: str) -> None:
        """Count a failure of ``factor`` for ``phone`` from every client, and (passwords) from ``client``.

        Wrong codes are throttled per client by their challenge (5 tries, carried
        to the client's next code), so they count only towards the ceiling.
        """
        now = self._clock.now()
        addresses = self._addresses(factor, client)
        await self._claim(session, factor=factor, phone=phone, addresses=addresses, now=now)
        for address in addresses:
            row = await session.get(
                SignInThrottle, (phone, factor, address), with_for_update=True, populate_existing=True
            )
            assert row is not None
            if address != EVERY_CLIENT and self._forgotten(row, now):
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            if address != EVERY_CLIENT:
                wait = self._policy.wait_after(row.failures)
                row.blocked_until = now + wait if wait is not None else None
        await session.execute(
            sa.delete(SignInThrottle).where(
                SignInThrottle.phone == phone,
                SignInThrottle.client_address != EVERY_CLIENT,
                SignInThrottle.last_failure_at < now - self._policy.client_memory,
            )
        )

    async def succeeded(self, session: AsyncSession, *, phone: str, client: str) -> None:
        """The number signed in from ``client``: forget that client's failures and the number's ceilings."""
        await session.execute(
            sa.delete(SignInThrottle).where(
                SignInThrottle.phone == phone, SignInThrottle.client_address.in_((client, EVERY_CLIENT))
            )
        )

    @staticmethod
    def _addresses(factor: str, client: str) -> tuple[str, ...]:
        # Sorted, so that every transaction locks a number's rows in the same order.
        return (EVERY_CLIENT, client) if factor == PASSWORD else (EVERY_CLIENT,)

    @staticmethod
    async def _claim(
        session: AsyncSession, *, factor: str, phone: str, addresses: tuple[str, ...], now: datetime
    ) -> None:
        """Make sure the rows exist (with no failures), so that they can be locked."""
        insert = insert_ignoring_conflicts(session, SignInThrottle.__table__)  # type: ignore[arg-type]
        for address in addresses:
            await session.execute(
                insert,
                {
                    "phone": phone,
                    "factor": factor,
                    "client_address": address,
                    "failures": 0,
                    "last_failure_at": now,
                    "blocked_until": None,
                },
            )

    def _forgotten(self, row: SignInThrottle, now: datetime) -> bool:
        return row.last_failure_at < now - self._policy.client_memory

    @staticmethod
    def _refusal(factor: str, scope: str, wait: timedelta, message: str) -> ResourceExhausted:
        return ResourceExhausted(
            message,
            reason="SIGN_IN_THROTTLED",
            metadata={"scope": scope, "factor": factor},
            retry_after_seconds=_seconds(wait),
        )
