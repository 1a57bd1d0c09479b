"""IMSI, ICCID, APN and forwarding targets as the HLR accepts them.

Each check raises :class:`InvalidArgument` naming the field: the gRPC API
answers it as INVALID_ARGUMENT, provisioning turns it into a REJECTED item.
"""

from __future__ import annotations

import re

from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.validation import normalize_msisdn

_IMSI = re.compile(r"^\d{15}$")
_ICCID = re.compile(r"^89\d{17,18}$")
# Dot-separated labels of letters, digits and hyphens (3GPP TS 23.003 network identifier).
_APN = re.compile(r"^(?=.{1,100}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
_MSISDN_PREFIX = re.compile(r"^\+\d{0,15}$")

BLOCK_TYPES = ("voluntary", "lost_or_stolen", "financial", "scheduled")
"""The barrings BAR and UNBAR take."""
NOT_ACTIVATED = "not_activated"
"""The barring of a registered subscriber whose line is not live yet (lifted by ACTIVATE)."""
FORWARDING_CONDITIONS = ("unconditional", "busy", "no_answer", "unreachable")
HOME_COUNTRY_PREFIX = "+7"
"""Forwarding goes to numbers of the home country only."""


def normalize_imsi(value: str, *, field: str = "imsi") -> str:
    compact = (value or "").strip()
    if not _IMSI.match(compact):
        raise InvalidArgument(
            "the IMSI must be 15 digits", reason="INVALID_IMSI", field_violations={field: "not 15 digits"}
        )
    return compact


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def normalize_iccid(value: str, *, field: str = "iccid") -> str:
    """19 or 20 digits starting 89 (telecom), with a valid Luhn check digit; spaces dropped."""
    compact = re.sub(r"\s", "", value or "")
    if not _ICCID.match(compact) or not luhn_ok(compact):
        raise InvalidArgument(
            "the ICCID must be 19 or 20 digits starting with 89, with a valid check digit",
            reason="INVALID_ICCID",
            field_violations={field: "not a valid ICCID"},
        )
    return compact


def normalize_apn(value: str, *, field: str = "apn") -> str:
    """An access point name such as ``internet`` or ``corp.example.ru``, lower-cased."""
    compact = (value or "").strip().lower()
    if not _APN.match(compact):
        raise InvalidArgument(
            "the APN must be labels of letters, digits and hyphens separated by dots, at most 100 characters",
            reason="INVALID_APN",
            field_violations={field: "not an access point name"},
        )
    return compact


def normalize_forwarding_target(value: str, *, field: str = "target") -> str:
    number = normalize_msisdn(value, field=field)
    if not number.startswith(HOME_COUNTRY_PREFIX):
        raise InvalidArgument(
            f"calls can be forwarded only to numbers starting {HOME_COUNTRY_PREFIX}",
            reason="INVALID_FORWARDING_TARGET",
            field_violations={field: f"not a number starting {HOME_COUNTRY_PREFIX}"},
        )
    return number


def normalize_msisdn_prefix(value: str, *, field: str = "msisdn_prefix") -> str:
    """The start of an E.164 number (``+7999``); a missing ``+`` is added. Empty stays empty."""
    compact = re.sub(r"[\s\-()]", "", value or "")
    if not compact:
        return ""
    if not compact.startswith("+"):
        compact = "+" + compact
    if not _MSISDN_PREFIX.match(compact):
        raise InvalidArgument(
            "the number prefix must be a '+' and up to 15 digits, e.g. +7999",
            reason="INVALID_MSISDN_PREFIX",
            field_violations={field: "not the start of an E.164 number"},
        )
    return compact
