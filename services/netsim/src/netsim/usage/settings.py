"""The usage generator's settings: what they may be, checked where they enter.

``records_per_second`` 0 to :data:`MAX_RECORDS_PER_SECOND` (0 stops the
continuous generator), the kinds' weights finite and at least 0 (all 0: the
default mix, :data:`DEFAULT_MIX`), the roaming and international shares 0.0 to
1.0, at most :data:`MAX_PREFIXES` number prefixes, each the start of an E.164
number (``+7999``: a ``+``, a country code's first digit 1-9, up to 15 digits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from netsim.hlr.identifiers import normalize_msisdn_prefix
from simfleet_runtime.errors import InvalidArgument

MAX_RECORDS_PER_SECOND = 50_000
MAX_WEIGHT = 1_000_000.0
MAX_PREFIXES = 50
DEFAULT_MIX = (("voice", 0.45), ("sms", 0.2), ("data", 0.35))
"""The kinds' weights when every weight is 0."""


@dataclass(frozen=True)
class UsageSettings:
    """What the generator makes and how fast (validated: build it with :func:`validate_usage_settings`)."""

    records_per_second: float = 0.0
    voice_weight: float = 0.0
    sms_weight: float = 0.0
    data_weight: float = 0.0
    roaming_share: float = 0.0
    international_share: float = 0.0
    msisdn_prefixes: tuple[str, ...] = ()

    def weights(self) -> dict[str, float]:
        """The kinds' weights in force (the default mix when all are 0)."""
        given = {"voice": self.voice_weight, "sms": self.sms_weight, "data": self.data_weight}
        return given if any(given.values()) else dict(DEFAULT_MIX)


def _number(value: float, field: str, low: float, high: float, reason: str) -> float:
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidArgument(
            f"{field} must be between {low:g} and {high:g}",
            reason=reason,
            field_violations={field: f"{low:g} to {high:g}"},
        )
    return float(value)


def validate_prefixes(values: Sequence[str], *, field: str = "msisdn_prefixes") -> tuple[str, ...]:
    """Number prefixes normalised (``7999`` → ``+7999``) and de-duplicated, first kept; at most :data:`MAX_PREFIXES`."""
    if len(values) > MAX_PREFIXES:
        raise InvalidArgument(
            f"at most {MAX_PREFIXES} number prefixes",
            reason="TOO_MANY_MSISDN_PREFIXES",
            field_violations={field: f"at most {MAX_PREFIXES}"},
        )
    prefixes: dict[str, None] = {}
    for index, value in enumerate(values):
        name = f"{field}[{index}]"
        prefix = normalize_msisdn_prefix(value, field=name)
        if len(prefix) < 2 or prefix[1] == "0":
            raise InvalidArgument(
                "a number prefix is a '+' and at least the first digit of a country code (1-9), e.g. +7999",
                reason="INVALID_MSISDN_PREFIX",
                field_violations={name: "not the start of an E.164 number"},
            )
        prefixes[prefix] = None
    return tuple(prefixes)


def validate_usage_settings(
    *,
    records_per_second: float,
    voice_weight: float,
    sms_weight: float,
    data_weight: float,
    roaming_share: float,
    international_share: float,
    msisdn_prefixes: Sequence[str],
) -> UsageSettings:
    """Check settings where they enter; raises :class:`InvalidArgument` naming the field."""
    return UsageSettings(
        records_per_second=_number(
            records_per_second, "records_per_second", 0, MAX_RECORDS_PER_SECOND, "INVALID_RECORDS_PER_SECOND"
        ),
        voice_weight=_number(voice_weight, "voice_weight", 0, MAX_WEIGHT, "INVALID_WEIGHT"),
        sms_weight=_number(sms_weight, "sms_weight", 0, MAX_WEIGHT, "INVALID_WEIGHT"),
        data_weight=_number(data_weight, "data_weight", 0, MAX_WEIGHT, "INVALID_WEIGHT"),
        roaming_share=_number(roaming_share, "roaming_share", 0, 1, "INVALID_SHARE"),
        international_share=_number(international_share, "international_share", 0, 1, "INVALID_SHARE"),
        msisdn_prefixes=validate_prefixes(msisdn_prefixes),
    )
