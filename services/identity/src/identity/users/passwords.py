"""Password rules and argon2id hashing.

The rules (a :class:`PasswordPolicy`): 10 to 128 characters, at least one
letter and one digit, at least 5 different characters, not the phone number's
digits, not a well-known password, and not the current one. Hashing is
argon2id (RFC 9106 parameters from settings), run in a worker thread so the
event loop keeps serving while a hash is computed.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type

from simfleet_runtime.errors import InvalidArgument

COMMON = frozenset(
    {
        "password1", "password12", "password123", "password1234", "qwerty1234", "qwertyuiop1",
        "1234567890a", "a1234567890", "iloveyou123", "welcome123", "admin12345", "letmein123",
        "abc1234567", "1q2w3e4r5t", "1qaz2wsx3edc", "zaq12wsxcde", "passw0rd123", "p@ssw0rd123",
    }
)  # fmt: skip


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 10
    max_length: int = 128

    def problems(self, password: str, *, phone: str = "") -> list[str]:
        found: list[str] = []
        if len(password) < self.min_length:
            found.append(f"must be at least {self.min_length} characters")
        if len(password) > self.max_length:
            found.append(f"must be at most {self.max_length} characters")
        if not re.search(r"[^\W\d_]", password):
            found.append("must contain a letter")
        if not re.search(r"\d", password):
            found.append("must contain a digit")
        if len(set(password)) < 5:
            found.append("must use at least 5 different characters")
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 7 and digits[-7:] in re.sub(r"\D", "", password):
            found.append("must not contain the phone number")
        if password.lower() in COMMON:
            found.append("is too common")
        return found

    def check(self, password: str, *, phone: str = "", field: str = "new_password") -> None:
        problems = self.problems(password, phone=phone)
        if problems:
            raise InvalidArgument(
                "the password does not meet the rules: " + "; ".join(problems),
                reason="PASSWORD_TOO_WEAK",
                field_violations={field: "; ".join(problems)},
            )


class PasswordHashing:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._dummy = self._hasher.hash("simfleet-timing-equaliser")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; takes as long for a missing hash (no user)."""
        target = password_hash or self._dummy
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok) and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
