"""APNs, forwarding targets and number prefixes as the HLR accepts them (IMSI, ICCID: the runtime's).

Each check raises :class:`InvalidArgument` naming the field: the gRPC API
answers it as INVALID_ARGUMENT, provisioning turns it into a REJECTED item.
"""

from __future__ import annotations

import re

from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.operation_params import SERVICES as SERVICES
from simfleet_runtime.validation import normalize_msisdn

# Dot-separated labels of letters, digits and hyphens (3GPP TS 23.003 network identifier).
_APN = re.compile(r"^(?=.{1,100}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
_MSISDN_PREFIX = re.compile(r"^\+\d{0,15}$")

BLOCK_TYPES = ("voluntary", "lost_or_stolen", "financial", "scheduled")
"""The barrings BAR and UNBAR take."""
NOT_ACTIVATED = "not_activated"
"""The barring of a registered subscriber whose line is not live yet (lifted by ACTIVATE)."""
FORWARDING_CONDITIONS = ("unconditional", "busy", "no_answer", "unreachable")
# SERVICES, the services the network lets a subscriber use (SET_SERVICES), are the runtime's: inventory checks an
# operation's services against the same list, and billing sells each as an option.
DEFAULT_SERVICES = ("voice", "sms", "data")
"""The services of a subscriber registered without any."""
HOME_COUNTRY_PREFIX = "+7"
"""Forwarding goes to numbers of the home country only."""


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


def parse_services(value: str, *, field: str = "services") -> list[str]:
    """Comma-separated service names ("" for none) → the known ones, de-duplicated, in :data:`SERVICES`' order."""
    names = {part.strip().lower() for part in (value or "").split(",")} - {""}
    unknown = sorted(names - set(SERVICES))
    if unknown:
        shown = ", ".join(repr(n if len(n) <= 20 else n[:20] + "…") for n in unknown[:5])
        raise InvalidArgument(
            f"unknown service {shown}: the services are {', '.join(SERVICES)}",
            reason="UNKNOWN_SERVICE",
            field_violations={field: f"comma-separated, of {', '.join(SERVICES)}"},
        )
    return [name for name in SERVICES if name in names]


def services_of(stored: list[str] | None) -> list[str]:
    """A subscriber's services as stored (None: never given, the default ones)."""
    return list(DEFAULT_SERVICES) if stored is None else list(stored)
