"""PUK codes, checked where they enter (ICCIDs and IMSIs: :mod:`simfleet_runtime.validation`)."""

from __future__ import annotations

import re

from simfleet_runtime.errors import InvalidArgument

_PUK = re.compile(r"^\d{8}$")


def normalize_puk(value: str, *, field: str) -> str:
    compact = (value or "").strip()
    if not _PUK.match(compact):
        raise InvalidArgument("a PUK code is 8 digits", reason="INVALID_PUK", field_violations={field: "not 8 digits"})
    return compact
