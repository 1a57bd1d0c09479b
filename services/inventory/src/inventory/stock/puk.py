"""PUK codes at rest: AES-256-GCM, the ICCID bound in as associated data.

The key comes from ``INVENTORY_PUK_KEY`` (base64 of 32 bytes). Without one, a
fixed local key is derived and a warning logged: fine on a laptop, refused by
nothing, so the charts require the setting.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

NONCE_BYTES = 12


class PukVault:
    def __init__(self, key_b64: str) -> None:
        if key_b64:
            try:
                key = base64.b64decode(key_b64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError("INVENTORY_PUK_KEY must be base64 of 32 bytes") from exc
            if len(key) != 32:
                raise ValueError("INVENTORY_PUK_KEY must be base64 of 32 bytes")
        else:
            log.warning("INVENTORY_PUK_KEY is not set: PUK codes are encrypted with a local-only key")
            key = hashlib.sha256(b"simfleet-inventory-local-puk-key").digest()
        self._aead = AESGCM(key)

    def seal(self, iccid: str, puk1: str, puk2: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps({"puk1": puk1, "puk2": puk2}, separators=(",", ":")).encode()
        return nonce + self._aead.encrypt(nonce, plain, iccid.encode())

    def open(self, iccid: str, sealed: bytes) -> tuple[str, str]:
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        data = json.loads(self._aead.decrypt(nonce, body, iccid.encode()))
        return str(data["puk1"]), str(data["puk2"])
