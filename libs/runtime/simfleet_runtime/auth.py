"""Verifying SIMfleet access tokens, in every service.

Identity signs access tokens (EdDSA, Ed25519) and publishes the public keys as a
JWKS. Each service verifies the caller's token itself rather than trusting the
gateway: algorithm allow-listed, ``iss``, ``aud``, ``exp``, ``nbf`` checked
against the service's clock, key looked up by ``kid``. The key set is cached and
fetched again when a token names a key it does not know (key rotation), at
most once per ``refresh_interval``.

A token verified once is remembered (by its exact text, up to
``VERIFIED_TOKENS`` of them): a client sends the same token with every call for
its lifetime, and checking the signature again each time was a tenth of a
read's CPU. A remembered token still has its times checked on every call, and
is refused once its key leaves the key set; revocations are checked by the
caller (:mod:`simfleet_runtime.revocations`) whatever the cache says.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

from simfleet_runtime.audit import OPERATOR, set_actor
from simfleet_runtime.clock import Clock
from simfleet_runtime.context import current_call
from simfleet_runtime.errors import PermissionDenied, Unauthenticated, Unavailable

ALLOWED_ALGORITHMS = ("EdDSA", "ES256")
DEFAULT_ISSUER = "simfleet-identity"
DEFAULT_AUDIENCE = "simfleet"

JwksFetcher = Callable[[], Awaitable[Sequence[dict[str, Any]]]]
VERIFIED_TOKENS = 10_000
"""How many verified tokens a service remembers (the oldest is forgotten first)."""


@dataclass(frozen=True)
class Principal:
    """The verified caller."""

    user_id: str
    customer_id: str
    session_id: str
    token_id: str
    expires_at: float
    claims: dict[str, Any] = field(default_factory=dict)


class JwksCache:
    """Public keys by ``kid``, from a fetcher (identity's own store, or its GetJwks call)."""

    def __init__(self, fetch: JwksFetcher, *, refresh_interval: float = 30.0) -> None:
        self._fetch = fetch
        self._keys: dict[str, jwt.PyJWK] = {}
        # Never fetched: the first unknown kid fetches at once, however short the uptime.
        self._fetched_at = float("-inf")
        self._refresh_interval = refresh_interval
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self._refresh_interval:
                await self.refresh()
        return self._keys.get(kid)

    async def refresh(self) -> None:
        try:
            keys = await self._fetch()
        except Exception as exc:
            raise Unavailable("the signing keys cannot be fetched now", reason="JWKS_UNAVAILABLE") from exc
        self._keys = {k["kid"]: jwt.PyJWK(dict(k)) for k in keys if k.get("kid")}
        self._fetched_at = time.monotonic()

    def invalidate(self) -> None:
        self._fetched_at = float("-inf")


class TokenVerifier:
    def __init__(
        self,
        *,
        keys: JwksCache,
        clock: Clock,
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
        algorithms: Sequence[str] = ALLOWED_ALGORITHMS,
        leeway_seconds: float = 5.0,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._algorithms = tuple(algorithms)
        self._leeway = leeway_seconds
        self._verified: dict[str, tuple[Principal, str, float]] = {}
        """token → (its principal, its key's kid, its not-before), in the order they were verified."""

    async def verify(self, token: str) -> Principal:
        if not token:
            raise Unauthenticated("an access token is required", reason="TOKEN_MISSING")
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, kid, not_before = remembered
            self._check_times(principal.expires_at, not_before)
            if await self._keys.key(kid) is None:
                self._verified.pop(token, None)
                raise Unauthenticated("the access token's key is unknown", reason="TOKEN_INVALID")
            return principal
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the access token is malformed", reason="TOKEN_INVALID") from exc
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise Unauthenticated("the access token's algorithm is not accepted", reason="TOKEN_INVALID")
        key = await self._keys.key(str(header.get("kid", "")))
        if key is None:
            raise Unauthenticated("the access token's key is unknown", reason="TOKEN_INVALID")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": ["exp", "iat", "sub", "iss", "aud", "jti"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the access token is not valid", reason="TOKEN_INVALID") from exc
        not_before = float(claims.get("nbf", claims["iat"]))
        self._check_times(float(claims["exp"]), not_before)
        principal = Principal(
            user_id=str(claims["sub"]),
            customer_id=str(claims.get("cid", "")),
            session_id=str(claims.get("sid", "")),
            token_id=str(claims["jti"]),
            expires_at=float(claims["exp"]),
            claims=claims,
        )
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (principal, str(header.get("kid", "")), not_before)
        return principal

    def _check_times(self, expires_at: float, not_before: float) -> None:
        now = self._clock.timestamp()
        if expires_at < now - self._leeway:
            raise Unauthenticated("the access token has expired", reason="TOKEN_EXPIRED")
        if not_before > now + self._leeway:
            raise Unauthenticated("the access token is not valid yet", reason="TOKEN_INVALID")

    async def current(self) -> Principal:
        """The verified caller of the current gRPC call."""
        return await self.verify(current_call().bearer_token)


def require_operator_key(configured: str) -> None:
    """Refuse the current call unless it presents the operator key (constant-time; an empty key refuses all).

    The key is for automation inside the platform (the local seed, creating the
    first operator staff member); people use their access tokens.
    """
    presented = current_call().operator_key.encode()
    if not presented:
        raise Unauthenticated("the operator key is required", reason="OPERATOR_KEY_MISSING")
    if not configured or not hmac.compare_digest(presented, configured.encode()):
        raise PermissionDenied("the operator key is not valid", reason="OPERATOR_KEY_INVALID")
    set_actor(OPERATOR, "", OPERATOR)


def grpc_jwks_fetcher(channel: Any) -> JwksFetcher:
    """Fetch identity's JWKS over gRPC (for services other than identity)."""
    from simfleet.identity.v1 import auth_pb2, auth_pb2_grpc

    stub = auth_pb2_grpc.AuthServiceStub(channel)

    async def fetch() -> list[dict[str, Any]]:
        response = await stub.GetJwks(auth_pb2.GetJwksRequest(), timeout=3.0)
        return [{"kty": k.kty, "crv": k.crv, "x": k.x, "kid": k.kid, "alg": k.alg, "use": k.use} for k in response.keys]

    return fetch
