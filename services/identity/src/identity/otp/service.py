"""Issuing and checking one-time codes.

The rules (DESIGN.md § Identity):

* 6 digits, only an HMAC stored, valid ``ttl`` (5 minutes), single use, bound
  to the challenge they were sent for. The message carrying a code is sealed
  in the outbox (``sensitive``): the code is never stored readable.
* At most ``max_attempts`` (5) wrong tries; then the challenge is locked.
* A new code does not reset the count: a new challenge for the same number,
  purpose and client address starts with the failures of that client's
  previous one (within ``lockout``), and that previous code stops working.
  Challenges other clients asked for are left alone, so that failing (or
  asking for codes) from one address does not stop the number's owner from
  signing in from another.
* Sends are limited within ``send_window``: per number from one client
  address, per client address, and per number from all the addresses the
  number has not signed in from (a ceiling that cannot lock the owner out of
  an address they use); a refused request gets RESOURCE_EXHAUSTED with the
  seconds to wait.
* The answer is the same whether or not the number belongs to a user: a
  challenge is recorded either way, and only a real user's is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from identity import metrics
from identity.notifications.service import Notifier
from identity.otp import codes
from identity.otp.models import EMAIL, PASSWORD_RESET, SMS, OtpChallenge
from identity.signins.throttle import client_key
from identity.users.models import User
from simfleet_runtime.clock import Clock, as_utc
from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import PermissionDenied, ResourceExhausted, Unauthenticated
from simfleet_runtime.ids import is_id, new_id


@dataclass(frozen=True)
class OtpPolicy:
    ttl: timedelta
    max_attempts: int
    lockout: timedelta
    send_window: timedelta
    send_limit_per_phone: int
    send_limit_per_client: int
    send_limit_per_phone_all_clients: int


@dataclass(frozen=True)
class Issued:
    challenge_id: str
    expires_in: int


def _send_counts(known_client: bool) -> sa.Select[Any]:
    """For each send limit, the window's sends and the oldest of them: one statement, built once.

    The limits: the number from this address, this address, and (for an address the number has not
    signed in from) the number from anywhere, in that order.
    """
    c = OtpChallenge
    phone: sa.BindParameter[str] = sa.bindparam("phone")
    client: sa.BindParameter[str] = sa.bindparam("client")
    conditions: list[sa.ColumnElement[bool]] = [sa.and_(c.phone == phone, c.client_address == client)]
    conditions.append(c.client_address == client)
    if not known_client:
        conditions.append(c.phone == phone)
    columns: list[sa.ColumnElement[Any]] = []
    for condition in conditions:
        columns.append(sa.func.count(sa.case((condition, 1))))
        columns.append(sa.func.min(sa.case((condition, c.created_at))))
    return sa.select(*columns).where(
        c.created_at >= sa.bindparam("since", type_=c.created_at.type),
        sa.or_(c.phone == phone, c.client_address == client),
    )


_SEND_COUNTS = {known: _send_counts(known) for known in (True, False)}


class OtpService:
    def __init__(self, *, clock: Clock, notifier: Notifier, pepper: bytes, policy: OtpPolicy) -> None:
        self._clock = clock
        self._notifier = notifier
        self._pepper = pepper
        self._policy = policy

    async def issue(
        self,
        session: AsyncSession,
        *,
        phone: str,
        user: User | None,
        channel: str,
        purpose: str,
        call: CallContext,
        known_client: bool,
    ) -> Issued:
        """Record a challenge (and send its code to a real user).

        ``known_client``: the number signed in from this client address before,
        so the ceiling of sends to the number from all addresses does not apply.
        """
        now = self._clock.now()
        client = client_key(call.client_address)
        await self._check_send_limits(session, phone=phone, client=client, now=now, known_client=known_client)
        previous = await session.scalar(
            sa.select(OtpChallenge)
            .where(
                OtpChallenge.phone == phone,
                OtpChallenge.purpose == purpose,
                OtpChallenge.client_address == client,
                OtpChallenge.consumed_at.is_(None),
                OtpChallenge.superseded_at.is_(None),
                OtpChallenge.created_at >= now - self._policy.lockout,
            )
            .order_by(OtpChallenge.created_at.desc())
            .limit(1)
        )
        carried = 0
        if previous is not None:
            carried = previous.attempts
            previous.superseded_at = now
        challenge_id = new_id()
        code = codes.new_code()
        challenge = OtpChallenge(
            id=challenge_id,
            purpose=purpose,
            channel=channel,
            phone=phone,
            user_id=user.id if user is not None else None,
            code_hash=codes.code_hash(self._pepper, challenge_id, code),
            attempts=carried,
            client_address=client,
            created_at=now,
            expires_at=now + self._policy.ttl,
        )
        session.add(challenge)
        if user is not None and user.active and carried < self._policy.max_attempts:
            await self._deliver(session, user=user, channel=channel, purpose=purpose, code=code)
        return Issued(challenge_id, int(self._policy.ttl.total_seconds()))

    async def _check_send_limits(
        self, session: AsyncSession, *, phone: str, client: str, now: datetime, known_client: bool
    ) -> None:
        """Refuse when a send limit is reached: one statement counts the window's sends for every limit."""
        limits = [("phone_client", self._policy.send_limit_per_phone), ("client", self._policy.send_limit_per_client)]
        if not known_client:
            limits.append(("phone", self._policy.send_limit_per_phone_all_clients))
        row = (
            await session.execute(
                _SEND_COUNTS[known_client], {"phone": phone, "client": client, "since": now - self._policy.send_window}
            )
        ).one()
        for index, (scope, limit) in enumerate(limits):
            count, oldest = row[2 * index], row[2 * index + 1]
            if count >= limit:
                metrics.OTP_THROTTLED.labels(scope).inc()
                oldest = as_utc(oldest) if isinstance(oldest, datetime) else None
                wait = (oldest + self._policy.send_window - now).total_seconds() if oldest is not None else 60
                raise ResourceExhausted(
                    "too many codes were requested; try again later",
                    reason="OTP_SEND_LIMIT",
                    metadata={"scope": scope},
                    retry_after_seconds=max(1, int(wait) + 1),
                )

    async def _deliver(self, session: AsyncSession, *, user: User, channel: str, purpose: str, code: str) -> None:
        minutes = int(self._policy.ttl.total_seconds() // 60)
        what = "password reset code" if purpose == PASSWORD_RESET else "sign-in code"
        text = f"SIMfleet {what}: {code}. Valid for {minutes} minutes. Never share it with anyone."
        if channel == SMS:
            await self._notifier.sms(session, to=user.phone, text=text, tenant=user.customer_id, sensitive=True)
        elif channel == EMAIL and user.email:
            await self._notifier.email(
                session,
                to=user.email,
                subject=f"Your SIMfleet {what}",
                body=f"Hello {user.display_name},\n\n{text}\n\nIf you did not ask for it, ignore this message.\n",
                tenant=user.customer_id,
                sensitive=True,
            )
        else:
            return
        metrics.OTP_SENT.labels(channel, purpose).inc()

    async def verify(
        self, session: AsyncSession, *, challenge_id: str, code: str, purpose: str, locked: bool = False
    ) -> OtpChallenge:
        """Check a code. On success the challenge is consumed and returned.

        Failures raise; the caller commits the session anyway so that the
        counted attempt is kept (see :meth:`attempt`). ``locked``: the caller
        already loaded the challenge ``FOR UPDATE`` in ``session`` (it is taken
        from the session, not read again).
        """
        invalid = Unauthenticated("the code is not valid", reason="OTP_INVALID")
        if not is_id(challenge_id):
            raise invalid
        challenge = await session.get(OtpChallenge, challenge_id, with_for_update=not locked)
        if challenge is None or challenge.purpose != purpose:
            metrics.OTP_VERIFIED.labels("invalid").inc()
            raise invalid
        now = self._clock.now()
        if challenge.consumed_at is not None or challenge.superseded_at is not None:
            metrics.OTP_VERIFIED.labels("invalid").inc()
            raise Unauthenticated("the code was already used or replaced by a newer one", reason="OTP_INVALID")
        if challenge.attempts >= self._policy.max_attempts:
            metrics.OTP_VERIFIED.labels("locked").inc()
            raise PermissionDenied("too many wrong codes; request a new code later", reason="OTP_LOCKED")
        if now >= challenge.expires_at:
            metrics.OTP_VERIFIED.labels("expired").inc()
            raise Unauthenticated("the code has expired; request a new one", reason="OTP_EXPIRED")
        if challenge.user_id is None or not codes.code_matches(self._pepper, challenge.id, code, challenge.code_hash):
            challenge.attempts += 1
            left = self._policy.max_attempts - challenge.attempts
            metrics.OTP_VERIFIED.labels("invalid" if left > 0 else "locked").inc()
            if left <= 0:
                raise PermissionDenied("too many wrong codes; request a new code later", reason="OTP_LOCKED")
            raise Unauthenticated("the code is not valid", reason="OTP_INVALID", metadata={"attempts_left": str(left)})
        challenge.consumed_at = now
        metrics.OTP_VERIFIED.labels("succeeded").inc()
        return challenge
