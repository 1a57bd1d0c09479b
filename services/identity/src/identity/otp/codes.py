"""Making and checking codes: 6 digits from the OS's CSPRNG, HMAC-SHA256 bound to the challenge."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(pepper: bytes, challenge_id: str, code: str) -> str:
    return hmac.new(pepper, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(pepper: bytes, challenge_id: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(code_hash(pepper, challenge_id, code), stored_hash)
