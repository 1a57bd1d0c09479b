"""Signing keys: Ed25519 (JWS "EdDSA"), rotated by age or on demand.

The newest unretired key signs. Retired keys stay in the JWKS until every token
they signed has expired (access-token lifetime plus leeway), so rotation never
invalidates a token early. Private keys are stored PEM-encrypted with the
configured passphrase. Several replicas share the table; each caches what it
read for a short time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from identity.sessions.models import SigningKey
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.ids import new_id

ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    private_key: Ed25519PrivateKey


class SigningKeyStore:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        passphrase: bytes,
        max_age: timedelta,
        publish_after_retirement: timedelta,
        cache_seconds: float = 10.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._passphrase = passphrase
        self._max_age = max_age
        self._grace = publish_after_retirement
        self._cache_seconds = cache_seconds
        self._active: ActiveKey | None = None
        self._active_read = 0.0
        self._jwks: list[dict[str, Any]] = []
        self._jwks_read = 0.0
        self._lock = asyncio.Lock()

    async def active(self) -> ActiveKey:
        if self._active is not None and time.monotonic() - self._active_read < self._cache_seconds:
            return self._active
        async with self._lock:
            if self._active is None or time.monotonic() - self._active_read >= self._cache_seconds:
                self._active = await self._load_or_create()
                self._active_read = time.monotonic()
        return self._active

    async def _load_or_create(self) -> ActiveKey:
        async with self._db.transaction() as session:
            row = await session.scalar(
                sa.select(SigningKey)
                .where(SigningKey.retired_at.is_(None))
                .order_by(SigningKey.created_at.desc(), SigningKey.kid.desc())
                .limit(1)
            )
            if row is None or self._clock.now() - row.created_at > self._max_age:
                row = await self._create(session, retire=row)
            key = serialization.load_pem_private_key(row.private_pem.encode(), password=self._passphrase)
            assert isinstance(key, Ed25519PrivateKey)
            return ActiveKey(kid=row.kid, private_key=key)

    async def _create(self, session: Any, *, retire: SigningKey | None) -> SigningKey:
        now = self._clock.now()
        if retire is not None:
            retire.retired_at = now
        private = Ed25519PrivateKey.generate()
        kid = new_id()
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
        jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
        row = SigningKey(
            kid=kid,
            algorithm=ALGORITHM,
            private_pem=private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(self._passphrase),
            ).decode(),
            public_jwk=jwk,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        return row

    async def rotate(self) -> str:
        """Retire the signing key and start a new one; returns the new kid."""
        async with self._lock:
            async with self._db.transaction() as session:
                await session.execute(
                    sa.update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=self._clock.now())
                )
                row = await self._create(session, retire=None)
            self._active = None
            self._jwks_read = 0.0
            return row.kid

    async def jwks(self) -> list[dict[str, Any]]:
        """Public keys that verify tokens still alive: the active one and recently retired ones."""
        if time.monotonic() - self._jwks_read < min(self._cache_seconds, 5.0) and self._jwks:
            return self._jwks
        await self.active()
        cutoff = self._clock.now() - self._grace
        async with self._db.sessions() as session:
            rows = (
                await session.scalars(
                    sa.select(SigningKey)
                    .where(sa.or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > cutoff))
                    .order_by(SigningKey.created_at.desc())
                )
            ).all()
        self._jwks = [dict(r.public_jwk) for r in rows]
        self._jwks_read = time.monotonic()
        return self._jwks

    async def sign(self, claims: dict[str, Any]) -> str:
        # Signing happens inside callers' transactions: use the loaded key even
        # when its cache time has passed (prepare() and maintain() refresh it),
        # so that signing never needs a second database connection.
        key = self._active or await self.active()
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "at+jwt"})

    async def maintain(self, stop: asyncio.Event) -> None:
        """Background task: rotates the key when it grows older than the maximum age."""
        while not stop.is_set():
            try:
                self._active_read = 0.0
                await self.active()
            except Exception:  # noqa: BLE001 - the next pass tries again
                await asyncio.sleep(1)
            try:
                await asyncio.wait_for(stop.wait(), timeout=300)
            except TimeoutError:
                continue
