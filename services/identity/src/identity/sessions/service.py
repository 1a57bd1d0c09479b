"""Opening, refreshing, checking and ending sessions (ID-7).

* An access token is an EdDSA JWT living ``access_token_ttl`` (10 minutes).
* A refresh token is 256 random bits; only its SHA-256 is stored. Each refresh
  spends it and hands out a new one. Presenting a spent one means it leaked:
  the whole session is revoked, except within ``reuse_grace`` (seconds) of its
  spending while its successor is still unspent: two browser tabs refreshing
  at the same moment both get the same successor (and each a new access
  token). The successor is derived, HMAC(key, spent token), so nothing
  readable is stored to hand it out twice.
* A session ends after ``idle_timeout`` without a refresh or an identity call
  (20 minutes), and ``absolute_timeout`` after sign-in whatever happens
  (12 hours). A call's activity is recorded to within ``ACTIVITY_RESOLUTION``
  (a call within that time of the recorded one writes nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from identity import metrics
from identity.grants import service as grants
from identity.grants.roles import OPERATOR_ROLES
from identity.sessions.keys import SigningKeyStore
from identity.sessions.models import RefreshToken, Session
from identity.users.models import SignInUser, User
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.audit import set_actor
from simfleet_runtime.auth import Principal, TokenVerifier
from simfleet_runtime.authz import GRANTS_CLAIM, GRANTS_VERSION_CLAIM, OPERATOR_CLAIM, grants_claim
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.context import CallContext
from simfleet_runtime.db import Database
from simfleet_runtime.errors import Unauthenticated
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import IdentitySubjects

ACTIVITY_RESOLUTION = timedelta(seconds=30)
"""How stale a session's recorded activity may get before a call writes it again."""


class SessionRecord(Protocol):
    """What a call learns of its session: the stored row, or its columns as read directly."""

    id: str
    user_id: str
    customer_id: str
    method: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


_LIVE_SESSION = sa.select(
    Session.id,
    Session.user_id,
    Session.customer_id,
    Session.method,
    Session.created_at,
    Session.last_seen_at,
    Session.expires_at,
    Session.revoked_at,
).where(Session.id == sa.bindparam("id"))
"""The caller's session, read on every authenticated call (on the driver: see simfleet_runtime.direct_reads)."""


