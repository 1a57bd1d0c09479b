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
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from identity import metrics
from identity.notifications.service import Notifier
from identity.otp import codes
from identity.otp.models import EMAIL, PASSWORD_RESET, SMS, OtpChallenge
from identity.signins.throttle import client_key
from identity.users.models import SignInUser
from simfleet_runtime.clock import Clock, as_utc
from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import DomainError, PermissionDenied, ResourceExhausted, Unauthenticated
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


_CHALLENGES: sa.Table = OtpChallenge.__table__  # type: ignore[assignment]


class Pending(Protocol):
    """A challenge as :meth:`OtpService.pending` reads it."""

    @property
    def id(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def code_hash(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def consumed_at(self) -> datetime | None: ...
    @property
    def superseded_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Refusal:
    """Why a code was refused; ``counted``: the try counted against its challenge (a wrong code)."""

    error: DomainError
    counted: bool = False


def _send_counts(known_client: bool) -> sa.Select[Any]:
    """For each send limit, the window's sends and the oldest of them: one statement, built once.

    The limits: the number from this address, this address, and (for an address the number has not
    signed in from) the number from anywhere, in that order. Each part reads one index: the number's
    sends from its index; the address's from its own, counted only up to the limit
    (``client_limit``): an address many numbers sign in from (a company's gateway) has thousands
    of sends in the window, and whether they reach the limit is all that matters.
    """
    c = _CHALLENGES.c
    client: sa.BindParameter[str] = sa.bindparam("client")
    since = sa.bindparam("since", type_=c.created_at.type)
    from_client = sa.and_(c.client_address == client, c.created_at >= since)
    window = sa.select(sa.literal(1)).where(from_client).limit(sa.bindparam("client_limit", type_=sa.Integer))
    columns: list[sa.ColumnElement[Any]] = [
        sa.func.count(sa.case((c.client_address == client, 1))),
        sa.func.min(sa.case((c.client_address == client, c.created_at))),
        sa.select(sa.func.count()).select_from(window.subquery()).scalar_subquery(),
        sa.select(sa.func.min(c.created_at)).where(from_client).scalar_subquery(),
    ]
    if not known_client:
        columns += [sa.func.count(), sa.func.min(c.created_at)]
    return sa.select(*columns).where(c.phone == sa.bindparam("phone"), c.created_at >= since)


_SEND_COUNTS = {known: _send_counts(known) for known in (True, False)}

_SUPERSEDE = (
    sa.update(_CHALLENGES)
    .where(
        _CHALLENGES.c.phone == sa.bindparam("b_phone"),
        _CHALLENGES.c.purpose == sa.bindparam("b_purpose"),
        _CHALLENGES.c.client_address == sa.bindparam("b_client"),
        _CHALLENGES.c.consumed_at.is_(None),
        _CHALLENGES.c.superseded_at.is_(None),
        _CHALLENGES.c.created_at >= sa.bindparam("b_since", type_=_CHALLENGES.c.created_at.type),
    )
    .values(superseded_at=sa.bindparam("b_now", type_=_CHALLENGES.c.superseded_at.type))
    .returning(_CHALLENGES.c.attempts)
)
"""The client's live challenge for the number and purpose stops working; its wrong tries carry over (one statement)."""
_INSERT_CHALLENGE = sa.insert(_CHALLENGES)
_PENDING = (
    sa.select(
        _CHALLENGES.c.id,
        _CHALLENGES.c.purpose,
        _CHALLENGES.c.channel,
        _CHALLENGES.c.phone,
        _CHALLENGES.c.user_id,
        _CHALLENGES.c.code_hash,
        _CHALLENGES.c.attempts,
        _CHALLENGES.c.expires_at,
        _CHALLENGES.c.consumed_at,
        _CHALLENGES.c.superseded_at,
    )
    .where(_CHALLENGES.c.id == sa.bindparam("id"))
    .with_for_update()
)
"""A challenge being verified, held (``FOR UPDATE``) until the attempt is recorded."""
_COUNT_WRONG = (
    sa.update(_CHALLENGES).where(_CHALLENGES.c.id == sa.bindparam("b_id")).values(attempts=_CHALLENGES.c.attempts + 1)
)
_CONSUME = (
    sa.update(_CHALLENGES)
    .where(
        _CHALLENGES.c.id == sa.bindparam("b_id"),
        _CHALLENGES.c.consumed_at.is_(None),
        _CHALLENGES.c.superseded_at.is_(None),
    )
    .values(consumed_at=sa.bindparam("b_now", type_=_CHALLENGES.c.consumed_at.type))
)
"""Spends a code: only a live challenge is consumed, so a code is never accepted twice."""


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
        user: SignInUser | None,
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
        carried = max(
            (
                await session.scalars(
                    _SUPERSEDE,
                    {
                        "b_phone": phone,
                        "b_purpose": purpose,
                        "b_client": client,
                        "b_since": now - self._policy.lockout,
                        "b_now": now,
                    },
                )
            ).all(),
            default=0,
        )
        challenge_id = new_id()
        code = codes.new_code()
        await session.execute(
            _INSERT_CHALLENGE,
            {
                "id": challenge_id,
                "purpose": purpose,
                "channel": channel,
                "phone": phone,
                "user_id": user.id if user is not None else None,
                "code_hash": codes.code_hash(self._pepper, challenge_id, code),
                "attempts": carried,
                "client_address": client,
                "created_at": now,
                "expires_at": now + self._policy.ttl,
                "consumed_at": None,
                "superseded_at": None,
            },
        )
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
                _SEND_COUNTS[known_client],
                {
                    "phone": phone,
                    "client": client,
                    "since": now - self._policy.send_window,
                    "client_limit": self._policy.send_limit_per_client,
                },
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

    async def _deliver(self, session: AsyncSession, *, user: SignInUser, channel: str, purpose: str, code: str) -> None:
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

    @staticmethod
    async def pending(session: AsyncSession, challenge_id: str) -> Pending | None:
        """The challenge a code is checked against, held until the transaction ends (None: no such challenge)."""
        if not is_id(challenge_id):
            return None
        found: Pending | None = (await session.execute(_PENDING, {"id": challenge_id})).first()
        return found

    async def verify(
        self, session: AsyncSession, *, challenge: Pending | None, code: str, purpose: str
    ) -> Refusal | None:
        """Check a code against ``challenge`` (from :meth:`pending`, in ``session``); None when it is accepted.

        An accepted code consumes its challenge. A wrong one is counted on the
        challenge, and the caller commits the session anyway so that the count is kept.
        """
        if challenge is None or challenge.purpose != purpose:
            metrics.OTP_VERIFIED.labels("invalid").inc()
            return Refusal(Unauthenticated("the code is not valid", reason="OTP_INVALID"))
        now = self._clock.now()
        used = Refusal(Unauthenticated("the code was already used or replaced by a newer one", reason="OTP_INVALID"))
        if challenge.consumed_at is not None or challenge.superseded_at is not None:
            metrics.OTP_VERIFIED.labels("invalid").inc()
            return used
        if challenge.attempts >= self._policy.max_attempts:
            metrics.OTP_VERIFIED.labels("locked").inc()
            return Refusal(PermissionDenied("too many wrong codes; request a new code later", reason="OTP_LOCKED"))
        if now >= challenge.expires_at:
            metrics.OTP_VERIFIED.labels("expired").inc()
            return Refusal(Unauthenticated("the code has expired; request a new one", reason="OTP_EXPIRED"))
        if challenge.user_id is None or not codes.code_matches(self._pepper, challenge.id, code, challenge.code_hash):
            await session.execute(_COUNT_WRONG, {"b_id": challenge.id})
            left = self._policy.max_attempts - (challenge.attempts + 1)
            metrics.OTP_VERIFIED.labels("invalid" if left > 0 else "locked").inc()
            if left <= 0:
                error: DomainError = PermissionDenied(
                    "too many wrong codes; request a new code later", reason="OTP_LOCKED"
                )
            else:
                error = Unauthenticated(
                    "the code is not valid", reason="OTP_INVALID", metadata={"attempts_left": str(left)}
                )
            return Refusal(error, counted=True)
        consumed = await session.execute(_CONSUME, {"b_id": challenge.id, "b_now": now})
        if consumed.rowcount != 1:  # type: ignore[attr-defined]
            metrics.OTP_VERIFIED.labels("invalid").inc()
            return used
        metrics.OTP_VERIFIED.labels("succeeded").inc()
        return None
