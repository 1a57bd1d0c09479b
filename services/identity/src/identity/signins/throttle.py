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
from typing import Any

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


_THROTTLES: sa.Table = SignInThrottle.__table__  # type: ignore[assignment]


def _rows(addresses: int, *, lock: bool) -> sa.Select[Any]:
    c = _THROTTLES.c
    query = (
        sa.select(c.client_address, c.failures, c.last_failure_at, c.blocked_until)
        .where(
            c.phone == sa.bindparam("phone"),
            c.factor == sa.bindparam("factor"),
            # A fixed number of addresses (one or two): a plain IN, compiled once, not an expanding one.
            c.client_address.in_([sa.bindparam(f"address{i}") for i in range(addresses)]),
        )
        .order_by(c.client_address)
    )
    return query.with_for_update() if lock else query


_ROWS = {n: _rows(n, lock=False) for n in (1, 2)}
_ROWS_LOCKED = {n: _rows(n, lock=True) for n in (1, 2)}
_FORGET = sa.delete(_THROTTLES).where(
    _THROTTLES.c.phone == sa.bindparam("phone"),
    _THROTTLES.c.client_address.in_([sa.bindparam("client"), EVERY_CLIENT]),
)
"""A sign-in forgets its client's failures and the number's ceilings (every successful sign-in): built once."""


def _is_sqlite(session: AsyncSession) -> bool:
    bind = session.bind
    return bind is not None and bind.dialect.name == "sqlite"


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
        SQLite's write transaction holds the whole database from its start
        (``BEGIN IMMEDIATE``): there the rows are only read.
        """
        now = self._clock.now()
        addresses = self._addresses(factor, client)
        lock = lock and not _is_sqlite(session)
        if lock:
            await self._claim(session, factor=factor, phone=phone, addresses=addresses, now=now)
        rows = await session.execute(
            _ROWS_LOCKED[len(addresses)] if lock else _ROWS[len(addresses)],
            {"phone": phone, "factor": factor, **{f"address{i}": a for i, a in enumerate(addresses)}},
        )
        for address, failures, last_failure_at, blocked_until in rows:
            if address == EVERY_CLIENT:
                if account_wide and failures >= self._policy.account_limit:
                    raise self._refusal(factor, "account", self._policy.backoff_cap, _ACCOUNT_MESSAGES[factor])
            elif (
                blocked_until is not None
                and blocked_until > now
                and not last_failure_at < now - self._policy.client_memory
            ):
                raise self._refusal(
                    factor,
                    "client",
                    blocked_until - now,
                    "too many failed sign-ins from this address; wait before trying again",
                )

    def can_refuse(self, *, factor: str, account_wide: bool) -> bool:
        """Whether :meth:`check` can refuse at all: a wrong code binds only the number's ceiling, when it applies."""
        return factor == PASSWORD or account_wide

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
        await session.execute(_FORGET, {"phone": phone, "client": client})

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