_SESSIONS: sa.Table = Session.__table__  # type: ignore[assignment]
_REFRESH_TOKENS: sa.Table = RefreshToken.__table__  # type: ignore[assignment]
_INSERT_SESSION = sa.insert(_SESSIONS)
_INSERT_REFRESH_TOKEN = sa.insert(_REFRESH_TOKENS)
"""Built once: every sign-in writes a session and its first refresh token (values as parameters)."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


@dataclass(frozen=True)
class SessionPolicy:
    issuer: str
    audience: str
    access_ttl: timedelta
    idle_timeout: timedelta
    absolute_timeout: timedelta
    reuse_grace: timedelta = timedelta(seconds=10)
    successor_key: bytes = b"simfleet-local-refresh-tokens"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        keys: SigningKeyStore,
        verifier: TokenVerifier,
        outbox: Outbox,
        policy: SessionPolicy,
    ) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys
        self._verifier = verifier
        self._outbox = outbox
        self._policy = policy

    async def prepare(self) -> None:
        """Make sure a signing key is loaded before a transaction needs one.

        Creating the first key takes its own transaction, which must not wait
        on the caller's (SQLite has one writer at a time).
        """
        await self._keys.active()

    async def open(self, session: AsyncSession, *, user: SignInUser, method: str, call: CallContext) -> Tokens:
        """Start a session for ``user`` inside the caller's transaction: two inserts and one read of the grants."""
        now = self._clock.now()
        session_id = new_id()
        await session.execute(
            _INSERT_SESSION,
            {
                "id": session_id,
                "user_id": user.id,
                "customer_id": user.customer_id,
                "method": method,
                "client_address": call.client_address,
                "user_agent": call.user_agent,
                "created_at": now,
                "last_seen_at": now,
                "expires_at": now + self._policy.absolute_timeout,
            },
        )
        refresh = await self._new_refresh_token(session, session_id, now)
        access = await self._access_token(session, user=user, session_id=session_id, method=method, now=now)
        return Tokens(access, refresh, int(self._policy.access_ttl.total_seconds()), session_id)

    def _successor(self, spent: str) -> str:
        digest = hmac.new(self._policy.successor_key, b"refresh-successor:" + spent.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()

    async def _new_refresh_token(
        self, session: AsyncSession, session_id: str, now: datetime, *, spent: str = ""
    ) -> str:
        token = self._successor(spent) if spent else secrets.token_urlsafe(32)
        await session.execute(
            _INSERT_REFRESH_TOKEN,
            {"id": new_id(), "session_id": session_id, "token_hash": _hash(token), "created_at": now, "used_at": None},
        )
        return token

    async def _access_token(
        self, session: AsyncSession, *, user: SignInUser, session_id: str, method: str, now: datetime
    ) -> str:
        """A signed token with the user's grants as they are now: a changed grant shows from the next refresh."""
        issued = int(now.timestamp())
        extra: dict[str, object] = {
            GRANTS_CLAIM: grants_claim(await grants.for_token(session, user.id)),
            GRANTS_VERSION_CLAIM: user.grants_version,
        }
        operator = OPERATOR_ROLES.get(user.operator_role or "")
        if operator is not None:
            extra = {OPERATOR_CLAIM: {"role": operator.id, "perms": sorted(operator.permissions)}}
        return await self._keys.sign(
            {
                "iss": self._policy.issuer,
                "aud": self._policy.audience,
                "sub": user.id,
                "cid": user.customer_id,
                "sid": session_id,
                "amr": [method],
                **extra,
                "jti": new_id(),
                "iat": issued,
                "nbf": issued,
                "exp": issued + int(self._policy.access_ttl.total_seconds()),
            }
        )

    async def refresh(self, refresh_token: str) -> Tokens:
        await self.prepare()
        now = self._clock.now()
        failure: tuple[str, str, str] | None = None
        tokens: Tokens | None = None
        async with self._db.transaction() as session:
            token = await session.scalar(sa.select(RefreshToken).where(RefreshToken.token_hash == _hash(refresh_token)))
            if token is None:
                raise Unauthenticated("the refresh token is not valid", reason="REFRESH_TOKEN_INVALID")
            record = await session.get(Session, token.session_id)
            assert record is not None
            if record.revoked_at is not None:
                raise Unauthenticated("the session has ended; sign in again", reason="SESSION_ENDED")
            spent = await session.execute(
                sa.update(RefreshToken)
                .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
                .values(used_at=now)
            )
            user = await session.get(User, record.user_id)
            ended = self._ended(record, now)
            replay = spent.rowcount != 1  # type: ignore[attr-defined]
            if replay and not await self._within_grace(session, token.id, self._successor(refresh_token), now):
                failure = (
                    "refresh_reuse",
                    "REFRESH_TOKEN_REUSED",
                    "the refresh token was already used; the session is revoked for safety",
                )
            elif ended is not None:
                failure = (ended[0], "SESSION_EXPIRED", ended[1])
            elif user is None or not user.active:
                failure = ("user_disabled", "USER_DISABLED", "the user is disabled")
            if failure is not None:
                await self._revoke(session, record, failure[0], now)
            else:
                assert user is not None
                record.last_seen_at = now
                if replay:  # the same successor the first of the two refreshes handed out
                    new_refresh = self._successor(refresh_token)
                else:
                    new_refresh = await self._new_refresh_token(session, record.id, now, spent=refresh_token)
                access = await self._access_token(
                    session, user=user, session_id=record.id, method=record.method, now=now
                )
                tokens = Tokens(access, new_refresh, int(self._policy.access_ttl.total_seconds()), record.id)
        if failure is not None:
            raise Unauthenticated(failure[2], reason=failure[1])
        assert tokens is not None
        return tokens

    async def _within_grace(self, session: AsyncSession, token_id: str, successor: str, now: datetime) -> bool:
        """A spent token presented again moments after it was spent, its successor not yet used: a second tab."""
        used_at = await session.scalar(sa.select(RefreshToken.used_at).where(RefreshToken.id == token_id))
        if used_at is None or now - used_at > self._policy.reuse_grace:
            return False
        successor_used = await session.execute(
            sa.select(RefreshToken.used_at).where(RefreshToken.token_hash == _hash(successor))
        )
        row = successor_used.first()
        return row is not None and row[0] is None

    @staticmethod
    def _check_known(record: SessionRecord | None, principal: Principal) -> None:
        if record is None or record.user_id != principal.user_id:
            raise Unauthenticated("the session is not known", reason="SESSION_ENDED")
        if record.revoked_at is not None:
            raise Unauthenticated("the session has ended; sign in again", reason="SESSION_ENDED")

    def _ended(self, record: SessionRecord, now: datetime) -> tuple[str, str] | None:
        if now >= record.expires_at:
            return ("absolute_timeout", "the session reached its 12-hour limit; sign in again")
        if now - record.last_seen_at >= self._policy.idle_timeout:
            return ("idle_timeout", "the session ended after inactivity; sign in again")
        return None

    async def _revoke(self, session: AsyncSession, record: Session, reason: str, now: datetime) -> None:
        if record.revoked_at is not None:
            return
        record.revoked_at = now
        record.revoke_reason = reason
        metrics.SESSIONS_REVOKED.labels(reason).inc()
        await self._outbox.add(
            session,
            IdentitySubjects.SESSION_REVOKED,
            ev.SessionRevoked(session_id=record.id, user_id=record.user_id, reason=reason, occurred_at=timestamp(now)),
            tenant=record.customer_id,
        )

    async def authenticate(self, call: CallContext) -> tuple[Principal, SessionRecord]:
        """The caller's verified token and live session; records the activity."""
        principal = await self._verifier.verify(call.bearer_token)
        now = self._clock.now()
        # A read, most of the time: the activity is written only when the one
        # recorded is ACTIVITY_RESOLUTION old, so reads do not queue behind
        # writes (SQLite has one writer) nor write on every call.
        record: SessionRecord | None = await self._db.direct.first(_LIVE_SESSION, {"id": principal.session_id})
        self._check_known(record, principal)
        assert record is not None
        ended = self._ended(record, now)
        stale = now - record.last_seen_at >= ACTIVITY_RESOLUTION
        if ended is not None or stale:
            async with self._db.transaction() as session:
                stored = await session.get(Session, principal.session_id, with_for_update=True)
                self._check_known(stored, principal)
                assert stored is not None
                ended = self._ended(stored, now)
                if ended is not None:
                    await self._revoke(session, stored, ended[0], now)
                elif stored.last_seen_at < now:
                    stored.last_seen_at = now
                record = stored
        if ended is not None:
            raise Unauthenticated(ended[1], reason="SESSION_EXPIRED")
        set_actor(principal.user_id, principal.customer_id)
        return principal, record

    async def sign_out(self, *, call: CallContext, refresh_token: str) -> None:
        now = self._clock.now()
        session_id = ""
        if call.bearer_token:
            principal = await self._verifier.verify(call.bearer_token)
            session_id = principal.session_id
        elif refresh_token:
            async with self._db.sessions() as session:
                token = await session.scalar(
                    sa.select(RefreshToken).where(RefreshToken.token_hash == _hash(refresh_token))
                )
            if token is None:
                raise Unauthenticated("the refresh token is not valid", reason="REFRESH_TOKEN_INVALID")
            session_id = token.session_id
        else:
            raise Unauthenticated("an access token or a refresh token is required", reason="TOKEN_MISSING")
        async with self._db.transaction() as session:
            record = await session.get(Session, session_id)
            if record is not None:
                await self._revoke(session, record, "sign_out", now)

    async def revoke_all(self, session: AsyncSession, *, user_id: str, reason: str, keep: str | None = None) -> None:
        now = self._clock.now()
        query = sa.select(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
        if keep:
            query = query.where(Session.id != keep)
        for record in (await session.scalars(query)).all():
            await self._revoke(session, record, reason, now)
