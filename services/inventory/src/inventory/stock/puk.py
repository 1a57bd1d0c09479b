"""PUK codes at rest: AES-256-GCM (:mod:`simfleet_runtime.sealing`), the ICCID bound in as associated data.

The key comes from ``INVENTORY_PUK_KEY`` (base64 of 32 bytes). Without one, a
fixed local key is derived and a warning logged: fine on a laptop, refused by
nothing, so the charts require the setting.
"""

from __future__ import annotations

import json

from simfleet_runtime.sealing import Sealer


class PukVault:
    def __init__(self, key_b64: str) -> None:
        self._sealer = Sealer.from_setting(
            key_b64, setting="INVENTORY_PUK_KEY", local_label="simfleet-inventory-local-puk-key"
        )

    def seal(self, iccid: str, puk1: str, puk2: str) -> bytes:
        plain = json.dumps({"puk1": puk1, "puk2": puk2}, separators=(",", ":")).encode()
        return self._sealer.seal(plain, iccid.encode())

    def open(self, iccid: str, sealed: bytes) -> tuple[str, str]:
        data = json.loads(self._sealer.open(sealed, iccid.encode()))
        return str(data["puk1"]), str(data["puk2"])
