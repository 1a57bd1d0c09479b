"""Mailbox names: the one rule by which the sink files mail and the readers find it."""

from __future__ import annotations

import re

from netsim.smtp.models import ADDRESS_MAX
from simfleet_runtime.errors import InvalidArgument

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def mailbox_key(address: str, *, field: str = "address") -> str:
    """``Manager@Demo.Example`` and ``<manager@demo.example>`` are the same mailbox."""
    key = (address or "").strip().strip("<>").strip().lower()
    if len(key) > ADDRESS_MAX or not _ADDRESS.match(key):
        raise InvalidArgument(
            "not an email address",
            reason="INVALID_EMAIL",
            field_violations={field: "expected local-part@domain"},
        )
    return key
