"""The options a line may have (SIM-7, SIM-14), what they cost, and which tariff allows or includes which.

Every network service (``voice``, ``sms``, ``data``, ``roaming``,
``international``: simfleet_runtime.operation_params.SERVICES) is an option
with a monthly fee, charged like a tariff's fee, a day at a time, from the
day it is connected to the day it is disconnected. An option a tariff
*includes* costs nothing on it; one it does not *allow* cannot be on a line of
that tariff. An option may need another: international calls and texts need
voice or SMS, roaming needs one of voice, SMS and data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from billing.catalogue.plans import DATA, SMS, VOICE

ROAMING: Final = "roaming"
INTERNATIONAL: Final = "international"
OPTION_CODES: Final = (VOICE, SMS, DATA, ROAMING, INTERNATIONAL)
"""In the order lines list their services (the runtime's SERVICES)."""


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    name: str
    currency: str
    # Per month, in the currency's minor units, on a tariff that does not include it.
    monthly_fee: int
    # At least one of these must be connected too (empty: needs nothing).
    requires_any: tuple[str, ...] = ()


OPTIONS: Final[dict[str, Option]] = {
    option.code: option
    for option in (
        Option(VOICE, "Voice calls", "RUB", 0),
        Option(SMS, "SMS", "RUB", 0),
        Option(DATA, "Mobile data", "RUB", 0),
        Option(ROAMING, "Roaming", "RUB", 4900, requires_any=(VOICE, SMS, DATA)),
        Option(INTERNATIONAL, "International calls and SMS", "RUB", 9900, requires_any=(VOICE, SMS)),
    )
}


@dataclass(frozen=True, slots=True)
class TariffOptions:
    """Which options a tariff allows, and which of them its monthly fee includes."""

    allowed: frozenset[str]
    included: frozenset[str]


_EVERYTHING: Final = frozenset(OPTION_CODES)
_BASIC: Final = frozenset({VOICE, SMS, DATA})

TARIFF_OPTIONS: Final[dict[str, TariffOptions]] = {
    "BIZ-S": TariffOptions(allowed=_EVERYTHING, included=_BASIC),
    "BIZ-M": TariffOptions(allowed=_EVERYTHING, included=_BASIC | {ROAMING}),
    "BIZ-L": TariffOptions(allowed=_EVERYTHING, included=_EVERYTHING),
    # A machine's SIM: no calls, so nothing international either; SMS and data, at home and abroad.
    "IOT-S": TariffOptions(allowed=frozenset({SMS, DATA, ROAMING}), included=frozenset({SMS, DATA})),
}

DEFAULT_OPTIONS: Final = TariffOptions(allowed=_EVERYTHING, included=_BASIC)
"""A tariff the table does not name (a later addition to the catalogue) allows everything and includes the basics."""


def options_of(tariff_code: str) -> TariffOptions:
    return TARIFF_OPTIONS.get(tariff_code, DEFAULT_OPTIONS)


def option_fee(tariff_code: str, option_code: str) -> int:
    """What ``option_code`` costs a month on ``tariff_code``: nothing when the tariff includes it."""
    option = OPTIONS.get(option_code)
    if option is None or option_code in options_of(tariff_code).included:
        return 0
    return option.monthly_fee
