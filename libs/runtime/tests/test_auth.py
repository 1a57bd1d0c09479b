"""Access-token verification: EdDSA tokens, clock-based expiry, every kind of forgery, key rotation."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from simfleet_runtime.auth import JwksCache, TokenVerifier
from simfleet_runtime.clock import OffsetFileClock
from simfleet_runtime.context import CallContext, reset_current_call, set_current_call
from simfleet_runtime.errors import Unauthenticated
from simfleet_runtime.testing import KeyRing


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


@pytest.fixture
def ring() -> KeyRing:
    ring = KeyRing()
    ring.new_key("k1")
    return ring


@pytest.fixture
def clock_file(tmp_path: Path) -> Path:
    return tmp_path / "clock-offset"


@pytest.fixture
def verifier(ring: KeyRing, clock_file: Path) -> TokenVerifier:
    return TokenVerifier(keys=JwksCache(ring.fetch), clock=OffsetFileClock(clock_file))


async def reason_of(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_a_valid_token_gives_the_principal(verifier: TokenVerifier, ring: KeyRing) -> None:
    token = ring.token("k1")
    principal = await verifier.verify(token)
    assert principal.user_id == "user-1"
    assert principal.customer_id == "01M80FS1VH2MZKYX1PNS53P8M2"
    assert principal.session_id == "session-1"
    assert principal.token_id == "token-1"
    assert principal.expires_at == ring.claims()["exp"]

    call = set_current_call(CallContext.from_metadata([("authorization", f"Bearer {token}")]))
    try:
        assert (await verifier.current()).user_id == "user-1"
    finally:
        reset_current_call(call)


async def test_an_expired_token_is_refused_by_the_service_clock(
    verifier: TokenVerifier, ring: KeyRing, clock_file: Path
) -> None:
    token = ring.token("k1")
    await verifier.verify(token)
    clock_file.write_text("601")  # 10 minutes and a second later; within the 5s leeway
    await asyncio.sleep(0.06)
    await verifier.verify(token)
    clock_file.write_text("620")
    await asyncio.sleep(0.06)
    assert await reason_of(verifier, token) == "TOKEN_EXPIRED"


async def test_a_token_from_the_future_is_refused(verifier: TokenVerifier, ring: KeyRing) -> None:
    now = int(time.time())
    assert await reason_of(verifier, ring.token("k1", iat=now + 120, exp=now + 720)) == "TOKEN_INVALID"
    assert await reason_of(verifier, ring.token("k1", nbf=now + 120)) == "TOKEN_INVALID"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "another-platform"},
        {"iss": "someone-else"},
        {"jti": None},
        {"exp": None},
        {"sub": None},
    ],
    ids=["wrong-aud", "wrong-iss", "no-jti", "no-exp", "no-sub"],
)
async def test_wrong_or_missing_claims_are_refused(
    verifier: TokenVerifier, ring: KeyRing, overrides: dict[str, Any]
) -> None:
    assert await reason_of(verifier, ring.token("k1", **overrides)) == "TOKEN_INVALID"


async def test_forged_tokens_are_refused(verifier: TokenVerifier, ring: KeyRing) -> None:
    claims = ring.claims()
    public_jwk = ring.published[0]

    unsigned = forge({"alg": "none", "typ": "JWT", "kid": "k1"}, claims, lambda _data: b"")
    assert await reason_of(verifier, unsigned) == "TOKEN_INVALID"

    # The classic confusion: HMAC with the public key as the shared secret.
    for secret in (public_jwk["x"].encode(), json.dumps(public_jwk).encode()):
        hs = forge(
            {"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims, lambda data, s=secret: hmac.digest(s, data, "sha256")
        )
        assert await reason_of(verifier, hs) == "TOKEN_INVALID"

    # An allowed algorithm that does not match the key the kid names.
    ec_key = ec.generate_private_key(ec.SECP256R1())
    es = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "k1"})
    assert await reason_of(verifier, es) == "TOKEN_INVALID"

    # Signed by a key identity never published, under a kid it did.
    stranger = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "k1"})
    assert await reason_of(verifier, stranger) == "TOKEN_INVALID"

    # A changed claim under the original signature.
    header, payload, signature = ring.token("k1").split(".")
    raised = b64(json.dumps({**claims, "sub": "admin"}).encode())
    assert await reason_of(verifier, f"{header}.{raised}.{signature}") == "TOKEN_INVALID"
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert await reason_of(verifier, f"{header}.{payload}.{flipped}") == "TOKEN_INVALID"

    unknown = jwt.encode(claims, ring.private["k1"], algorithm="EdDSA", headers={"kid": "k-unknown"})
    assert await reason_of(verifier, unknown) == "TOKEN_INVALID"

    assert await reason_of(verifier, "") == "TOKEN_MISSING"
    assert await reason_of(verifier, "not-a-jwt") == "TOKEN_INVALID"


async def test_a_rotated_key_is_fetched_when_a_token_names_it(ring: KeyRing, clock_file: Path) -> None:
    cache = JwksCache(ring.fetch, refresh_interval=0.2)
    verifier = TokenVerifier(keys=cache, clock=OffsetFileClock(clock_file))
    old_token = ring.token("k1")
    await verifier.verify(old_token)
    assert ring.fetches == 1
    await verifier.verify(old_token)
    assert ring.fetches == 1  # known keys come from the cache

    # Unknown kids do not hammer identity: at most one fetch per refresh interval.
    stray = jwt.encode(ring.claims(), ring.private["k1"], algorithm="EdDSA", headers={"kid": "k-stray"})
    await asyncio.sleep(0.25)
    for _ in range(5):
        assert await reason_of(verifier, stray) == "TOKEN_INVALID"
    assert ring.fetches == 2

    ring.new_key("k2")  # identity rotates: the new key signs, the old one still verifies
    await asyncio.sleep(0.25)
    new_token = ring.token("k2", jti="token-2")
    assert (await verifier.verify(new_token)).token_id == "token-2"
    assert ring.fetches == 3
    assert (await verifier.verify(old_token)).token_id == "token-1"
    assert ring.fetches == 3


async def test_a_cache_made_right_after_start_fetches_at_once(ring: KeyRing, clock_file: Path) -> None:
    # With the default interval the first unknown kid must still be fetched (no "last fetch" yet).
    cache = JwksCache(ring.fetch, refresh_interval=1e9)
    assert await cache.key("k1") is not None
    assert ring.fetches == 1
    cache.invalidate()
    ring.new_key("k2")
    assert await cache.key("k2") is not None
    assert ring.fetches == 2


async def test_a_verified_token_is_remembered_but_its_times_and_key_still_count(
    ring: KeyRing, clock_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = JwksCache(ring.fetch, refresh_interval=0)
    verifier = TokenVerifier(keys=cache, clock=OffsetFileClock(clock_file))
    decoded = 0
    real_decode = jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        nonlocal decoded
        decoded += 1
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    token = ring.token("k1")
    first = await verifier.verify(token)
    for _ in range(3):
        assert await verifier.verify(token) == first
    assert decoded == 1  # the signature was checked once
    # A forged token differing in one signature character is not the remembered one.
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert await reason_of(verifier, tampered) == "TOKEN_INVALID"

    ring.published.clear()  # identity withdraws the key (a compromise): once the key set is fetched again,
    await cache.refresh()  # the remembered token stops counting
    assert await reason_of(verifier, token) == "TOKEN_INVALID"
