"""Secrets at rest: AES-256-GCM with associated data.

A sealed value is ``nonce (12 bytes) || ciphertext || tag``. The associated
data binds it to its place (a PUK to its ICCID, an outbox payload to its event
id): a sealed value copied to another row does not open there.

The key is a setting holding base64 of 32 bytes. Without one, a fixed local key
is derived from a label and a warning logged: fine on a laptop, so the charts
require the setting.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

NONCE_BYTES = 12
KEY_BYTES = 32


class SealError(Exception):
    """A sealed value does not open: another key, another place, or altered bytes."""


class Sealer:
    def __init__(self, key: bytes, *, warning: str = "") -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a sealing key is {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self._warning = warning  # logged once, when the sealer is first used

    @classmethod
    def from_setting(cls, key_b64: str, *, setting: str, local_label: str) -> Sealer:
        """The sealer of a base64 key setting; an empty setting derives a local-only key from ``local_label``.

        The local key is announced (a warning) when it first seals or opens
        something: a service that never does has nothing to warn about.
        """
        if not key_b64:
            warning = f"{setting} is not set: secrets at rest are encrypted with a local-only key"
            return cls(hashlib.sha256(local_label.encode()).digest(), warning=warning)
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"{setting} must be base64 of {KEY_BYTES} bytes") from exc
        if len(key) != KEY_BYTES:
            raise ValueError(f"{setting} must be base64 of {KEY_BYTES} bytes")
        return cls(key)

    def _warn_once(self) -> None:
        if self._warning:
            log.warning(self._warning)
            self._warning = ""

    def seal(self, plain: bytes, associated: bytes) -> bytes:
        self._warn_once()
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, associated)

    def open(self, sealed: bytes, associated: bytes) -> bytes:
        self._warn_once()
        if len(sealed) < NONCE_BYTES + 16:
            raise SealError("the sealed value is too short")
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
        except InvalidTag as exc:
            raise SealError("the sealed value does not open with this key and place") from exc
